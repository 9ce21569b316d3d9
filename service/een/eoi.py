"""Expression-of-interest (EOI) drafts for an EEN advisor.

A match run whose source is an EEN profile returns local organisations. For
one of them (the client), :func:`draft` gathers what an advisor files as an
EOI: the EEN profile, the client, why they fit, the proposed partnership, and
placeholders for what only a person can add. :func:`as_text` renders it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from schemas.codes import CZ_REGIONS
from service.een.mapping import PUBLISHED, TYPE_LABELS, parse_date, public_view

__all__ = ["PLACEHOLDER_MARK", "as_text", "draft"]

PLACEHOLDER_MARK = "[TO COMPLETE:"
KIND_LABELS = {"company": "company", "research": "research organisation"}
SIZE_LABELS = {
    "micro": "micro (fewer than 10 employees)",
    "small": "small (10-49 employees)",
    "medium": "medium (50-249 employees)",
    "large": "large (250 or more employees)",
}
_EVIDENCE = (
    # explanation key, EEN side, client side, reading
    ("need_offer", "need_sentence", "offer_sentence", "The EEN profile seeks", "{} offers"),
    ("offer_need", "offer_sentence", "need_sentence", "The EEN profile offers", "{} seeks"),
    ("domain", "source_sentence", "target_sentence", "The EEN profile works on", "{} works on"),
)


def draft(
    een_profile: dict[str, Any],
    result: dict[str, Any],
    client: dict[str, Any],
    *,
    now: datetime | None = None,
) -> dict[str, Any]:
    """An EOI draft (JSON-serialisable) for ``client``, matched as ``result`` to ``een_profile``.

    ``een_profile`` has ``id, title, offers, needs, external_ref, details``; ``result``
    is one MatchResult as JSON; ``client`` an OrganizationRead as JSON. With ``now``,
    an expired profile or a passed deadline gives a warning.
    Raises ``ValueError`` when ``result`` is about another organisation than ``client``.
    """
    details = _dict(een_profile.get("details"))
    matched = _dict(result.get("organization"))
    if (
        matched.get("id") is not None
        and client.get("id") is not None
        and matched["id"] != client["id"]
    ):
        raise ValueError(
            f"the match result is for organisation {matched['id']}, the client is {client['id']}"
        )
    name = _str(client.get("name")) or _str(matched.get("name")) or "the organisation"
    profile_type = _str(details.get("type"))
    explanation = _dict(result.get("explanation"))
    return {
        "een_profile": {
            "profile_id": een_profile.get("id"),
            "reference": _str(een_profile.get("external_ref")) or _str(details.get("reference")),
            "type": profile_type,
            "type_label": TYPE_LABELS.get(profile_type or ""),
            "title": _str(een_profile.get("title")) or _str(details.get("title")),
            "owner": public_view(details),
            "funding_call": _str(details.get("funding_call")),
            "deadline": _str(details.get("deadline")),
            "expires_at": _str(details.get("expires_at")),
            "open_for_eoi": details.get("open_for_eoi")
            if isinstance(details.get("open_for_eoi"), bool)
            else None,
            "status": _str(details.get("status")),
        },
        "interested_organization": {
            "id": client.get("id", matched.get("id")),
            "name": name,
            "ico": _str(client.get("ico")),
            "country": _str(client.get("country")) or _str(matched.get("country")),
            "region": _str(client.get("region")) or _str(matched.get("region")),
            "size": _str(client.get("size")),
            "kind": _str(client.get("kind")) or _str(matched.get("kind")),
            "website": _str(client.get("website")),
            "nace": _strings(client.get("nace")),
        },
        "match": {
            "rank": result.get("rank"),
            "score": result.get("score"),
            "profile_id": result.get("profile_id"),
            "summary": _str(explanation.get("summary")),
            "evidence": _evidence(explanation, name),
            "shared_keywords": _strings(explanation.get("shared_keywords")),
            "shared_concepts": _concepts(explanation.get("shared_concepts")),
        },
        "proposed_partnership_types": _strings(details.get("partnership_types")),
        "to_complete": {
            "contact_person": f"{PLACEHOLDER_MARK} contact person at {name}: name, position, "
            "e-mail, phone]",
            "message_to_owner": f"{PLACEHOLDER_MARK} message to the profile owner: what {name} "
            "brings, what it expects, next step]",
        },
        "warnings": _warnings(details, now),
    }


def as_text(eoi: dict[str, Any]) -> str:
    """Plain text of a :func:`draft`, with headings, for pasting into an EOI form."""
    een = _dict(eoi.get("een_profile"))
    org = _dict(eoi.get("interested_organization"))
    match = _dict(eoi.get("match"))
    owner = _dict(een.get("owner"))
    lines = _heading("Expression of interest (draft)", "=")
    lines += _heading("EEN profile")
    type_text = f"{_cap(een.get('type_label'))} ({een['type']})" if een.get("type") else None
    owner_text = ", ".join(str(v) for v in owner.values() if v)
    open_for_eoi = een.get("open_for_eoi")
    open_text = None if open_for_eoi is None else ("yes" if open_for_eoi else "no")
    lines += _rows(
        ("Reference", een.get("reference")),
        ("Type", type_text),
        ("Title", een.get("title")),
        ("Owner", owner_text),
        ("Funding call", een.get("funding_call")),
        ("Deadline", een.get("deadline")),
        ("Expires", een.get("expires_at")),
        ("Open for EOI", open_text),
    )
    lines += _heading("Interested organisation")
    region = org.get("region")
    lines += _rows(
        ("Name", org.get("name")),
        ("IČO", org.get("ico")),
        ("Country", org.get("country")),
        ("Region", f"{region} {CZ_REGIONS[region]}" if region in CZ_REGIONS else region),
        ("Size", SIZE_LABELS.get(org.get("size") or "", org.get("size"))),
        ("Type", KIND_LABELS.get(org.get("kind") or "", org.get("kind"))),
        ("Website", org.get("website")),
        ("NACE", ", ".join(org.get("nace") or [])),
    )
    lines += _heading("Why it fits")
    lines.append(f"Match rank {match.get('rank')}, score {_number(match.get('score'))}.")
    if match.get("summary"):
        lines += ["", str(match["summary"])]
    for item in match.get("evidence") or []:
        lines += [
            "",
            f"{item['een_label']}: “{item['een_sentence']}”",
            f"{item['client_label']}: “{item['client_sentence']}”",
            f"(similarity {_number(item.get('similarity'), 2)})",
        ]
    shared = _rows(
        ("Shared keywords", ", ".join(match.get("shared_keywords") or [])),
        ("Shared concepts", ", ".join(match.get("shared_concepts") or [])),
    )
    lines += ["", *shared] if shared else []
    lines += _heading("Proposed partnership types")
    types = eoi.get("proposed_partnership_types") or []
    lines += [f"- {t}" for t in types] or ["- (none given in the EEN profile)"]
    lines += _heading("To complete by the advisor")
    todo = _dict(eoi.get("to_complete"))
    lines += [
        f"Contact person: {todo.get('contact_person')}",
        f"Message to the profile owner: {todo.get('message_to_owner')}",
    ]
    if eoi.get("warnings"):
        lines += _heading("Warnings")
        lines += [f"- {warning}" for warning in eoi["warnings"]]
    while lines and not lines[0]:
        lines.pop(0)
    return "\n".join(lines).rstrip() + "\n"


def _evidence(explanation: dict[str, Any], name: str) -> list[dict[str, Any]]:
    found = []
    for key, een_key, client_key, een_label, client_label in _EVIDENCE:
        pair = _dict(explanation.get(key))
        een_sentence, client_sentence = _str(pair.get(een_key)), _str(pair.get(client_key))
        if een_sentence and client_sentence:
            found.append(
                {
                    "relation": key,
                    "een_label": een_label,
                    "een_sentence": een_sentence,
                    "client_label": client_label.format(name),
                    "client_sentence": client_sentence,
                    "similarity": pair.get("similarity"),
                }
            )
    return found


def _concepts(value: Any) -> list[str]:
    labels = []
    for concept in value if isinstance(value, list) else []:
        if isinstance(concept, dict) and isinstance(concept.get("en"), str):
            en, cs = concept["en"], concept.get("cs")
            labels.append(en if not isinstance(cs, str) or cs == en else f"{en} ({cs})")
    return labels


def _warnings(details: dict[str, Any], now: datetime | None) -> list[str]:
    warnings = []
    if details.get("open_for_eoi") is False:
        warnings.append("The EEN profile is not open for expressions of interest.")
    status = _str(details.get("status"))
    if status and status.upper() != PUBLISHED:
        warnings.append(f"The EEN profile's status is {status}.")
    if now is not None:
        now = now if now.tzinfo is not None else now.replace(tzinfo=UTC)
        for key, what in (("deadline", "deadline"), ("expires_at", "expiry date")):
            value = _str(details.get(key))
            try:
                passed = value is not None and parse_date(value) <= now
            except ValueError:
                passed = False
            if passed:
                warnings.append(f"The EEN profile's {what} ({value}) has passed.")
    return warnings


def _heading(title: str, underline: str = "-") -> list[str]:
    return ["", title, underline * len(title)]


def _rows(*rows: tuple[str, Any]) -> list[str]:
    given = [(label, value) for label, value in rows if value not in (None, "", [])]
    width = max((len(label) for label, _ in given), default=0) + 2
    return [f"{label + ':':<{width}}{value}" for label, value in given]


def _number(value: Any, digits: int = 3) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{value:.{digits}f}"
    return "n/a"


def _cap(value: Any) -> str:
    text = str(value or "")
    return text[:1].upper() + text[1:]


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _strings(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []

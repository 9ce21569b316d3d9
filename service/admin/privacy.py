"""Erasure of a person's data on request (GDPR art. 17).

Contacts of the person are deleted. Where the person appears in the follow-up
record — as an opportunity's owner, as who made a change or was assigned, in a
note, in a free-text match query and the explanations quoting it, in a stored
idempotent response — the text is replaced by ``[erased]`` (the record itself
stays, so the figures stay true). The audit shows that an erasure happened and
what kinds of records it touched, never whom.

Matching is done in Python (``casefold``), not in SQL, because SQLite's
``lower()`` knows only A-Z and Czech names are full of Š, Č and Ř.
"""

from __future__ import annotations

import re
from typing import Any

from sqlmodel import Session, col, select

from schemas.access import ErasureRequest, ErasureResult
from service import audit
from service.models import (
    Contact,
    IdempotencyRecord,
    Match,
    MatchRun,
    Opportunity,
    OpportunityEvent,
    utcnow,
)

ERASED = "[erased]"


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value)


def _same(value: str | None, term: str | None) -> bool:
    return bool(value and term and value.strip().casefold() == term.casefold())


def _is_person(contact: Contact, request: ErasureRequest) -> bool:
    return (
        _same(contact.email, request.email)
        or _same(contact.name, request.name)
        or bool(
            request.phone and contact.phone and _digits(contact.phone) == _digits(request.phone)
        )
    )


class _Redactor:
    """Replaces every mention of the person's e-mail, phone and name."""

    def __init__(self, request: ErasureRequest) -> None:
        terms = [term for term in (request.email, request.phone, request.name) if term]
        self.pattern = re.compile("|".join(re.escape(t) for t in terms), re.IGNORECASE)
        self.request = request

    def mentions(self, text: str | None) -> bool:
        return bool(text and self.pattern.search(text))

    def text(self, text: str) -> str:
        return self.pattern.sub(ERASED, text)

    def value(self, value: Any) -> Any:
        """Redact every string inside a JSON value."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.value(item) for item in value]
        if isinstance(value, dict):
            return {key: self.value(item) for key, item in value.items()}
        return value

    def is_person(self, value: str | None) -> bool:
        """A whole field naming the person (actor, owner): compared exactly."""
        return _same(value, self.request.name) or _same(value, self.request.email)


def _contacts(session: Session, request: ErasureRequest) -> int:
    contacts = [c for c in session.exec(select(Contact)) if _is_person(c, request)]
    for contact in contacts:
        session.delete(contact)
    return len(contacts)


def _owners(session: Session, redactor: _Redactor) -> int:
    owned = [
        o
        for o in session.exec(select(Opportunity).where(col(Opportunity.owner).is_not(None)))
        if redactor.is_person(o.owner)
    ]
    for opportunity in owned:
        opportunity.owner = None
        opportunity.version += 1
        opportunity.updated_at = utcnow()
        session.add(opportunity)
    return len(owned)


def _events(session: Session, redactor: _Redactor) -> int:
    changed = 0
    for item in session.exec(select(OpportunityEvent)):
        whole = [redactor.is_person(v) for v in (item.actor, item.from_value, item.to_value)]
        if not any(whole) and not redactor.mentions(item.text):
            continue
        if whole[0]:
            item.actor = ERASED
        if whole[1]:
            item.from_value = ERASED
        if whole[2]:
            item.to_value = ERASED
        if item.text is not None:
            item.text = redactor.text(item.text)
        session.add(item)
        changed += 1
    return changed


def _match_runs(session: Session, redactor: _Redactor) -> int:
    runs = [
        run
        for run in session.exec(select(MatchRun).where(col(MatchRun.query_text).is_not(None)))
        if redactor.mentions(run.query_text)
    ]
    for run in runs:
        run.query_text = redactor.text(run.query_text or "")
        session.add(run)
        for match in session.exec(select(Match).where(Match.run_id == run.id)):
            match.explanation = redactor.value(match.explanation)  # quotes the query
            session.add(match)
    return len(runs)


def _stored_responses(session: Session, redactor: _Redactor) -> int:
    found = [
        record
        for record in session.exec(select(IdempotencyRecord))
        if redactor.mentions(record.body.decode("utf-8", errors="replace"))
    ]
    for record in found:
        session.delete(record)
    return len(found)


def erase(session: Session, request: ErasureRequest) -> ErasureResult:
    """Erase everything stored about one person; returns how many records changed."""
    redactor = _Redactor(request)
    result = ErasureResult(
        contacts=_contacts(session, request),
        opportunities=_owners(session, redactor),
        events=_events(session, redactor),
        match_runs=_match_runs(session, redactor),
        stored_responses=_stored_responses(session, redactor),
    )
    audit.record(
        session,
        "erase",
        "person",
        None,
        [name for name, count in result.model_dump().items() if count],
    )
    session.flush()
    return result

"""Running an import job: parse, then upsert and embed in batches.

Organisations are found again by IČO, ROR id, a profile's external reference
or, failing those, by name and country; profiles within an organisation by
external reference, else by title. A row that changes nothing is counted
``unchanged`` and costs no embedding, so importing a file twice changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from matching.text import fold
from schemas.organizations import ProfileCreate
from service import audit
from service.auth import access, keys
from service.auth.principal import COMMAND_LINE, Principal
from service.engine import MatchEngine
from service.errors import AppError
from service.imports import formats
from service.imports.formats import ParsedRow, ProfileExtras, RowError
from service.jobs import MAX_ERRORS, JobContext
from service.models import ApiKey, Contact, Organization, Profile, utcnow
from service.organizations import service as organizations

log = logging.getLogger(__name__)

BATCH = 64  # rows per transaction and per embedding call
ORGANIZATION_FIELDS = ("kind", "name", "ico", "ror", "country", "region", "nace", "size", "website")
PROFILE_FIELDS = ("title", "offers", "needs", "keywords", "markets", "public")


class RowProblem(Exception):
    """A row that cannot be stored as it is."""

    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass
class Tally:
    """A job's counts and errors as it goes."""

    total: int = 0
    done: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)

    def fail(self, errors: Sequence[RowError]) -> None:
        self.failed += 1
        room = MAX_ERRORS - len(self.errors)
        self.errors.extend(error.as_dict() for error in errors[: max(room, 0)])

    def count(self, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)

    def fields(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "done": self.done,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "failed": self.failed,
            "errors": list(self.errors),
        }


def principal_of_job(context: JobContext) -> Principal:
    """Who queued the job (the command line when no key did)."""
    key_id = context.job.created_by_key_id
    if key_id is None:
        return COMMAND_LINE
    with Session(context.db_engine) as session:
        row = session.get(ApiKey, key_id)
        assert row is not None
        return keys.principal_of(row)


def run_import(context: JobContext, engine: MatchEngine) -> None:
    """The handler of ``import`` jobs."""
    job = context.job
    principal = principal_of_job(context)
    rows = list(formats.read(job.format or "csv", context.content(), now=utcnow()))
    tally = Tally(total=len(rows))
    context.progress(**tally.fields())
    seen: dict[tuple[str, ...], int] = {}
    for start in range(0, len(rows), BATCH):
        batch = rows[start : start + BATCH]
        valid: list[ParsedRow] = []
        for parsed in batch:
            if isinstance(parsed, list):
                tally.fail(parsed)
                continue
            first = next((seen[key] for key in _identities(parsed) if key in seen), None)
            if first is not None:
                tally.fail([RowError(parsed.row, None, f"the same as row {first}")])
                continue
            seen.update((key, parsed.row) for key in _identities(parsed))
            valid.append(parsed)
        store_batch(engine, principal, valid, tally)
        tally.done += len(batch)
        context.progress(**tally.fields())


def _identities(parsed: ParsedRow) -> list[tuple[str, ...]]:
    """Keys under which a row's organisation-and-profile is unique within one file."""
    org = parsed.organization
    who = (
        ("ico", org.ico)
        if org.ico
        else ("ror", org.ror)
        if org.ror
        else ("name", fold(org.name), org.country)
    )
    keys_: list[tuple[str, ...]] = []
    for profile, extras in zip(org.profiles, parsed.extras, strict=True):
        what = extras.external_ref or fold(profile.title or "")
        keys_.append((*who, what))
    return keys_ or [tuple(who)]


def store_batch(
    engine: MatchEngine, principal: Principal, rows: Sequence[ParsedRow], tally: Tally
) -> None:
    """Upsert rows and embed what changed, in one transaction; when a concurrent writer
    breaks a unique rule, again row by row so only that row fails."""
    if not rows:
        return
    try:
        _store(engine, principal, rows, tally)
    except IntegrityError:
        for row in rows:
            try:
                _store(engine, principal, [row], tally)
            except IntegrityError:
                tally.fail([RowError(row.row, None, "conflicts with a change made meanwhile")])


def _store(
    engine: MatchEngine,
    principal: Principal,
    rows: Sequence[ParsedRow],
    tally: Tally,
) -> None:
    outcomes: list[tuple[ParsedRow, str]] = []
    failures: list[RowError] = []
    with Session(engine.db_engine, expire_on_commit=False) as session:
        audit.attach(session, principal)
        changed: list[Profile] = []
        for row in rows:
            try:
                outcome, profiles = upsert(session, principal, row)
            except RowProblem as problem:
                failures.append(RowError(row.row, problem.field, problem.message))
                continue
            outcomes.append((row, outcome))
            changed += profiles
        session.flush()
        engine.embed_profiles(session, sorted({p.id for p in changed if p.id is not None}))
        session.commit()
    for failure in failures:
        tally.fail([failure])
    for _, outcome in outcomes:
        tally.count(outcome)


def upsert(session: Session, principal: Principal, row: ParsedRow) -> tuple[str, list[Profile]]:
    """Store one row: ``created``, ``updated`` or ``unchanged``, and the profiles whose
    index entries must change."""
    body = row.organization
    organization = find_organization(session, row)
    given = body.model_fields_set
    region = body.region if "region" in given or organization is None else organization.region
    try:
        if organization is not None and not access.full_view(principal, organization):
            raise RowProblem(None, f"organisation {organization.id} is outside this key's reach")
        access.require_region(principal, region)
    except AppError as exc:
        raise RowProblem("region", exc.detail) from None
    if organization is None:
        organization = Organization(
            **{name: getattr(body, name) for name in ORGANIZATION_FIELDS},
            name_folded=fold(body.name),
            created_by_key_id=principal.key_id,
        )
        session.add(organization)
        session.flush()
        created = True
        org_changed = True
    else:
        created = False
        org_changed = _apply(
            organization,
            {name: getattr(body, name) for name in ORGANIZATION_FIELDS if name in given},
        )
        if org_changed:
            organization.name_folded = fold(organization.name)
            organization.version += 1
            organization.updated_at = utcnow()
            session.add(organization)
    assert organization.id is not None
    if created:  # nothing to compare with: no lookups
        session.add_all(
            Contact(organization_id=organization.id, **contact.model_dump())
            for contact in body.contacts
        )
        made = [
            _new_profile(organization.id, profile_body, extras, row.source)
            for profile_body, extras in zip(body.profiles, row.extras, strict=True)
        ]
        session.add_all(made)
        return "created", made
    contacts_changed = "contacts" in given and organizations.replace_contacts(
        session, organization.id, body.contacts
    )
    touched: list[Profile] = []
    for profile_body, extras in zip(body.profiles, row.extras, strict=True):
        profile, changed = _upsert_profile(
            session, organization.id, profile_body, extras, row.source
        )
        if changed:
            touched.append(profile)
    if org_changed:  # region, country or kind live in every index entry
        touched += session.exec(
            select(Profile).where(Profile.organization_id == organization.id)
        ).all()
    if org_changed or contacts_changed or touched:
        return "updated", touched
    return "unchanged", []


def find_organization(session: Session, row: ParsedRow) -> Organization | None:
    """The stored organisation a row describes, or None; a row naming two different
    stored organisations (by IČO and by ROR id, say) is a problem."""
    body = row.organization
    found: dict[str, Organization] = {}
    for name, column, value in (
        ("ico", Organization.ico, body.ico),
        ("ror", Organization.ror, body.ror),
    ):
        if value:
            match = session.exec(select(Organization).where(column == value)).first()
            if match is not None:
                found[name] = match
    for extras in row.extras:
        if extras.external_ref:
            profile = session.exec(
                select(Profile).where(Profile.external_ref == extras.external_ref)
            ).first()
            if profile is not None:
                owner = session.get(Organization, profile.organization_id)
                if owner is not None:
                    found["external_ref"] = owner
    ids = {org.id for org in found.values()}
    if len(ids) > 1:
        names = ", ".join(f"{name} → organisation {org.id}" for name, org in found.items())
        raise RowProblem(None, f"the row describes different stored organisations ({names})")
    if found:
        return next(iter(found.values()))
    if body.ico or body.ror:
        return None
    return session.exec(
        select(Organization)
        .where(
            Organization.name_folded == fold(body.name),
            Organization.country == body.country,
            col(Organization.ico).is_(None),
            col(Organization.ror).is_(None),
        )
        .order_by(col(Organization.id))
    ).first()


def _apply(target: Any, values: dict[str, Any]) -> bool:
    changed = False
    for name, value in values.items():
        if getattr(target, name) != value:
            setattr(target, name, value)
            changed = True
    return changed


def _find_profile(
    session: Session, organization_id: int, body: ProfileCreate, extras: ProfileExtras
) -> Profile | None:
    if extras.external_ref:
        return session.exec(
            select(Profile).where(Profile.external_ref == extras.external_ref)
        ).first()
    title = fold(body.title or "")
    for profile in session.exec(
        select(Profile).where(Profile.organization_id == organization_id).order_by(col(Profile.id))
    ):
        if fold(profile.title or "") == title and profile.external_ref is None:
            return profile
    return None


def _upsert_profile(
    session: Session,
    organization_id: int,
    body: ProfileCreate,
    extras: ProfileExtras,
    source: str,
) -> tuple[Profile, bool]:
    values = {name: getattr(body, name) for name in PROFILE_FIELDS if name in _given(body)}
    if extras.valid_until is not None:
        values["valid_until"] = extras.valid_until
    if extras.details is not None:
        values["details"] = extras.details
    profile = _find_profile(session, organization_id, body, extras)
    if profile is None:
        profile = _new_profile(organization_id, body, extras, source)
        session.add(profile)
        return profile, True
    if not _apply(profile, values):
        return profile, False
    profile.version += 1
    profile.updated_at = utcnow()
    session.add(profile)
    return profile, True


def _new_profile(
    organization_id: int, body: ProfileCreate, extras: ProfileExtras, source: str
) -> Profile:
    return Profile(
        organization_id=organization_id,
        source=source,
        external_ref=extras.external_ref,
        **{name: getattr(body, name) for name in PROFILE_FIELDS},
        valid_until=extras.valid_until,
        details=extras.details,
    )


def _given(body: ProfileCreate) -> Iterable[str]:
    # offers and needs always count: a row states the whole text of its profile
    return {*body.model_fields_set, "offers", "needs"}

"""Running an import job: parse, then upsert and embed in batches.

Organisations are found again by IČO, ROR id, a profile's external reference
or, failing those, by name and country; profiles within an organisation by
external reference, else by title. A row that changes nothing is counted
``unchanged`` and costs no embedding, so importing a file twice changes nothing.

A batch reads what its rows can name in a few queries up front and looks each row
up in memory (:class:`Batch`), writing in a few flushes: no row costs a query or a
flush of its own, so the model is what limits an import.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from matching.text import fold
from schemas.organizations import ContactFields, ProfileCreate
from service import audit
from service.auth import access, keys
from service.auth.principal import COMMAND_LINE, Principal
from service.engine import MatchEngine
from service.errors import AppError
from service.imports import formats
from service.imports.formats import ParsedRow, ProfileExtras, RowError
from service.jobs import MAX_ERRORS, JobContext
from service.models import ApiKey, Contact, Organization, Profile, utcnow
from service.organizations import repository
from service.organizations import service as organizations

log = logging.getLogger(__name__)

BATCH = 64  # rows per transaction and per embedding call
ORGANIZATION_FIELDS = ("kind", "name", "ico", "ror", "country", "region", "nace", "size", "website")
PROFILE_FIELDS = ("title", "offers", "needs", "keywords", "markets", "public")
UNSAVED = 0  # organisation id of a new contact or profile until ``Batch.flush`` sets it


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
        batch = Batch(session, rows)
        changed: list[Profile] = []
        for row in rows:
            try:
                outcome, profiles = upsert(batch, principal, row)
            except RowProblem as problem:
                failures.append(RowError(row.row, problem.field, problem.message))
                continue
            outcomes.append((row, outcome))
            changed += profiles
        batch.flush()
        engine.embed_profiles(session, sorted({p.id for p in changed if p.id is not None}))
        session.commit()
    for failure in failures:
        tally.fail([failure])
    for _, outcome in outcomes:
        tally.count(outcome)


@dataclass(eq=False)
class KnownOrganization:
    """An organisation as a batch knows it, stored or new, with its profiles (stored ones
    in id order, then new ones as made) and its contacts (None when not read)."""

    organization: Organization
    profiles: list[Profile]
    contacts: list[Contact] | None
    order: int
    pending: bool = False  # found or made by a row since the last flush


def _keys(organization: Organization) -> list[tuple[str, ...]]:
    """The lookup keys an organisation answers to now: its IČO, its ROR id, and, with
    neither, its folded name and country."""
    keys_: list[tuple[str, ...]] = []
    if organization.ico:
        keys_.append(("ico", organization.ico))
    if organization.ror:
        keys_.append(("ror", organization.ror))
    if organization.ico is None and organization.ror is None:
        keys_.append(("name", organization.name_folded, organization.country))
    return keys_


class Batch:
    """One batch's view of the database, for looking rows up without a query each.

    The stored organisations its rows can name (by IČO, ROR id, a profile's external
    reference, or folded name without either), their profiles and contacts are read in
    a few queries up front. Rows are then looked up in memory, each seeing what the rows
    before it changed and added, exactly as the database would answer it after the
    previous rows. Changes are written together by :meth:`flush`: new organisations
    first, then the new contacts and profiles, which need their ids. A row that finds an
    organisation an earlier row of the batch found or made flushes first, so every object
    is written, and audited, as each row left it (as when each row was flushed at once).
    """

    def __init__(self, session: Session, rows: Sequence[ParsedRow]) -> None:
        self.session = session
        self._by_key: dict[tuple[str, ...], list[KnownOrganization]] = {}
        self._by_ref: dict[str, tuple[Profile, KnownOrganization]] = {}
        self._new: list[tuple[KnownOrganization, Contact | Profile]] = []
        self._pending: list[KnownOrganization] = []
        self._count = 0
        self._read(rows)

    def _read(self, rows: Sequence[ParsedRow]) -> None:
        bodies = [row.organization for row in rows]
        icos = sorted({body.ico for body in bodies if body.ico})
        rors = sorted({body.ror for body in bodies if body.ror})
        names = sorted({fold(body.name) for body in bodies if not body.ico and not body.ror})
        refs = sorted({e.external_ref for row in rows for e in row.extras if e.external_ref})
        wanted = [
            condition
            for condition, values in (
                (col(Organization.ico).in_(icos), icos),
                (col(Organization.ror).in_(rors), rors),
                (
                    and_(
                        col(Organization.name_folded).in_(names),
                        col(Organization.ico).is_(None),
                        col(Organization.ror).is_(None),
                    ),
                    names,
                ),
            )
            if values
        ]
        found: dict[int, Organization] = {}
        if wanted:
            found = self._organizations(or_(*wanted))
        referenced = (
            list(self.session.exec(select(Profile).where(col(Profile.external_ref).in_(refs))))
            if refs
            else []
        )
        owners = sorted({profile.organization_id for profile in referenced} - set(found))
        if owners:
            found |= self._organizations(col(Organization.id).in_(owners))
        ids = sorted(found)
        profiles = repository.profiles_of(self.session, ids)
        contacts: dict[int, list[Contact]] = {}
        if any("contacts" in body.model_fields_set for body in bodies):
            contacts = repository.contacts_of(self.session, ids)
        known = {oid: self._know(found[oid], profiles[oid], contacts.get(oid)) for oid in ids}
        for profile in referenced:
            assert profile.external_ref is not None
            self._by_ref[profile.external_ref] = (profile, known[profile.organization_id])

    def _organizations(self, condition: Any) -> dict[int, Organization]:
        statement = select(Organization).where(condition).order_by(col(Organization.id))
        return {org.id: org for org in self.session.exec(statement) if org.id is not None}

    def _know(
        self,
        organization: Organization,
        profiles: list[Profile],
        contacts: list[Contact] | None,
    ) -> KnownOrganization:
        self._count += 1
        known = KnownOrganization(organization, profiles, contacts, self._count)
        self.reindex(known)
        return known

    def reindex(self, known: KnownOrganization) -> None:
        """Look an organisation up by its keys as they are now (after a change)."""
        for key in _keys(known.organization):
            listed = self._by_key.setdefault(key, [])
            if known not in listed:
                listed.append(known)

    def _first(self, key: tuple[str, ...]) -> KnownOrganization | None:
        """The first organisation in id order (new ones last) answering to ``key``."""
        matching = [k for k in self._by_key.get(key, ()) if key in _keys(k.organization)]
        if not matching:
            return None
        return min(
            matching, key=lambda k: (k.organization.id is None, k.organization.id or 0, k.order)
        )

    def find_organization(self, row: ParsedRow) -> KnownOrganization | None:
        """The organisation a row describes, or None; a row naming two different stored
        organisations (by IČO and by ROR id, say) is a problem."""
        body = row.organization
        found: dict[str, KnownOrganization] = {}
        for name, value in (("ico", body.ico), ("ror", body.ror)):
            if value and (match := self._first((name, value))) is not None:
                found[name] = match
        for extras in row.extras:
            if extras.external_ref and extras.external_ref in self._by_ref:
                found["external_ref"] = self._by_ref[extras.external_ref][1]
        if not found and not body.ico and not body.ror:
            match = self._first(("name", fold(body.name), body.country))
            if match is not None:
                found["name"] = match
        if any(known.pending for known in found.values()):
            self.flush()  # as the database has it after the rows before
        distinct = list({id(known): known for known in found.values()}.values())
        if len(distinct) > 1:
            names = ", ".join(
                f"{name} → organisation {known.organization.id}" for name, known in found.items()
            )
            raise RowProblem(None, f"the row describes different stored organisations ({names})")
        if not distinct:
            return None
        self._mark(distinct[0])
        return distinct[0]

    def _mark(self, known: KnownOrganization) -> None:
        known.pending = True
        self._pending.append(known)

    def find_profile(
        self, known: KnownOrganization, body: ProfileCreate, extras: ProfileExtras
    ) -> Profile | None:
        """The stored or new profile a row's profile describes: by external reference,
        else the organisation's first profile without one with the same folded title."""
        if extras.external_ref:
            hit = self._by_ref.get(extras.external_ref)
            return None if hit is None else hit[0]
        title = fold(body.title or "")
        for profile in known.profiles:
            if profile.external_ref is None and fold(profile.title or "") == title:
                return profile
        return None

    def add_organization(
        self, organization: Organization, contacts: list[Contact]
    ) -> KnownOrganization:
        """A new organisation with its new contacts (written by :meth:`flush`)."""
        self.session.add(organization)
        known = self._know(organization, [], contacts)
        self._mark(known)
        self._new += ((known, contact) for contact in contacts)
        return known

    def add_profile(self, known: KnownOrganization, profile: Profile) -> None:
        """A new profile of an organisation (written by :meth:`flush`)."""
        known.profiles.append(profile)
        if profile.external_ref:
            self._by_ref[profile.external_ref] = (profile, known)
        self._new.append((known, profile))

    def replace_contacts(self, known: KnownOrganization, contacts: Sequence[ContactFields]) -> bool:
        """Make an organisation's contacts exactly ``contacts``; False when they are."""
        current = known.contacts
        if current is not None and organizations.same_contacts(current, contacts):
            return False
        self.flush()  # the new rows before these, for the order of ids
        assert known.organization.id is not None
        known.contacts = None  # read again should another row replace them
        return organizations.replace_contacts(self.session, known.organization.id, contacts)

    def flush(self) -> None:
        """Write every change so far: new organisations first, for the ids their new
        contacts and profiles need, then those."""
        self.session.flush()
        if self._new:
            for known, item in self._new:
                assert known.organization.id is not None
                item.organization_id = known.organization.id
            self.session.add_all(item for _, item in self._new)
            self.session.flush()
        for known in self._pending:
            known.pending = False
        self._new, self._pending = [], []


def upsert(batch: Batch, principal: Principal, row: ParsedRow) -> tuple[str, list[Profile]]:
    """Store one row: ``created``, ``updated`` or ``unchanged``, and the profiles whose
    index entries must change."""
    body = row.organization
    known = batch.find_organization(row)
    organization = None if known is None else known.organization
    given = body.model_fields_set
    region = body.region if "region" in given or organization is None else organization.region
    try:
        if organization is not None and not access.full_view(principal, organization):
            raise RowProblem(None, f"organisation {organization.id} is outside this key's reach")
        access.require_region(principal, region)
    except AppError as exc:
        raise RowProblem("region", exc.detail) from None
    if known is None:  # nothing to compare with
        organization = Organization(
            **{name: getattr(body, name) for name in ORGANIZATION_FIELDS},
            name_folded=fold(body.name),
            created_by_key_id=principal.key_id,
        )
        contacts = [
            Contact(organization_id=UNSAVED, **contact.model_dump()) for contact in body.contacts
        ]
        known = batch.add_organization(organization, contacts)
        made = [
            _new_profile(profile_body, extras, row.source)
            for profile_body, extras in zip(body.profiles, row.extras, strict=True)
        ]
        for profile in made:
            batch.add_profile(known, profile)
        return "created", made
    assert organization is not None
    org_changed = _apply(
        organization,
        {name: getattr(body, name) for name in ORGANIZATION_FIELDS if name in given},
    )
    if org_changed:
        organization.name_folded = fold(organization.name)
        organization.version += 1
        organization.updated_at = utcnow()
        batch.session.add(organization)
        batch.reindex(known)
    contacts_changed = "contacts" in given and batch.replace_contacts(known, body.contacts)
    touched: list[Profile] = []
    for profile_body, extras in zip(body.profiles, row.extras, strict=True):
        profile, changed = _upsert_profile(batch, known, profile_body, extras, row.source)
        if changed:
            touched.append(profile)
    if org_changed:  # region, country or kind live in every index entry
        touched += known.profiles
    if org_changed or contacts_changed or touched:
        return "updated", touched
    return "unchanged", []


def _apply(target: Any, values: dict[str, Any]) -> bool:
    changed = False
    for name, value in values.items():
        if getattr(target, name) != value:
            setattr(target, name, value)
            changed = True
    return changed


def _upsert_profile(
    batch: Batch,
    known: KnownOrganization,
    body: ProfileCreate,
    extras: ProfileExtras,
    source: str,
) -> tuple[Profile, bool]:
    values = {name: getattr(body, name) for name in PROFILE_FIELDS if name in _given(body)}
    if extras.valid_until is not None:
        values["valid_until"] = extras.valid_until
    if extras.details is not None:
        values["details"] = extras.details
    profile = batch.find_profile(known, body, extras)
    if profile is None:
        profile = _new_profile(body, extras, source)
        batch.add_profile(known, profile)
        return profile, True
    if not _apply(profile, values):
        return profile, False
    profile.version += 1
    profile.updated_at = utcnow()
    batch.session.add(profile)
    return profile, True


def _new_profile(body: ProfileCreate, extras: ProfileExtras, source: str) -> Profile:
    return Profile(
        organization_id=UNSAVED,
        source=source,
        external_ref=extras.external_ref,
        **{name: getattr(body, name) for name in PROFILE_FIELDS},
        valid_until=extras.valid_until,
        details=extras.details,
    )


def _given(body: ProfileCreate) -> Iterable[str]:
    # offers and needs always count: a row states the whole text of its profile
    return {*body.model_fields_set, "offers", "needs"}

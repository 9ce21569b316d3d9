"""Profile vectors and the index change log, as stored in the database.

The database is the truth: every profile's facet embeddings live in
``profile_vector`` and every change to what is searchable appends to
``index_change``. The in-memory index is rebuilt or caught up from these.
"""

from __future__ import annotations

import functools
import hashlib
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import bindparam, func, insert, or_, text
from sqlmodel import Session, col, delete, select

from matching.catalog import FACETS, Entry
from matching.embedder import FacetEmbedding
from matching.explain import FacetSentences
from matching.lexical import lexical_terms
from matching.scoring import KeywordSet
from matching.taxonomy import taxonomy
from matching.text import content_hash, tokens
from service.models import IndexChange, Organization, Profile, ProfileVector, utcnow

Vector = npt.NDArray[np.float32]

# Serialises writers of the change log on PostgreSQL so that sequence order is
# commit order: a reader that has seen seq N never misses a later commit < N.
_CHANGE_LOG_LOCK = 7_270_001


@dataclass(frozen=True)
class IndexState:
    """What the index holds for one profile."""

    entry: Entry
    vectors: dict[str, Vector]


def facet_texts(profile: Profile) -> dict[str, str]:
    """The profile's non-empty facets."""
    return {facet: getattr(profile, facet) for facet in FACETS if getattr(profile, facet)}


def stale_facets(profile: Profile, rows: Iterable[ProfileVector], model_id: str) -> dict[str, str]:
    """Facets whose stored vector is missing, for another model, or for older text."""
    current = {row.facet: row for row in rows}
    stale = {}
    for facet, facet_text in facet_texts(profile).items():
        row = current.get(facet)
        if row is None or row.model_id != model_id or row.text_hash != content_hash(facet_text):
            stale[facet] = facet_text
    return stale


def vector_rows(session: Session, profile_ids: Sequence[int]) -> dict[int, list[ProfileVector]]:
    """Stored vector rows by profile id."""
    found: dict[int, list[ProfileVector]] = {pid: [] for pid in profile_ids}
    if profile_ids:
        statement = select(ProfileVector).where(col(ProfileVector.profile_id).in_(profile_ids))
        for row in session.exec(statement):
            found[row.profile_id].append(row)
    return found


def write_vectors(
    session: Session,
    profile: Profile,
    embeddings: dict[str, FacetEmbedding],
    model_id: str,
    existing: Iterable[ProfileVector] = (),
) -> None:
    """Store new facet embeddings and drop vectors of facets that became empty."""
    assert profile.id is not None
    current = {row.facet: row for row in existing}
    texts = facet_texts(profile)
    for facet, row in current.items():
        if facet not in texts:
            session.delete(row)
    for facet, embedding in embeddings.items():
        values: dict[str, Any] = {
            "model_id": model_id,
            "text_hash": content_hash(texts[facet]),
            "dimension": int(embedding.vector.shape[0]),
            "vector": embedding.vector.astype(np.float32).tobytes(),
            "sentences": list(embedding.sentences),
            "sentence_vectors": embedding.sentence_vectors.astype(np.float32).tobytes(),
        }
        stored = current.get(facet)
        if stored is None:
            session.add(ProfileVector(profile_id=profile.id, facet=facet, **values))
        else:
            for name, value in values.items():
                setattr(stored, name, value)
            session.add(stored)


def record_changes(session: Session, profile_ids: Iterable[int]) -> None:
    """Append the profiles to the change log (in the caller's transaction)."""
    ids = sorted(set(profile_ids))
    if not ids:
        return
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHANGE_LOG_LOCK})
    session.execute(insert(IndexChange), [{"profile_id": pid} for pid in ids])


def latest_seq(session: Session) -> int:
    """The newest change sequence number (0 for none)."""
    return int(session.exec(select(func.coalesce(func.max(IndexChange.seq), 0))).one() or 0)


# Built once: asked before every match, where building the statement costs as much as
# running it.
_CHANGES_SINCE = (
    select(IndexChange.seq, IndexChange.profile_id)
    .where(col(IndexChange.seq) > bindparam("seq"))
    .order_by(col(IndexChange.seq))
)
_SENTENCES_OF = select(
    ProfileVector.profile_id,
    ProfileVector.facet,
    ProfileVector.sentences,
    ProfileVector.sentence_vectors,
).where(
    col(ProfileVector.profile_id).in_(bindparam("ids", expanding=True)),
    col(ProfileVector.facet).in_(bindparam("facets", expanding=True)),
)


def changes_since(session: Session, seq: int) -> list[tuple[int, int]]:
    """(seq, profile_id) of changes after ``seq``, oldest first."""
    rows = session.connection().execute(_CHANGES_SINCE, {"seq": seq})  # no ORM: columns
    return [(int(s or 0), int(p)) for s, p in rows]


# What entries are derived with: the code below and the matching package's data.
_ENTRY_SOURCES = (
    Path(__file__),
    *(
        Path(__file__).parents[1] / "matching" / name
        for name in (
            "catalog.py",
            "columns.py",
            "keyword_columns.py",
            "ragged.py",
            "lexical.py",
            "text.py",
            "language.py",
            "taxonomy.py",
            "scoring.py",
        )
    ),
)


@functools.cache
def entries_fingerprint() -> str:
    """A digest of the code and data that derive catalog entries from profiles: a
    snapshot's entries are reused only while it is unchanged."""
    data = sorted((Path(__file__).parents[1] / "matching" / "data").rglob("*"))
    digest = hashlib.sha256()
    for path in [*_ENTRY_SOURCES, *data]:
        if path.is_file():
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def entry_of(profile: Profile, organization: Organization) -> Entry:
    """What the catalog keeps of a profile besides its vectors."""
    assert profile.id is not None
    assert organization.id is not None
    return Entry(
        profile_id=profile.id,
        organization_id=organization.id,
        # interned: codes and a vocabulary shared by a million entries are stored once
        kind=sys.intern(organization.kind),
        country=sys.intern(organization.country),
        region=None if organization.region is None else sys.intern(organization.region),
        keywords=KeywordSet.of(profile.keywords),
        terms=frozenset(map(sys.intern, tokens(profile.offers + "\n" + profile.needs))),
        offer_terms=tuple(map(sys.intern, lexical_terms(profile.offers))),
        concepts=taxonomy().concepts_in(profile.offers),
        public=profile.public,
        created_by_key_id=organization.created_by_key_id,
        valid_until=None if profile.valid_until is None else profile.valid_until.timestamp(),
        organization_name=organization.name,
    )


def _decode(row: ProfileVector) -> Vector:
    return np.frombuffer(row.vector, dtype=np.float32)


def _current_vectors(
    profile: Profile, rows: Sequence[ProfileVector], model_id: str
) -> dict[str, Vector] | None:
    """The facet vectors of ``profile`` if every facet has a current one, else None."""
    if stale_facets(profile, rows, model_id):
        return None
    texts = facet_texts(profile)
    return {row.facet: _decode(row) for row in rows if row.facet in texts}


def stored_vectors(session: Session, profile: Profile, model_id: str) -> dict[str, Vector]:
    """The stored facet vectors of one profile, or {} while any is missing or stale."""
    assert profile.id is not None
    return _current_vectors(profile, vector_rows(session, [profile.id])[profile.id], model_id) or {}


def index_states(
    session: Session, model_id: str, profile_ids: Sequence[int] | None = None
) -> Iterator[IndexState]:
    """Searchable state of the given profiles (all when None).

    A profile is searchable once every non-empty facet has a vector of the
    current model for its current text, until its ``valid_until``; others are left
    out (and so removed).
    """
    statement = (
        select(Profile, Organization)
        .join(Organization, col(Profile.organization_id) == col(Organization.id))
        .where(or_(col(Profile.valid_until).is_(None), col(Profile.valid_until) > utcnow()))
    )
    if profile_ids is not None:
        statement = statement.where(col(Profile.id).in_(profile_ids))
    statement = statement.order_by(col(Profile.id))
    for chunk in session.exec(statement).partitions(500):
        rows = vector_rows(session, [profile.id for profile, _ in chunk if profile.id])
        for profile, organization in chunk:
            assert profile.id is not None
            vectors = _current_vectors(profile, rows[profile.id], model_id)
            if vectors is not None:
                yield IndexState(entry_of(profile, organization), vectors)


def profiles_needing_vectors(session: Session, model_id: str) -> list[int]:
    """Ids of profiles with a facet whose vector is missing or stale."""
    needing = []
    # Only the texts and the stored hashes are read: no vectors, no ORM objects.
    texts = select(Profile.id, Profile.offers, Profile.needs).order_by(col(Profile.id))
    for chunk in session.exec(texts).partitions(500):
        hashes = select(
            ProfileVector.profile_id,
            ProfileVector.facet,
            ProfileVector.model_id,
            ProfileVector.text_hash,
        ).where(col(ProfileVector.profile_id).in_([pid for pid, _, _ in chunk]))
        stored: dict[tuple[int | None, str], tuple[str, str]] = {
            (pid, facet): (model, digest) for pid, facet, model, digest in session.exec(hashes)
        }
        needing += [
            pid
            for pid, offers, needs in chunk
            if pid is not None
            and any(
                stored.get((pid, facet)) != (model_id, content_hash(text))
                for facet, text in zip(FACETS, (offers, needs), strict=True)
                if text
            )
        ]
    return needing


def sentences_of(
    session: Session, profile_ids: Sequence[int], *facets: str
) -> dict[str, dict[int, FacetSentences]]:
    """Stored sentences and sentence vectors of some facets of several profiles, by
    facet and profile id (one query, only the columns needed)."""
    found: dict[str, dict[int, FacetSentences]] = {facet: {} for facet in facets}
    if not profile_ids or not facets:
        return found
    rows = session.connection().execute(  # no ORM layer: plain columns, a third faster
        _SENTENCES_OF, {"ids": list(profile_ids), "facets": list(facets)}
    )
    for profile_id, facet, sentences, vectors in rows:
        found[facet][profile_id] = FacetSentences(
            tuple(sentences),
            np.frombuffer(vectors, dtype=np.float32).reshape(len(sentences), -1)
            if sentences
            else np.empty((0, 0), dtype=np.float32),
        )
    return found


def drop_vectors(session: Session, *, keep_model: str | None) -> int:
    """Delete vectors made by models other than ``keep_model`` (None: all); returns how many."""
    statement = delete(ProfileVector)
    if keep_model is not None:
        statement = statement.where(col(ProfileVector.model_id) != keep_model)
    result = session.exec(statement)
    return int(result.rowcount or 0)

"""The one owner of the embedder and the FAISS index inside the app.

Start-up loads the index snapshot — the vector indexes and the catalog's entries
(or, when those were made by other code or data, entries derived again from the
database) — or rebuilds it from stored vectors when the snapshot is missing,
corrupt, for another model or newer than the database; then it
embeds any profile whose vectors are missing or stale, and replays the change
log. Every match first catches up with the change log, so a write is visible
to the next match, in this worker and in any other.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.engine import Engine
from sqlmodel import Session

from matching.catalog import Catalog, Entry, MatchQuery, Scored, Vector
from matching.embedder import Embedder, FacetEmbedding, embed_facets
from matching.index import SnapshotError, read_snapshot, write_snapshot
from service import vector_store
from service.models import Profile

log = logging.getLogger(__name__)

SNAPSHOT_FORMAT = 2  # 2: approximate indexes hold 8-bit codes and carry their rows
_RECONCILE_BATCH = 64


class MatchEngine:
    """Embedder plus in-memory catalog, kept in step with the database."""

    def __init__(self, *, embedder: Embedder, db_engine: Engine, snapshot_path: Path) -> None:
        self.embedder = embedder
        self.model_id = embedder.model_id
        self.db_engine = db_engine
        self._snapshot_path = snapshot_path
        self._lock = threading.RLock()  # guards the catalog
        # One catch-up at a time: two overlapping ones could apply an older
        # state of a profile after a newer one.
        self._catch_up_lock = threading.Lock()
        self.catalog = Catalog(embedder.dimension)
        self.seq = 0
        self._saved_seq: int | None = None
        self.ready = False
        self.failure: str | None = None

    # -- embedding -----------------------------------------------------------

    def embed(self, texts: Sequence[str]) -> list[FacetEmbedding]:
        """Embed facet texts (CPU-heavy: call from a worker thread)."""
        return embed_facets(self.embedder, texts)

    # -- start-up ------------------------------------------------------------

    def start(self) -> None:
        """Load or rebuild the index, embed what is missing, catch up; then ready."""
        try:
            with Session(self.db_engine) as session:
                if not self._load_snapshot(session):
                    self._rebuild(session)
            self.reconcile()
            with Session(self.db_engine) as session:
                self.catch_up(session)
            self.save_snapshot()
            self.ready = True
            log.info("index ready: %d profiles at change %d", len(self.catalog), self.seq)
        except Exception as exc:
            self.failure = f"{type(exc).__name__}: {exc}"
            log.exception("index start-up failed")
            raise

    def _load_snapshot(self, session: Session) -> bool:
        try:
            manifest, indexes, blobs = read_snapshot(self._snapshot_path, self.embedder.dimension)
        except SnapshotError as exc:
            if self._snapshot_path.exists():
                log.warning("index snapshot unusable, rebuilding: %s", exc)
            return False
        expected = {"format": SNAPSHOT_FORMAT, "model_id": self.model_id}
        if {key: manifest.get(key) for key in expected} != expected:
            log.warning("index snapshot is for %s, rebuilding", manifest.get("model_id"))
            return False
        if int(manifest["seq"]) > vector_store.latest_seq(session):
            log.warning("index snapshot is newer than the database, rebuilding")
            return False
        reuse = "catalog" in blobs and manifest.get("entries") == vector_store.entries_fingerprint()
        if reuse:
            catalog = Catalog.restore(self.embedder.dimension, indexes, blobs["catalog"])
        else:  # entries of older code or data: derived again from the database
            catalog = Catalog(self.embedder.dimension, indexes)
            indexed = set().union(*(index.ids() for index in indexes.values()))
            for state in vector_store.index_states(session, self.model_id):
                if state.entry.profile_id in indexed:
                    catalog.register(state.entry)
            catalog.drop_unregistered()
        catalog.expire(time.time())
        with self._lock:
            self.catalog = catalog
            self.seq = self._saved_seq = int(manifest["seq"])
        log.info(
            "index snapshot loaded: %d profiles at change %d, entries %s",
            len(catalog),
            self.seq,
            "from the snapshot" if reuse else "derived again from the database",
        )
        return True

    def _rebuild(self, session: Session) -> None:
        seq = vector_store.latest_seq(session)
        catalog = Catalog(self.embedder.dimension)
        catalog.upsert_many(
            (state.entry, state.vectors)
            for state in vector_store.index_states(session, self.model_id)
        )
        with self._lock:
            self.catalog = catalog
            self.seq = seq
            self._saved_seq = None
        log.info("index rebuilt from stored vectors: %d profiles", len(catalog))

    def reconcile(self) -> int:
        """Embed every profile whose vectors are missing or stale; returns how many."""
        with Session(self.db_engine) as session:
            pending = vector_store.profiles_needing_vectors(session, self.model_id)
        for start in range(0, len(pending), _RECONCILE_BATCH):
            with Session(self.db_engine) as session:
                self.embed_profiles(session, pending[start : start + _RECONCILE_BATCH])
                session.commit()
        if pending:
            log.info("embedded %d profiles with %s", len(pending), self.model_id)
        return len(pending)

    def embed_profiles(self, session: Session, profile_ids: Sequence[int]) -> None:
        """(Re-)embed the stale facets of stored profiles, in the caller's transaction."""
        profiles = [p for pid in profile_ids if (p := session.get(Profile, pid)) is not None]
        rows = vector_store.vector_rows(session, [p.id for p in profiles if p.id])
        stale = [
            (profile, vector_store.stale_facets(profile, rows[profile.id], self.model_id))
            for profile in profiles
            if profile.id
        ]
        texts = [facet_text for _, facets in stale for facet_text in facets.values()]
        embeddings = iter(self.embed(texts))
        for profile, facets in stale:
            assert profile.id is not None
            made = {facet: next(embeddings) for facet in facets}
            vector_store.write_vectors(session, profile, made, self.model_id, rows[profile.id])
        vector_store.record_changes(session, [p.id for p in profiles if p.id])

    # -- keeping in step -----------------------------------------------------

    def catch_up(self, session: Session) -> int:
        """Apply changes committed since the last call; returns the sequence reached."""
        with self._catch_up_lock:
            changes = vector_store.changes_since(session, self.seq)
            if not changes:
                return self.seq
            profile_ids = sorted({pid for _, pid in changes})
            states = {
                state.entry.profile_id: state
                for state in vector_store.index_states(session, self.model_id, profile_ids)
            }
            with self._lock:
                for profile_id in profile_ids:
                    if profile_id not in states:
                        self.catalog.remove(profile_id)
                self.catalog.upsert_many((state.entry, state.vectors) for state in states.values())
                self.seq = max(self.seq, changes[-1][0])
            return self.seq

    def in_sync(self, session: Session) -> bool:
        """True when ready and every committed change is in the index."""
        if not self.ready:
            return False
        self.catch_up(session)
        return self.seq >= vector_store.latest_seq(session)

    # -- searching -----------------------------------------------------------

    def match(self, query: MatchQuery) -> tuple[list[Scored], int]:
        """Ranked results and the index version (change sequence) they come from."""
        with self._lock:
            self.catalog.expire(time.time())
            return self.catalog.match(query), self.seq

    def profiles_of_kind(
        self, kind: str, regions: frozenset[str] | None = None
    ) -> list[tuple[Entry, Vector, Vector | None]]:
        """Indexed profiles of one kind with their offers and needs vectors."""
        with self._lock:
            self.catalog.expire(time.time())
            return self.catalog.profiles_of_kind(kind, regions)

    def entry(self, profile_id: int) -> Entry | None:
        """The index entry of one profile (None if not indexed)."""
        with self._lock:
            return self.catalog.entries.get(profile_id)

    def profile_vectors(self, profile_id: int) -> dict[str, Vector]:
        """The indexed facet vectors of one profile (empty if not indexed)."""
        with self._lock:
            return self.catalog.vectors_of(profile_id)

    # -- snapshots -----------------------------------------------------------

    def save_snapshot(self) -> bool:
        """Write the index snapshot if it changed since the last one."""
        with self._lock:
            if self._saved_seq == self.seq:
                return False
            manifest = {
                "format": SNAPSHOT_FORMAT,
                "model_id": self.model_id,
                "dimension": self.embedder.dimension,
                "seq": self.seq,
                "count": len(self.catalog),
                "entries": vector_store.entries_fingerprint(),
            }
            write_snapshot(
                self._snapshot_path,
                manifest,
                self.catalog.indexes,
                {"catalog": self.catalog.state_bytes()},
            )
            self._saved_seq = self.seq
        return True


def get_match_engine(request: Request) -> MatchEngine:
    """The app's engine (a dependency)."""
    engine: MatchEngine = request.app.state.match_engine
    return engine


MatchEngineDep = Annotated[MatchEngine, Depends(get_match_engine)]

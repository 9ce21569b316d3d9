"""The shipped scorer, exercised through the service's own code path.

Organisations go into a temporary SQLite database with their facet vectors
(``vector_store``), the ``MatchEngine`` builds its index from them as at
start-up, and every query is a ``run_match`` — exactly what
``POST /api/v1/matches`` does, minus HTTP.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from sqlmodel import Session

from bench.quality.metrics import CUTOFF
from bench.quality.model import EvalSet, Query
from matching.embedder import Embedder, FacetEmbedding
from matching.scoring import BONUSES, RELEVANCE_WEIGHTS
from matching.text import fold
from schemas.matches import MatchRequest
from service import migrate, vector_store
from service.auth.principal import COMMAND_LINE
from service.db import make_engine
from service.engine import MatchEngine
from service.matches.service import run_match
from service.models import Organization, Profile

_CHUNK = 500


class ServicePath:
    """An indexed evaluation set that answers queries with ``run_match``."""

    def __init__(
        self,
        evalset: EvalSet,
        embedder: Embedder,
        embeddings: Mapping[str, Mapping[str, FacetEmbedding]],
        workdir: Path,
    ) -> None:
        url = f"sqlite:///{workdir / 'quality.db'}"
        migrate.upgrade(url)
        self._db = make_engine(url)
        self.profile_of: dict[str, int] = {}
        self.organization_of: dict[str, int] = {}
        with Session(self._db) as session:
            for start in range(0, len(evalset.orgs), _CHUNK):
                chunk_ids = []
                for org in evalset.orgs[start : start + _CHUNK]:
                    organization = Organization(
                        kind=org.kind,
                        name=org.name[:300],
                        name_folded=fold(org.name[:300]),
                        country=org.country,
                        region=org.region,
                    )
                    session.add(organization)
                    session.flush()
                    assert organization.id is not None
                    profile = Profile(
                        organization_id=organization.id,
                        offers=org.offers,
                        needs=org.needs,
                        keywords=list(org.keywords),
                        source="import",
                    )
                    session.add(profile)
                    session.flush()
                    assert profile.id is not None
                    vector_store.write_vectors(
                        session, profile, dict(embeddings[org.key]), embedder.model_id
                    )
                    self.profile_of[org.key] = profile.id
                    self.organization_of[org.key] = organization.id
                    chunk_ids.append(profile.id)
                vector_store.record_changes(session, chunk_ids)
                session.commit()
        self.key_of = {pid: key for key, pid in self.profile_of.items()}
        self.engine = MatchEngine(
            embedder=embedder, db_engine=self._db, snapshot_path=workdir / "index.faiss"
        )
        self.engine.start()

    def configure(self, weights: Mapping[str, float]) -> None:
        """Use these relevance weights / bonuses instead of the shipped ones."""
        catalog = self.engine.catalog
        catalog.relevance_weights = dict(RELEVANCE_WEIGHTS)
        catalog.bonuses = dict(BONUSES)
        for name, value in weights.items():
            table = catalog.bonuses if name in BONUSES else catalog.relevance_weights
            if name not in table:
                raise SystemExit(f"unknown weight {name!r}")
            table[name] = value

    def scored(
        self, query: Query, limit: int = CUTOFF, without: frozenset[str] = frozenset()
    ) -> list[tuple[str, float]]:
        """(target key, score) ``run_match`` returns for the query, best first, every
        score shown (min_score 0); ``without``: keys of organisations to leave out."""
        body = MatchRequest(
            profile_id=None if query.text is not None else self.profile_of[query.key],
            text=query.text,
            target=query.target_kind,  # type: ignore[arg-type]
            limit=limit,
            min_score=0,
            exclude_organization_ids=[self.organization_of[key] for key in sorted(without)],
        )
        with Session(self._db) as session:
            run = run_match(session, self.engine, COMMAND_LINE, body)
            session.rollback()  # the evaluation keeps no runs
        return [(self.key_of[result.profile_id], result.score) for result in run.results]

    def rank(self, query: Query) -> list[str]:
        """The target keys ``run_match`` returns for the query, best first."""
        return [key for key, _ in self.scored(query)]

    def close(self) -> None:
        """Release the database."""
        self._db.dispose()

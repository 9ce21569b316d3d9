"""Match latency at index scale, on synthetic vectors.

What is measured (per query, one query at a time, FAISS limited to one thread):

- ``raw exact``: one ``faiss.IndexFlatIP`` search over the vectors the match path
  searches — the research profiles' offers and needs vectors, in one flat index —
  top-10 for a company's needs vector: brute force over the same vectors, nothing else.
  ``match_overhead_ratio_<N>`` is E's p95 over its p95.
- ``raw one facet``: the same over the research offers vectors alone (half as many):
  the stricter floor, reported as ``match_overhead_ratio_one_facet_<N>``.
- ``A: Catalog.match``: the matching library alone — two index searches (needs →
  research offers, offers → research needs, 200 candidates each; exact up to 20,000
  vectors per index, IVF above), BM25 candidates, exact re-scoring of the candidates
  with keywords and proximity, deterministic ranking; top-10.
- ``E: find_matches``: the engine's whole match path without HTTP, on a temporary
  SQLite database: a fresh session, catch-up with the change log, query building from
  the stored profile, ``Catalog.match`` (the caller's access filtering private ones),
  explanations from stored sentence vectors.
- ``B: run_match``: E, then the run and its results stored and committed.

All paths use the same vectors: N synthetic profiles (about half companies, half
research organisations), each facet a unit vector drawn around one of 200 random
cluster centres, with three sentence vectors around it. Queries are the same random
company profiles for every path; each path is warmed up before it is timed. Raw
exact, raw one facet, A and E take turns in blocks of 20 queries, so that a slower
phase of the shared machine (its memory and caches are shared with other work)
falls on the path and on its baseline alike; B, which writes, is timed on its own.

Reading the ratios: ``p95(path) / p95(raw exact)`` is how many times slower the
tail of a path is than one bare exact scan of the vectors it searches (the match path
searches both research facets: a company's needs against their offers, its offers
against their needs, each in its own index). Everything above the
index searches is candidate work in Python (up to 600 candidates re-scored, keyword
sharing, ranking). The difference E - A is what the service adds around the library
(database reads, explanations from sentence vectors); B - E writing the run. Raw
FAISS time grows linearly with the number of profiles; the approximate searches and
the candidate work grow far more slowly, so the ratios shrink as N grows.

Run: ``python -m bench.match_latency [--profiles 10000] [--queries 200] [--seed 7]
[--engine-only]``.
Results: printed, written to ``bench/results/match_latency.json``, and the headline
figures as one JSON object on the last line.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import faiss
import numpy as np
import numpy.typing as npt
from sqlalchemy import insert
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bench.common import environment, latency_summary, print_table, print_written, write_results
from matching.catalog import FACETS, KINDS, Catalog, Entry, MatchQuery
from matching.index import VectorIndex
from matching.lexical import lexical_terms
from matching.scoring import DEFAULT_MIN_SCORE, KeywordSet
from matching.taxonomy import taxonomy
from matching.text import content_hash, fold, tokens
from schemas.codes import CZ_REGIONS
from schemas.matches import MatchRequest
from service.auth.principal import COMMAND_LINE
from service.db import make_engine
from service.engine import MatchEngine
from service.matches.service import find_matches, run_match
from service.migrate import upgrade
from service.models import IndexChange, Organization, Profile, ProfileVector

Vectors = npt.NDArray[np.float32]

DIMENSION = 384
LIMIT = 10
N_CENTRES = 200
SENTENCES_PER_FACET = 3
FACET_NOISE = 1.0  # norm of the noise added to a unit centre: same-centre cosine ~0.5
SENTENCE_NOISE = 0.6  # norm of the noise added to a facet vector for its sentences
WARMUP_QUERIES = 20
BLOCK = 20  # queries a path runs before the next takes its turn
CONSISTENCY_QUERIES = 20
INSERT_CHUNK = 2_000
COUNTRY = "CZ"
REGIONS = tuple(sorted(CZ_REGIONS))  # the 14 Czech NUTS 3 regions
VOCABULARY = (
    "welding",
    "casting",
    "machining",
    "composites",
    "coatings",
    "polymers",
    "sensors",
    "robotics",
    "automation",
    "optics",
    "lasers",
    "batteries",
    "hydrogen",
    "biogas",
    "recycling",
    "packaging",
    "diagnostics",
    "vaccines",
    "genomics",
    "imaging",
    "cybersecurity",
    "blockchain",
    "simulation",
    "metrology",
    "textiles",
    "ceramics",
    "nanomaterials",
    "agritech",
    "logistics",
    "acoustics",
)
TEMPLATES = {
    "offers": (
        "We offer {a} services for {b} applications.",
        "Our laboratory provides {a} testing and {b} prototyping.",
        "The team has long experience in {a} and {b}.",
    ),
    "needs": (
        "We seek a partner for {a} development.",
        "We are looking for {a} know-how to improve {b}.",
        "We need help with {a} validation in {b}.",
    ),
}
FAKE_MODEL_ID = "bench/fake-random-384"
CHUNK = 100_000  # profiles generated at a time


def _unit(rows: Vectors) -> Vectors:
    normalised: Vectors = (rows / np.linalg.norm(rows, axis=-1, keepdims=True)).astype(np.float32)
    return normalised


@dataclass(frozen=True)
class Synthetic:
    """N profiles; profile ``i`` (0-based) gets profile id and organisation id ``i + 1``."""

    kinds: tuple[str, ...]
    regions: tuple[str, ...]
    keywords: tuple[tuple[str, ...], ...]
    sentences: dict[str, list[list[str]]]  # facet -> per profile
    vectors: dict[str, Vectors]  # facet -> (N, D)
    sentence_vectors: dict[str, Vectors]  # facet -> (N, SENTENCES_PER_FACET, D)

    def __len__(self) -> int:
        return len(self.kinds)

    def text(self, facet: str, index: int) -> str:
        """A facet's text: its sentences joined (``sentences()`` splits them back)."""
        return " ".join(self.sentences[facet][index])

    def terms(self, index: int) -> frozenset[str]:
        """Folded words of both facets, as the service computes them."""
        return frozenset(tokens(self.text("offers", index) + "\n" + self.text("needs", index)))

    def ids_of(self, kind: str) -> list[int]:
        """Profile ids of one kind."""
        return [i + 1 for i, k in enumerate(self.kinds) if k == kind]


def generate(n: int, seed: int) -> Synthetic:
    """Clustered unit vectors, regions, keywords and short sentences for ``n`` profiles."""
    rng = np.random.default_rng(seed)
    words = random.Random(seed)
    centres = _unit(rng.standard_normal((N_CENTRES, DIMENSION), dtype=np.float32))
    kinds = tuple(KINDS[int(k)] for k in rng.integers(0, 2, n))
    regions = tuple(REGIONS[int(r)] for r in rng.integers(0, len(REGIONS), n))
    keywords = tuple(tuple(words.sample(VOCABULARY, words.randint(2, 4))) for _ in range(n))
    vectors: dict[str, Vectors] = {}
    sentence_vectors: dict[str, Vectors] = {}
    sentences: dict[str, list[list[str]]] = {}
    scale = np.float32(1 / np.sqrt(DIMENSION))
    for facet in FACETS:
        noise = rng.standard_normal((n, DIMENSION), dtype=np.float32) * (FACET_NOISE * scale)
        vectors[facet] = _unit(centres[rng.integers(0, N_CENTRES, n)] + noise)
        noise = rng.standard_normal((n, SENTENCES_PER_FACET, DIMENSION), dtype=np.float32)
        sentence_vectors[facet] = _unit(
            vectors[facet][:, None, :] + noise * (SENTENCE_NOISE * scale)
        )
        sentences[facet] = [
            [
                template.format(a=words.choice(keywords[i]), b=words.choice(VOCABULARY))
                for template in TEMPLATES[facet][:SENTENCES_PER_FACET]
            ]
            for i in range(n)
        ]
    return Synthetic(kinds, regions, keywords, sentences, vectors, sentence_vectors)


def generate_in_chunks(n: int, seed: int, sentence_vectors: int = SENTENCES_PER_FACET) -> Synthetic:
    """``generate()`` in chunks of :data:`CHUNK` (each with its own seed and cluster
    centres), joined, so a million profiles fit in memory; keeps the first
    ``sentence_vectors`` sentences (and their vectors) of each facet. Up to one chunk
    with every sentence, the same as ``generate(n, seed)``."""
    k = sentence_vectors
    kinds: list[str] = []
    regions: list[str] = []
    keywords: list[tuple[str, ...]] = []
    sentences: dict[str, list[list[str]]] = {f: [] for f in FACETS}
    vectors = {f: np.empty((n, DIMENSION), np.float32) for f in FACETS}
    sentence_rows = {f: np.empty((n, k, DIMENSION), np.float32) for f in FACETS}
    for start in range(0, n, CHUNK):
        part = generate(min(CHUNK, n - start), seed + start // CHUNK)
        rows = slice(start, start + len(part))
        kinds += part.kinds
        regions += part.regions
        keywords += part.keywords
        for f in FACETS:
            sentences[f] += [s[:k] for s in part.sentences[f]]
            vectors[f][rows] = part.vectors[f]
            sentence_rows[f][rows] = part.sentence_vectors[f][:, :k]
    return Synthetic(
        tuple(kinds), tuple(regions), tuple(keywords), sentences, vectors, sentence_rows
    )


# -- raw FAISS and path A ------------------------------------------------------


def build_catalog(data: Synthetic) -> Catalog:
    """The catalog the engine would build, filled in bulk (one add per facet index)."""
    kinds = np.asarray(data.kinds)
    indexes: dict[str, VectorIndex] = {}
    for kind in KINDS:
        rows = np.flatnonzero(kinds == kind)
        for facet in FACETS:
            index = VectorIndex(DIMENSION)
            index.upsert((rows + 1).tolist(), data.vectors[facet][rows])
            indexes[f"{kind}:{facet}"] = index
    catalog = Catalog(DIMENSION, indexes)
    for i in range(len(data)):
        catalog.register(
            Entry(
                profile_id=i + 1,
                organization_id=i + 1,
                kind=data.kinds[i],
                country=COUNTRY,
                region=data.regions[i],
                keywords=KeywordSet.of(data.keywords[i]),
                terms=data.terms(i),
                offer_terms=tuple(lexical_terms(data.text("offers", i))),
                concepts=taxonomy().concepts_in(data.text("offers", i)),
            )
        )
    return catalog


def catalog_query(data: Synthetic, profile_id: int) -> MatchQuery:
    """What the service asks for a stored company profile (without its own exclusion)."""
    i = profile_id - 1
    return MatchQuery(
        target_kind="research",
        needs=data.vectors["needs"][i],
        offers=data.vectors["offers"][i],
        keywords=KeywordSet.of(data.keywords[i]),
        terms=data.terms(i),
        need_terms=tuple(lexical_terms(data.text("needs", i))),
        offer_terms=tuple(lexical_terms(data.text("offers", i))),
        concepts=taxonomy().concepts_in(data.text("needs", i)),
        region=data.regions[i],
        country=COUNTRY,
        limit=LIMIT,
        min_score=DEFAULT_MIN_SCORE,
    )


# -- path B: database and engine -------------------------------------------------


class FakeEmbedder:
    """Random unit vectors; never called for matches from stored profiles."""

    model_id = FAKE_MODEL_ID
    dimension = DIMENSION

    def __init__(self, seed: int = 0) -> None:
        self._rng = np.random.default_rng(seed)

    def encode(self, texts: Sequence[str]) -> Vectors:
        """Return one random unit row per text."""
        return _unit(self._rng.standard_normal((len(texts), DIMENSION), dtype=np.float32))


def fill_database(db: Engine, data: Synthetic) -> None:
    """Organisations, profiles, vectors and change-log rows, inserted in bulk."""
    now = datetime.now(UTC)
    with db.begin() as connection:
        for start in range(0, len(data), INSERT_CHUNK):
            chunk = range(start, min(start + INSERT_CHUNK, len(data)))
            organizations: list[dict[str, Any]] = []
            profiles: list[dict[str, Any]] = []
            vectors: list[dict[str, Any]] = []
            for i in chunk:
                name = f"Synthetic {data.kinds[i]} {i + 1}"
                organizations.append(
                    {
                        "id": i + 1,
                        "kind": data.kinds[i],
                        "name": name,
                        "name_folded": fold(name),
                        "country": COUNTRY,
                        "region": data.regions[i],
                        "nace": [],
                        "version": 1,
                        "created_at": now,
                        "updated_at": now,
                    }
                )
                profiles.append(
                    {
                        "id": i + 1,
                        "organization_id": i + 1,
                        "offers": data.text("offers", i),
                        "needs": data.text("needs", i),
                        "keywords": list(data.keywords[i]),
                        "markets": [],
                        "source": "bench",
                        "public": True,
                        "version": 1,
                        "created_at": now,
                        "updated_at": now,
                    }
                )
                vectors.extend(
                    {
                        "profile_id": i + 1,
                        "facet": facet,
                        "model_id": FAKE_MODEL_ID,
                        "text_hash": content_hash(data.text(facet, i)),
                        "dimension": DIMENSION,
                        "vector": data.vectors[facet][i].tobytes(),
                        "sentences": data.sentences[facet][i],
                        "sentence_vectors": data.sentence_vectors[facet][i].tobytes(),
                    }
                    for facet in FACETS
                )
            connection.execute(insert(Organization), organizations)
            connection.execute(insert(Profile), profiles)
            connection.execute(insert(ProfileVector), vectors)
            connection.execute(
                insert(IndexChange), [{"profile_id": i + 1, "created_at": now} for i in chunk]
            )


# -- timing ------------------------------------------------------------------------


def time_calls(
    calls: dict[str, Callable[[int], object]],
    profile_ids: Sequence[int],
    warmup: Sequence[int],
    block: int = BLOCK,
) -> dict[str, list[float]]:
    """Per-call wall time in seconds of each path, after untimed warm-up calls. The
    paths take turns in blocks of ``block`` queries, so that a slower phase of a
    shared machine falls on every path alike, not on whichever ran then."""
    for call in calls.values():
        for profile_id in warmup:
            call(profile_id)
    timings: dict[str, list[float]] = {name: [] for name in calls}
    for start in range(0, len(profile_ids), block):
        for name, call in calls.items():
            for profile_id in profile_ids[start : start + block]:
                started = time.perf_counter()
                call(profile_id)
                timings[name].append(time.perf_counter() - started)
    return timings


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--profiles", type=int, default=10_000, help="synthetic profiles")
    parser.add_argument("--queries", type=int, default=200, help="timed queries per path")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--sentence-vectors",
        type=int,
        choices=range(1, SENTENCES_PER_FACET + 1),
        default=SENTENCES_PER_FACET,
        help="sentences (and vectors) stored a facet: 1 keeps a million profiles in memory",
    )
    parser.add_argument(
        "--engine-only",
        action="store_true",
        help="skip path A (a bare catalog) and the check that A and B agree: at 1M "
        "profiles building that catalog takes long and doubles the memory",
    )
    args = parser.parse_args(argv)
    faiss.omp_set_num_threads(1)
    setup: dict[str, float] = {}

    started = time.perf_counter()
    data = generate_in_chunks(args.profiles, args.seed, args.sentence_vectors)
    setup["generate_s"] = time.perf_counter() - started
    companies, research = data.ids_of("company"), data.ids_of("research")
    if not companies or not research:
        parser.error("too few profiles: need at least one company and one research profile")
    picker = random.Random(args.seed + 1)
    queries = [picker.choice(companies) for _ in range(args.queries)]
    warmup = [picker.choice(companies) for _ in range(WARMUP_QUERIES)]
    print(
        f"{len(data)} profiles ({len(companies)} company, {len(research)} research), "
        f"{args.queries} queries, seed {args.seed}, faiss threads 1"
    )

    # Baselines: bare IndexFlatIPs over the research vectors the match path searches
    # (offers and needs), and over their offers alone.
    research_rows = np.asarray(research) - 1
    one_facet = faiss.IndexFlatIP(DIMENSION)
    one_facet.add(np.ascontiguousarray(data.vectors["offers"][research_rows]))
    flat = faiss.IndexFlatIP(DIMENSION)
    for facet in FACETS:
        flat.add(np.ascontiguousarray(data.vectors[facet][research_rows]))
    rows = {
        pid: np.ascontiguousarray(data.vectors["needs"][pid - 1 : pid])
        for pid in {*queries, *warmup}
    }
    raw_top: dict[int, npt.NDArray[np.float32]] = {}

    def raw_one_facet(profile_id: int) -> None:
        scores, _ = one_facet.search(rows[profile_id], LIMIT)
        raw_top[profile_id] = scores[0]  # needs against offers: the similarities reported

    # the paths timed in turns with E, below
    paths: dict[str, Callable[[int], object]] = {
        "raw_exact": lambda profile_id: flat.search(rows[profile_id], LIMIT),
        "raw_one_facet": raw_one_facet,
    }
    if not args.engine_only:
        started = time.perf_counter()
        catalog = build_catalog(data)
        setup["catalog_build_s"] = time.perf_counter() - started
        catalog_queries = {pid: catalog_query(data, pid) for pid in {*queries, *warmup}}
        paths["A_catalog_match"] = lambda pid: catalog.match(catalog_queries[pid])

    with tempfile.TemporaryDirectory(prefix="pm-bench-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        started = time.perf_counter()
        upgrade(url)
        db = make_engine(url)
        fill_database(db, data)
        setup["db_fill_s"] = time.perf_counter() - started
        profiles = len(data)
        del data  # gigabytes at 1M, not needed past this point: the engine holds its own
        engine = MatchEngine(
            embedder=FakeEmbedder(args.seed), db_engine=db, snapshot_path=Path(tmp) / "index.faiss"
        )
        started = time.perf_counter()
        engine.start()
        setup["engine_start_s"] = time.perf_counter() - started
        if len(engine.catalog) != profiles:
            raise SystemExit(f"engine indexed {len(engine.catalog)} of {profiles} profiles")

        def service(profile_id: int) -> list[int]:
            with Session(db, expire_on_commit=False) as session:
                run = run_match(
                    session, engine, COMMAND_LINE, MatchRequest(profile_id=profile_id, limit=LIMIT)
                )
                session.commit()
            return [result.profile_id for result in run.results]

        b_times = time_calls({"B": service}, queries, warmup)["B"]

        def engine_path(profile_id: int) -> None:
            with Session(db, expire_on_commit=False) as session:
                find_matches(
                    session, engine, COMMAND_LINE, MatchRequest(profile_id=profile_id, limit=LIMIT)
                )

        paths["E_find_matches"] = engine_path
        timed = time_calls(paths, queries, warmup)
        checked = [] if args.engine_only else queries[:CONSISTENCY_QUERIES]
        same = sum(
            service(pid) == [s.entry.profile_id for s in catalog.match(catalog_queries[pid])]
            for pid in checked
        )
        db.dispose()

    timed["B_run_match"] = b_times
    summaries = {name: latency_summary(times) for name, times in timed.items() if times}
    base = summaries["raw_exact"]["p95_ms"]
    one_facet_base = summaries["raw_one_facet"]["p95_ms"]
    ratios = {
        f"{name.split('_')[0]}_p95_over_raw_p95": summary["p95_ms"] / base
        for name, summary in summaries.items()
        if not name.startswith("raw")
    }
    ratios["E_p95_over_raw_one_facet_p95"] = summaries["E_find_matches"]["p95_ms"] / one_facet_base
    top = np.stack([raw_top[pid] for pid in queries])
    similarity = {"raw_top1_mean": float(top[:, 0].mean()), "raw_top10_mean": float(top.mean())}

    print()
    labels = {
        "raw_exact": "raw exact: IndexFlatIP top-10, research offers + needs",
        "raw_one_facet": "raw one facet: IndexFlatIP top-10, research offers",
        "A_catalog_match": "A: Catalog.match",
        "E_find_matches": "E: find_matches (retrieve, re-score, explain)",
        "B_run_match": "B: run_match (E + the run stored, commit)",
    }
    print_table(
        ["path", "p50 ms", "p95 ms", "mean ms", "p95 / raw p95"],
        [
            [
                labels[name],
                s["p50_ms"],
                s["p95_ms"],
                s["mean_ms"],
                f"{s['p95_ms'] / base:.2f}",
            ]
            for name, s in summaries.items()
        ],
    )
    print()
    print("setup: " + ", ".join(f"{k} {v:.2f}" for k, v in setup.items()))
    print(
        f"raw similarities: mean top-1 {similarity['raw_top1_mean']:.3f}, "
        f"mean top-10 {similarity['raw_top10_mean']:.3f}"
    )
    if checked:
        print(f"A and B return the same top-{LIMIT} ids for {same}/{len(checked)} queries")

    path = write_results(
        "match_latency",
        {
            "benchmark": "match_latency",
            "config": {
                "profiles": profiles,
                "company_profiles": len(companies),
                "research_profiles": len(research),
                "queries": args.queries,
                "warmup_queries": WARMUP_QUERIES,
                "seed": args.seed,
                "limit": LIMIT,
                "dimension": DIMENSION,
                "cluster_centres": N_CENTRES,
                "faiss_threads": 1,
            },
            "environment": environment(faiss=faiss.__version__),
            "setup_seconds": setup,
            "latency": summaries,
            "ratios": ratios,
            "similarity": similarity,
            "consistency": {"queries": len(checked), "A_equals_B_top_ids": same},
        },
    )
    print_written(path)
    size = (
        f"{profiles // 1_000_000}m"
        if profiles % 1_000_000 == 0
        else f"{profiles // 1000}k"
        if profiles % 1000 == 0
        else str(profiles)
    )
    headline = {
        "profiles": profiles,
        f"match_overhead_ratio_{size}": round(ratios["E_p95_over_raw_p95"], 3),
        f"match_overhead_ratio_one_facet_{size}": round(ratios["E_p95_over_raw_one_facet_p95"], 3),
        "match_p95_ms": round(summaries["E_find_matches"]["p95_ms"], 2),
        "match_stored_p95_ms": round(summaries["B_run_match"]["p95_ms"], 2),
        "raw_flat_p95_ms": round(base, 2),
        "raw_flat_one_facet_p95_ms": round(one_facet_base, 2),
    }
    print(json.dumps(headline))


if __name__ == "__main__":
    main()

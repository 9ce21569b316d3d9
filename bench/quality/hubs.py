"""``python -m bench.quality.hubs``: does damping broad "hub" profiles help?

A broad profile (a large university listing many unrelated projects) has
sentence vectors that point many ways, so the mean of them is short before
it is normalised: its *coherence* ``‖mean‖`` is low, and its normalised mean
lies near the centre of everything, close to many queries at once. Popularity
damping multiplies the dense similarity by ``coherence ** gamma``: ``gamma`` > 0
pushes broad profiles down, ``gamma`` < 0 lifts them. The shipped scorer
does not damp (it shows an organisation once, by its best profile, instead).

This compares ``gamma`` values on the real data (dense offers ↔ offers plus
lexical, the shipped weights), company → research, recall@10 and MRR.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import numpy as np

from bench.quality import cache, cordis
from bench.quality.metrics import summarise
from bench.quality.model import COMPANY_TO_RESEARCH
from matching.embedder import SentenceTransformerEmbedder
from matching.lexical import LexicalIndex, lexical_terms
from matching.scoring import RELEVANCE_WEIGHTS

GAMMAS = (-0.5, 0.0, 0.25, 0.5, 1.0)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--split", default="dev", choices=("dev", "test"))
    args = parser.parse_args(argv)
    evalset = cordis.load(args.split)
    orgs = evalset.orgs
    facets = cache.facets(SentenceTransformerEmbedder(), [org.offers for org in orgs])
    vectors = np.vstack([facet.vector for facet in facets])
    coherence = np.array([np.linalg.norm(f.sentence_vectors.mean(axis=0)) for f in facets])
    position = {org.key: i for i, org in enumerate(orgs)}
    targets = np.array([i for i, org in enumerate(orgs) if org.kind == "research"])
    terms = [lexical_terms(org.offers) for org in orgs]
    lexical = LexicalIndex()
    for i in targets:
        lexical.upsert(int(i), terms[i])
    queries = [q for q in evalset.queries if q.direction == COMPANY_TO_RESEARCH]
    dense_weight = RELEVANCE_WEIGHTS["domain"]
    lexical_weight = RELEVANCE_WEIGHTS["domain_lexical"]

    def shares(source: int) -> np.ndarray:
        ceiling = lexical.ceiling(terms[source]) or 1.0
        found = lexical.scores(terms[source])
        return np.array([found.get(int(t), 0.0) / ceiling for t in targets])

    parts = [
        (vectors[targets] @ vectors[position[q.key]], shares(position[q.key])) for q in queries
    ]
    print(f"cordis-{args.split}, company→research, {len(queries)} queries")
    for gamma in GAMMAS:
        damping = coherence[targets] ** gamma
        ranked = []
        for dense, lexical_share in parts:
            score = (dense_weight * dense * damping + lexical_weight * lexical_share) / (
                dense_weight + lexical_weight
            )
            order = targets[np.lexsort((targets, -np.round(score, 6)))][:100]
            ranked.append([orgs[t].key for t in order])
        cells = []
        for subset in ("new", "all"):
            chosen = [i for i, q in enumerate(queries) if q.positives.get(subset)]
            metrics = summarise(
                [ranked[i] for i in chosen], [queries[i].positives[subset] for i in chosen]
            )
            cells.append(f"{subset}: recall@10 {metrics['recall@10']:.4f} mrr {metrics['mrr']:.3f}")
        print(f"  gamma {gamma:+.2f}  " + " | ".join(cells))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Ranking metrics over a cut-off ranking (binary relevance)."""

from __future__ import annotations

import math
from collections.abc import Sequence

CUTOFF = 100  # rankings are evaluated down to this rank; MRR counts a hit below it as 0


def recall_at(ranking: Sequence[str], relevant: frozenset[str], k: int) -> float:
    """Share of the relevant items in the top ``k``."""
    return len(relevant.intersection(ranking[:k])) / len(relevant)


def reciprocal_rank(ranking: Sequence[str], relevant: frozenset[str]) -> float:
    """1 / rank of the first relevant item (0 when none is ranked)."""
    for rank, key in enumerate(ranking, start=1):
        if key in relevant:
            return 1.0 / rank
    return 0.0


def ndcg_at(ranking: Sequence[str], relevant: frozenset[str], k: int) -> float:
    """Normalised discounted cumulative gain at ``k``."""
    gain = sum(
        1.0 / math.log2(rank + 1) for rank, key in enumerate(ranking[:k], 1) if key in relevant
    )
    ideal = sum(1.0 / math.log2(rank + 1) for rank in range(1, min(len(relevant), k) + 1))
    return gain / ideal


def summarise(
    rankings: Sequence[Sequence[str]], relevants: Sequence[frozenset[str]]
) -> dict[str, float]:
    """Mean metrics over queries (each with at least one relevant item)."""
    count = len(rankings)
    if count == 0:
        return {"queries": 0}
    pairs = list(zip(rankings, relevants, strict=True))
    return {
        "queries": count,
        "recall@1": sum(recall_at(r, rel, 1) for r, rel in pairs) / count,
        "recall@5": sum(recall_at(r, rel, 5) for r, rel in pairs) / count,
        "recall@10": sum(recall_at(r, rel, 10) for r, rel in pairs) / count,
        "mrr": sum(reciprocal_rank(r, rel) for r, rel in pairs) / count,
        "ndcg@10": sum(ndcg_at(r, rel, 10) for r, rel in pairs) / count,
    }

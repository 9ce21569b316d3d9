"""The matching engine: embeddings, vector index, scoring and explanations.

A plain library: it knows nothing of HTTP or SQL, so it can be benchmarked and
reused alone.
"""

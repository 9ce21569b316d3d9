"""Benchmarks: match latency (``bench.match_latency``), embedding throughput
(``bench.embed_throughput``). Results are written to ``bench/results/`` (git-ignored).
"""

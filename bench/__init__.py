"""`make bench`: the export engine's speed and memory as ratios against baselines run alongside.

Absolute timings on shared machines are noise; ratios against a naive per-row Python export
and DuckDB doing the same export from the same segments, measured in the same run, are not.
Every measured export runs in a fresh process (`bench.runner`) so that its peak RSS is its own.
"""

"""Side-by-side benchmarks: the router against the same API written by hand and a raw floor.

Run `python -m bench` (or `python -m bench --quick`); see `docs/performance.md`.
"""

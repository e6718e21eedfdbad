"""Side-by-side benchmarks: the router against the seed's hand-written endpoints and a raw floor.

Run `python -m bench` (or `python -m bench --quick`); see `docs/performance.md`.
"""

"""DFG discovery: partnermine (polars) vs pm4py.discover_dfg, same group, same data.

Both count edges, start and end activities only (``performance=False``: no
mean/median durations, which pm4py.discover_dfg does not compute either).
Run: ``.venv/bin/python -m pytest benchmarks/test_dfg.py -p no:cacheprovider``
(add ``-m "slow or not slow"`` for 1e7). The ratio is pm4py's mean / ours.
"""

from __future__ import annotations

from functools import cache

import pytest

from benchmarks.discovery_ratios import generate_dfg_frame, to_pm4py_strings
from engine.dfg import discover_dfg

SIZES = [
    pytest.param(100_000, id="1e5"),
    pytest.param(1_000_000, id="1e6", marks=pytest.mark.slow),
    pytest.param(10_000_000, id="1e7", marks=pytest.mark.slow),
]


@cache
def frames(n_events: int):
    frame = generate_dfg_frame(n_events)
    return frame, to_pm4py_strings(frame)


@pytest.mark.parametrize("n_events", SIZES)
def test_dfg_partnermine(benchmark, n_events):
    frame, df = frames(n_events)
    benchmark.group = f"dfg-{n_events:.0e}"
    dfg = benchmark.pedantic(
        lambda: discover_dfg(frame.lazy(), performance=False), rounds=3, iterations=1
    )
    import pm4py

    edges, starts, ends = pm4py.discover_dfg(df.copy())
    assert {
        (r["source"], r["target"]): r["count"] for r in dfg.edges.to_dicts()
    } == dict(edges)
    assert dfg.to_dict()["start_activities"] == starts
    assert dfg.to_dict()["end_activities"] == ends


@pytest.mark.parametrize("n_events", SIZES)
def test_dfg_pm4py(benchmark, n_events):
    import pm4py

    _, df = frames(n_events)
    benchmark.group = f"dfg-{n_events:.0e}"
    edges, _, _ = benchmark.pedantic(
        lambda: pm4py.discover_dfg(df.copy()), rounds=1, iterations=1
    )
    assert sum(edges.values()) == n_events - df["case:concept:name"].nunique()

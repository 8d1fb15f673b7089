from __future__ import annotations

import pm4py
import pytest

from engine.dfg import discover_dfg


def test_dfg_counts_equal_pm4py_exactly(real_log):
    dataframe, frame = real_log
    edges, starts, ends = pm4py.discover_dfg(dataframe.copy())
    dfg = discover_dfg(frame.lazy())
    assert {
        (r["source"], r["target"]): r["count"] for r in dfg.edges.to_dicts()
    } == dict(edges)
    assert dfg.to_dict()["start_activities"] == starts
    assert dfg.to_dict()["end_activities"] == ends


def test_dfg_durations_equal_pm4py_performance_dfg(real_log):
    dataframe, frame = real_log
    performance, _, _ = pm4py.discover_performance_dfg(dataframe.copy())
    for row in discover_dfg(frame.lazy()).edges.to_dicts():
        expected = performance[(row["source"], row["target"])]
        assert row["mean_seconds"] == pytest.approx(expected["mean"], rel=1e-9)
        assert row["median_seconds"] == pytest.approx(expected["median"], rel=1e-9)


def test_dfg_of_one_partnership_equals_pm4py_on_that_case(real_log):
    dataframe, frame = real_log
    case = frame["case:concept:name"][0]
    subset = dataframe[dataframe["case:concept:name"] == case].copy()
    edges, starts, ends = pm4py.discover_dfg(subset)
    dfg = discover_dfg(frame.lazy(), partnerships=[case])
    assert {
        (r["source"], r["target"]): r["count"] for r in dfg.edges.to_dicts()
    } == dict(edges)
    assert dfg.to_dict()["start_activities"] == starts
    assert dfg.to_dict()["end_activities"] == ends

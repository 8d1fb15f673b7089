from __future__ import annotations

import itertools
import statistics
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import schema as s
from engine.dfg import EDGE_SCHEMA, discover_dfg

T0 = datetime(2020, 1, 1, tzinfo=UTC)

events_strategy = st.lists(
    st.tuples(
        st.sampled_from(["p", "q", "r", "s"]),
        st.sampled_from(["a", "b", "c", "d\x1fe"]),
        st.integers(min_value=0, max_value=5),
    ),
    max_size=40,
)


def to_frame(events: list[tuple[str, str, int]]) -> pl.LazyFrame:
    return pl.LazyFrame(
        {
            s.PARTNERSHIP_ID: [c for c, _, _ in events],
            s.ACTIVITY: [a for _, a, _ in events],
            s.TIMESTAMP: [T0 + timedelta(hours=h) for _, _, h in events],
        },
        schema={
            s.PARTNERSHIP_ID: pl.String,
            s.ACTIVITY: pl.String,
            s.TIMESTAMP: pl.Datetime("us", "UTC"),
        },
    )


def naive_dfg(events: list[tuple[str, str, int]]):
    """Brute-force oracle: group by case in row order, stable sort by time."""
    traces: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for case, activity, hour in events:
        traces[case].append((hour, activity))
    durations: dict[tuple[str, str], list[float]] = defaultdict(list)
    starts: Counter[str] = Counter()
    ends: Counter[str] = Counter()
    for trace in traces.values():
        ordered = sorted(trace, key=lambda e: e[0])  # sorted() is stable
        starts[ordered[0][1]] += 1
        ends[ordered[-1][1]] += 1
        for (h1, a1), (h2, a2) in itertools.pairwise(ordered):
            durations[(a1, a2)].append((h2 - h1) * 3600.0)
    edges = {
        k: (len(v), statistics.fmean(v), statistics.median(v))
        for k, v in durations.items()
    }
    return edges, dict(starts), dict(ends)


@settings(max_examples=60, deadline=None)
@given(events_strategy)
def test_dfg_matches_naive_oracle(events):
    dfg = discover_dfg(to_frame(events))
    edges, starts, ends = naive_dfg(events)
    got = {
        (r["source"], r["target"]): (r["count"], r["mean_seconds"], r["median_seconds"])
        for r in dfg.edges.to_dicts()
    }
    assert got.keys() == edges.keys()
    for key, (count, mean, median) in edges.items():
        assert got[key][0] == count
        assert got[key][1] == pytest.approx(mean)
        assert got[key][2] == pytest.approx(median)
    assert dict(dfg.start_activities.iter_rows()) == starts
    assert dict(dfg.end_activities.iter_rows()) == ends


@settings(max_examples=60, deadline=None)
@given(events_strategy)
def test_frequency_dfg_of_a_time_ordered_log_matches_naive_oracle(events):
    # A store read: events in global time order (ties in their row order).
    timed = sorted(events, key=lambda e: e[2])
    dfg = discover_dfg(to_frame(timed), performance=False)
    edges, starts, ends = naive_dfg(timed)
    assert {(r["source"], r["target"]): r["count"] for r in dfg.edges.to_dicts()} == {
        key: count for key, (count, _, _) in edges.items()
    }
    assert dfg.edges.select("mean_seconds", "median_seconds").null_count().row(0) == (
        dfg.edges.height,
        dfg.edges.height,
    )
    assert dfg.edges.schema == EDGE_SCHEMA
    assert dict(dfg.start_activities.iter_rows()) == starts
    assert dict(dfg.end_activities.iter_rows()) == ends


@settings(max_examples=25, deadline=None)
@given(events_strategy, st.sets(st.sampled_from(["p", "q", "x"])))
def test_dfg_of_selected_partnerships_is_dfg_of_their_events(events, selected):
    subset = [e for e in events if e[0] in selected]
    assert (
        discover_dfg(to_frame(events), partnerships=sorted(selected)).to_dict()
        == discover_dfg(to_frame(subset)).to_dict()
    )


def test_ties_keep_row_order():
    events = [("p", "b", 0), ("p", "a", 0), ("p", "c", 1)]
    dfg = discover_dfg(to_frame(events))
    assert dfg.edges.select("source", "target").rows() == [("a", "c"), ("b", "a")]
    assert dfg.to_dict()["start_activities"] == {"b": 1}


def test_edges_have_the_documented_schema_and_order():
    events = [("p", "a", 0), ("p", "b", 1), ("q", "a", 0), ("q", "b", 2), ("q", "c", 3)]
    dfg = discover_dfg(to_frame(events))
    assert dfg.edges.schema == EDGE_SCHEMA
    assert dfg.to_dict()["edges"] == [
        {
            "source": "a",
            "target": "b",
            "count": 2,
            "mean_seconds": 5400.0,
            "median_seconds": 5400.0,
        },
        {
            "source": "b",
            "target": "c",
            "count": 1,
            "mean_seconds": 3600.0,
            "median_seconds": 3600.0,
        },
    ]


def test_empty_frame_gives_empty_dfg():
    dfg = discover_dfg(to_frame([]))
    assert dfg.to_dict() == {"edges": [], "start_activities": {}, "end_activities": {}}


@settings(max_examples=30, deadline=None)
@given(events_strategy, st.integers(min_value=1, max_value=3))
def test_group_cases_keeps_each_case_in_stable_time_order_even_on_key_collisions(
    events, buckets
):
    from engine.dfg import group_cases

    frame = to_frame(events).collect().with_row_index("row")
    key = frame[s.PARTNERSHIP_ID].hash() % buckets  # force shared keys
    grouped = group_cases(frame, case_key=key)
    runs = grouped[s.PARTNERSHIP_ID].rle()
    assert runs.struct.field("value").n_unique() == runs.len()  # contiguous
    expected = frame.sort([s.PARTNERSHIP_ID, s.TIMESTAMP], maintain_order=True)
    for case in expected[s.PARTNERSHIP_ID].unique():
        rows = pl.col(s.PARTNERSHIP_ID) == case
        assert (
            grouped.filter(rows)["row"].to_list()
            == expected.filter(rows)["row"].to_list()
        )

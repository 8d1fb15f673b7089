from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import schema as s
from engine.variants import assign_variants, discover_variants, trace_frame

T0 = datetime(2020, 1, 1, tzinfo=UTC)

events_strategy = st.lists(
    st.tuples(
        st.sampled_from(["p", "q", "r", "s", "t"]),
        st.sampled_from(["a", "b", "c"]),
        st.integers(min_value=0, max_value=3),
    ),
    max_size=30,
)


def to_frame(events):
    return pl.LazyFrame(
        {
            s.PARTNERSHIP_ID: [c for c, _, _ in events],
            s.ACTIVITY: [a for _, a, _ in events],
            s.TIMESTAMP: [T0 + timedelta(days=d) for _, _, d in events],
        },
        schema={
            s.PARTNERSHIP_ID: pl.String,
            s.ACTIVITY: pl.String,
            s.TIMESTAMP: pl.Datetime("us", "UTC"),
        },
    )


def naive_traces(events):
    traces = defaultdict(list)
    for case, activity, day in events:
        traces[case].append((day, activity))
    return {
        c: tuple(a for _, a in sorted(t, key=lambda e: e[0])) for c, t in traces.items()
    }


@settings(max_examples=50, deadline=None)
@given(events_strategy)
def test_variants_match_naive_oracle(events):
    frame = to_frame(events)
    traces = naive_traces(events)
    got_traces = {c: tuple(t) for c, t in trace_frame(frame).collect().iter_rows()}
    assert got_traces == traces
    variants = discover_variants(frame).collect()
    assert Counter(
        {tuple(t): n for t, n in variants.select("trace", "count").iter_rows()}
    ) == Counter(traces.values())
    assert variants["variant_id"].to_list() == list(range(variants.height))
    counts = variants["count"].to_list()
    assert counts == sorted(counts, reverse=True)
    assigned = dict(assign_variants(frame).collect().iter_rows())
    trace_of = {
        vid: tuple(t) for vid, t in variants.select("variant_id", "trace").iter_rows()
    }
    assert {c: trace_of[v] for c, v in assigned.items()} == traces


def test_variant_ids_are_deterministic_on_ties():
    events = [("z", "a", 0), ("b", "c", 0), ("m", "a", 0), ("c", "c", 0)]
    variants = discover_variants(to_frame(events)).collect()
    assert variants.select("trace", "cases").rows() == [
        (["c"], ["b", "c"]),
        (["a"], ["m", "z"]),
    ]

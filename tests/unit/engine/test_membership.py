from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.membership import count_active_partners_at, count_active_partners_in_windows

T0 = datetime(2020, 1, 1, tzinfo=UTC)
day = st.integers(0, 30)


def _intervals(rows):
    return pl.LazyFrame(
        {
            "case:concept:name": [p for p, _, _ in rows],
            "organization": [f"o{i}" for i in range(len(rows))],
            "active_from": [
                None if a is None else T0 + timedelta(days=a) for _, a, _ in rows
            ],
            "active_until": [
                None if b is None else T0 + timedelta(days=b) for _, _, b in rows
            ],
        },
        schema={
            "case:concept:name": pl.String,
            "organization": pl.String,
            "active_from": pl.Datetime("us", "UTC"),
            "active_until": pl.Datetime("us", "UTC"),
        },
    )


interval = st.tuples(
    st.sampled_from("pq"), day, st.one_of(st.none(), st.integers(1, 20))
).map(lambda r: (r[0], r[1], None if r[2] is None else r[1] + r[2]))
never = st.tuples(st.sampled_from("pq"), st.none(), st.none())


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.one_of(interval, never), max_size=8),
    st.lists(st.tuples(st.sampled_from("pq"), day), min_size=1, max_size=6),
)
def test_counts_at_times_match_brute_force(rows, queries):
    at = pl.LazyFrame(
        {
            "case:concept:name": [p for p, _ in queries],
            "time:timestamp": [T0 + timedelta(days=d) for _, d in queries],
        }
    )
    got = (
        count_active_partners_at(_intervals(rows), at).collect()["_partners"].to_list()
    )
    expected = [
        sum(
            1
            for p, a, b in rows
            if p == q and a is not None and a <= t and (b is None or t < b)
        )
        for q, t in queries
    ]
    assert got == expected


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.one_of(interval, never), max_size=8),
    st.lists(
        st.tuples(st.sampled_from("pq"), day, st.integers(1, 10)),
        min_size=1,
        max_size=6,
    ),
)
def test_counts_in_windows_match_brute_force(rows, windows):
    grid = pl.LazyFrame(
        {
            "case:concept:name": [p for p, _, _ in windows],
            "window_start": [T0 + timedelta(days=s) for _, s, _ in windows],
            "window_end": [T0 + timedelta(days=s + w) for _, s, w in windows],
        }
    )
    got = (
        count_active_partners_in_windows(_intervals(rows), grid)
        .collect()["_partners"]
        .to_list()
    )
    expected = [
        sum(
            1
            for p, a, b in rows
            if p == q and a is not None and a < s + w and (b is None or b > s)
        )
        for q, s, w in windows
    ]
    assert got == expected

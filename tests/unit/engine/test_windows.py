from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.errors import ConfigError
from engine.windows import (
    LifecycleStages,
    RollingWindows,
    assign_windows,
    build_window_grid,
    parse_duration,
    parse_periods,
)

T0 = datetime(2020, 1, 1, tzinfo=UTC)


def _frame(days, phases=None, pid="p"):
    n = len(days)
    return pl.LazyFrame(
        {
            "case:concept:name": [pid] * n,
            "time:timestamp": [T0 + timedelta(days=d) for d in days],
            "phase": phases or [None] * n,
            "version": list(range(1, n + 1)),
        },
        schema_overrides={"phase": pl.String},
    )


def test_parse_periods_dates_inclusive_end_and_sorted():
    spec = parse_periods("II:2017-01-01..2018-12-31, I:2012-01-01..2016-12-31")
    assert [p.name for p in spec.periods] == ["I", "II"]
    assert spec.periods[0].start == datetime(2012, 1, 1, tzinfo=UTC)
    assert spec.periods[0].end == datetime(2017, 1, 1, tzinfo=UTC)


def test_parse_periods_datetime_end_exclusive():
    spec = parse_periods("a:2020-01-01T00:00..2020-01-02T12:00")
    assert spec.periods[0].end == datetime(2020, 1, 2, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    "spec",
    [
        "",
        "I",
        "I:2012-01-01",
        ":2012-01-01..2013-01-01",
        "I:2012-13-01..2013-01-01",
        "I:2013-01-01..2012-01-01",
        "I:2012-01-01..2013-01-01,I:2014-01-01..2015-01-01",
    ],
)
def test_parse_periods_rejects_bad_specs(spec):
    with pytest.raises(ConfigError):
        parse_periods(spec)


def test_parse_duration():
    assert parse_duration("2w") == timedelta(days=14)
    assert parse_duration("36h") == timedelta(hours=36)
    for bad in ("0d", "90", "d", "1y"):
        with pytest.raises(ConfigError):
            parse_duration(bad)


def test_rolling_windows_must_be_positive():
    with pytest.raises(ConfigError):
        RollingWindows(timedelta(0), timedelta(days=1))


def test_rolling_grid_includes_empty_windows_and_flags_complete():
    spec = RollingWindows(timedelta(days=20), timedelta(days=10))
    grid = build_window_grid(_frame([0, 45]), windows=spec).collect()
    assert grid["window_index"].to_list() == [0, 1, 2, 3, 4]
    assert grid["period"].to_list()[:2] == ["2020-01-01", "2020-01-11"]
    # [d0,d20) .. [d20,d40) are complete (an event at d45); [d30,d50) is not.
    assert grid["complete"].to_list() == [True, True, True, False, False]


def test_stages_fill_unphased_events_from_the_latest_phased_one():
    lf = _frame([0, 1, 2, 3], ["negotiation", None, "execution", None])
    out = assign_windows(lf, windows=LifecycleStages()).collect()
    assert out["period"].to_list() == [
        "negotiation",
        "negotiation",
        "execution",
        "execution",
    ]
    assert out["window_index"].to_list() == [0, 0, 2, 2]
    leading = assign_windows(
        _frame([0, 1], [None, "commitment"]), windows=LifecycleStages()
    )
    assert leading.collect()["period"].to_list() == ["commitment", "commitment"]


def test_named_periods_grid_overlaps_span_only():
    spec = parse_periods(
        "a:2019-01-01..2019-12-31,b:2020-01-01..2020-01-31,c:2021-01-01..2021-12-31"
    )
    grid = build_window_grid(_frame([0, 40]), windows=spec).collect()
    assert grid["period"].to_list() == ["b"]
    assert grid["complete"].to_list() == [True]


@settings(max_examples=40, deadline=None)
@given(
    days=st.lists(st.integers(0, 400), min_size=1, max_size=12),
    width=st.integers(1, 120),
    step=st.integers(1, 60),
)
def test_rolling_assignment_matches_brute_force(days, width, step):
    spec = RollingWindows(timedelta(days=width), timedelta(days=step))
    lf = _frame(days)
    got = assign_windows(lf, windows=spec).collect()
    pairs = sorted(
        zip(got["version"].to_list(), got["window_index"].to_list(), strict=True)
    )
    first = min(days)
    count = (max(days) - first) // step + 1
    expected = sorted(
        (v, k)
        for v, d in enumerate(days, start=1)
        for k in range(count)
        if first + k * step <= d < first + k * step + width
    )
    assert pairs == expected

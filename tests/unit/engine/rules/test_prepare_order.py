"""prepare_events' ``seq``: the rank of each event by (timestamp, version), else row order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import schema as s
from engine.rules import SEQ, prepare_events
from tests.unit.engine.rules.conftest import build_log

T0 = datetime(2020, 1, 1, tzinfo=UTC)
# Few distinct instants, so that ties are common; None is a missing timestamp.
instants = st.lists(st.one_of(st.none(), st.integers(0, 3)), min_size=1, max_size=30)


def expected_ranks(keys: list[tuple]) -> list[int]:
    """Rank rows by ``keys`` (nulls first), ties by row order: the naive way."""
    order = sorted(
        range(len(keys)),
        key=lambda i: (*((k is not None, k) for k in keys[i]), i),
    )
    ranks = [0] * len(keys)
    for rank, row in enumerate(order):
        ranks[row] = rank
    return ranks


def frame_of(days: list[int | None]) -> pl.DataFrame:
    rows = [
        {"id": f"e{i}", "act": "report_progress", "day": 0} for i in range(len(days))
    ]
    log = build_log(rows)
    stamps = [None if d is None else T0 + timedelta(days=d) for d in days]
    return log.with_columns(pl.Series(s.TIMESTAMP, stamps, s.EVENT_SCHEMA[s.TIMESTAMP]))


@settings(max_examples=60, deadline=None)
@given(days=instants)
def test_seq_ranks_by_timestamp_then_row_order_without_version(days):
    frame = frame_of(days).drop(s.VERSION)
    seq = prepare_events(frame).collect()[SEQ].to_list()
    assert seq == expected_ranks([(d,) for d in days])


@settings(max_examples=60, deadline=None)
@given(days=instants, data=st.data())
def test_seq_ranks_by_timestamp_then_version(days, data):
    versions = data.draw(st.permutations(range(len(days))))
    frame = frame_of(days).with_columns(pl.Series(s.VERSION, versions, pl.Int64))
    seq = prepare_events(frame).collect()[SEQ].to_list()
    assert seq == expected_ranks([(d, v) for d, v in zip(days, versions, strict=True)])


def test_seq_ranks_only_the_events_observed_by_as_of():
    frame = frame_of([2, 0, 3, 1, 0]).drop(s.VERSION)
    prepared = prepare_events(frame, as_of=T0 + timedelta(days=1)).collect()
    assert prepared[s.EVENT_ID].to_list() == ["e1", "e3", "e4"]
    assert prepared[SEQ].to_list() == [0, 2, 1]

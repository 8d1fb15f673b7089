"""ISO 8601 timestamps with an offset: fast column path, same reading per value."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pytest

from adapters.io.timestamps import UNPARSEABLE_REASON, parse_timestamps
from engine import schema as s

_PLAIN = "2020-01-01T12:00:00+02:00"


def test_a_column_in_the_strict_layout_keeps_instants_and_offsets():
    out = parse_timestamps(
        pl.Series(
            [
                "2020-01-01T12:00:00.123456+05:30",
                "2019-12-31T23:59:59-03:30",
                "2020-02-29T00:00:00.5+00:00",
                None,
            ]
        )
    )
    assert out[s.TIMESTAMP].to_list() == [
        datetime(2020, 1, 1, 6, 30, 0, 123456, tzinfo=UTC),
        datetime(2020, 1, 1, 3, 29, 59, tzinfo=UTC),
        datetime(2020, 2, 29, 0, 0, 0, 500000, tzinfo=UTC),
        None,
    ]
    assert out[s.TZ_OFFSET].to_list() == [19800, -12600, 0, None]
    assert out["problem"].to_list() == [None] * 4


@pytest.mark.parametrize(
    "value",
    [
        "2020-01-01T12+02:00",  # reduced precision: ISO 8601, but not read here
        "2020-02-30T12:00:00+02:00",
        "2020-01-01T12:00:00.1234567+02:00",
        "2020-01-01 12:00:00+02:00",
        "2020-01-01T12:00:00Z",
        "2016-12-31T23:59:60+00:00",
    ],
)
def test_a_value_reads_the_same_whatever_its_neighbours(value):
    among_plain = parse_timestamps(pl.Series([value, _PLAIN, _PLAIN])).row(0)
    among_odd = parse_timestamps(pl.Series([value, "yesterday", _PLAIN])).row(0)
    alone = parse_timestamps(pl.Series([value])).row(0)
    assert among_plain == among_odd == alone
    if value == "2020-01-01T12+02:00":
        assert alone[2] == UNPARSEABLE_REASON

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from adapters.io.tabular import ColumnMapping, read_csv_events, read_parquet_events
from engine import schema as s
from engine.errors import ValidationError
from engine.memory_store import MemoryEventStore
from tests.conftest import TickingClock

DATA = Path(__file__).resolve().parents[3] / "data" / "io"
TICKETS = ColumnMapping(
    case="ticket",
    activity="step",
    timestamp="when",
    resource="who",
    organization="team",
)


def test_csv_with_a_column_mapping():
    batch = read_csv_events(
        DATA / "tickets.csv", columns=TICKETS, timezone="Europe/Helsinki"
    )
    batch.raise_if_invalid()
    frame = batch.frame
    assert frame.select(
        s.PARTNERSHIP_ID, s.ACTIVITY, s.ACTOR, s.ORGANIZATION
    ).rows() == [
        ("T-1", "Open ticket", "ann", "desk"),
        ("T-1", "Resolve", "bob", "desk"),
        ("T-2", "Open ticket", "ann", "field"),
    ]
    # Helsinki is UTC+3 in May; the offset is kept
    assert frame[s.TIMESTAMP][0] == datetime(2021, 5, 1, 6, tzinfo=UTC)
    assert frame[s.TZ_OFFSET].to_list() == [10800] * 3
    assert frame[s.ATTRIBUTES].to_list() == [
        '{"cost":"12.5","note":"first, with a comma"}',
        '{"cost":"3"}',
        '{"note":"line one\\nline two"}',
    ]
    assert batch.source_rows.to_list() == [1, 2, 3]


def test_naive_csv_timestamps_without_a_zone_are_errors():
    with pytest.raises(ValidationError) as info:
        read_csv_events(DATA / "tickets.csv", columns=TICKETS).raise_if_invalid()
    assert (info.value.row, info.value.field) == (1, "when")
    assert "naive" in info.value.reason


def test_timestamp_format():
    path = DATA / "bad_rows.csv"
    batch = read_csv_events(
        path,
        columns=ColumnMapping(
            case="ticket",
            activity="step",
            timestamp="when",
            timestamp_format="%d/%m/%Y",
        ),
        timezone="UTC",
    )
    assert batch.frame[s.TIMESTAMP][3] == datetime(2021, 12, 31, tzinfo=UTC)


def test_bad_rows_are_all_located():
    batch = read_csv_events(
        DATA / "bad_rows.csv",
        columns=ColumnMapping(case="ticket", activity="step", timestamp="when"),
    )
    valid, rejects = batch.split_valid()
    assert valid.height == 1
    assert rejects.select("row", "field", "reason").rows() == [
        (2, "step", "missing"),
        (3, "ticket", "missing"),
        (4, "when", "unparseable timestamp"),
        (5, "when", "missing or unparseable"),
    ]
    assert rejects["when"].to_list()[2] == "31/12/2021"
    with pytest.raises(ValidationError) as info:
        batch.raise_if_invalid()
    assert str(info.value).startswith(
        f"{DATA / 'bad_rows.csv'}, row 2, field 'step': missing"
    )


def test_missing_column_names_the_option():
    with pytest.raises(
        ValidationError, match=r"missing column 'case_id' \(mapped with --case\)"
    ) as info:
        read_csv_events(
            DATA / "tickets.csv",
            columns=ColumnMapping(case="case_id", activity="step", timestamp="when"),
        )
    assert info.value.field == "case_id"
    with pytest.raises(ValidationError, match="--resource"):
        read_csv_events(
            DATA / "tickets.csv",
            columns=ColumnMapping(
                case="ticket", activity="step", timestamp="when", resource="nobody"
            ),
        )


def test_default_mapping_uses_pm4py_names(tmp_path):
    path = tmp_path / "pm.csv"
    path.write_text(
        "case:concept:name,concept:name,time:timestamp,org:resource\nc1,a,2020-01-01T00:00:00Z,r1\n"
    )
    frame = read_csv_events(path).frame
    assert frame.select(s.PARTNERSHIP_ID, s.ACTIVITY, s.ACTOR, s.ATTRIBUTES).row(0) == (
        "c1",
        "a",
        "r1",
        None,
    )


def test_ragged_csv_is_a_validation_error(tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text('a,b\n1,2,3,4\n"unclosed\n')
    with pytest.raises(ValidationError, match="CSV"):
        read_csv_events(path)


def test_parquet_keeps_types_and_rejects_nested_columns(tmp_path):
    path = tmp_path / "t.parquet"
    pl.DataFrame(
        {
            "case": ["c1", "c2"],
            "act": ["a", "b"],
            "ts": [datetime(2020, 1, 1, 12), datetime(2020, 7, 1, 12)],
            "n": [1, None],
            "ok": [True, False],
            "tags": [["x"], []],
        }
    ).with_columns(pl.col("ts").dt.replace_time_zone("Europe/Helsinki")).write_parquet(
        path
    )
    frame = read_parquet_events(
        path, columns=ColumnMapping(case="case", activity="act", timestamp="ts")
    ).frame
    assert frame[s.TZ_OFFSET].to_list() == [7200, 10800]
    assert frame[s.ATTRIBUTES].to_list() == [
        '{"n":1,"ok":true,"tags":["x"]}',
        '{"ok":false,"tags":[]}',
    ]
    with pytest.raises(ValidationError, match="wrong type") as info:
        read_parquet_events(
            path, columns=ColumnMapping(case="tags", activity="act", timestamp="ts")
        )
    assert info.value.field == "tags"


def test_naive_parquet_datetimes_need_a_zone(tmp_path):
    path = tmp_path / "naive.parquet"
    pl.DataFrame(
        {
            "case:concept:name": ["c"],
            "concept:name": ["a"],
            "time:timestamp": [datetime(2020, 1, 1)],
        }
    ).write_parquet(path)
    assert "naive" in read_parquet_events(path).problems["reason"][0]
    zoned = read_parquet_events(path, timezone="America/New_York").frame
    assert zoned[s.TIMESTAMP][0] == datetime(2020, 1, 1, 5, tzinfo=UTC)
    assert zoned[s.TZ_OFFSET][0] == -18000


def test_not_parquet_is_a_validation_error(tmp_path):
    path = tmp_path / "x.parquet"
    path.write_text("nope")
    with pytest.raises(ValidationError, match="Parquet"):
        read_parquet_events(path)


def test_csv_reimport_is_idempotent():
    store = MemoryEventStore(clock=TickingClock())
    first = store.append_frame(
        read_csv_events(DATA / "tickets.csv", columns=TICKETS, timezone="UTC").frame
    )
    again = store.append_frame(
        read_csv_events(DATA / "tickets.csv", columns=TICKETS, timezone="UTC").frame
    )
    assert (first.appended, again.appended, again.duplicates) == (3, 0, 3)

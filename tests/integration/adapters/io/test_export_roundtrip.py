from __future__ import annotations

import warnings
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from adapters.io.export import write_events
from adapters.io.jsonl import read_jsonl
from adapters.io.tabular import read_csv_events, read_parquet_events
from adapters.io.xes import read_xes
from engine import schema as s
from engine.errors import ValidationError
from engine.memory_store import MemoryEventStore
from tests.conftest import LOGS, TickingClock

if TYPE_CHECKING:
    import polars as pl

DATA = Path(__file__).resolve().parents[3] / "data" / "io"
READERS = {
    "xes": read_xes,
    "jsonl": read_jsonl,
    "csv": read_csv_events,
    "parquet": read_parquet_events,
}


def stored(frame: pl.DataFrame) -> pl.DataFrame:
    store = MemoryEventStore(clock=TickingClock())
    store.append_frame(frame)
    return store.to_frame()


@pytest.fixture(scope="module")
def domain_events() -> pl.DataFrame:
    # participants, phase, workstream, typed attributes and several offsets
    return stored(read_jsonl(DATA / "events.jsonl").frame)


@pytest.mark.parametrize("fmt", ["xes", "jsonl", "csv", "parquet"])
def test_store_to_file_to_store_is_lossless(tmp_path, domain_events, fmt):
    path = tmp_path / f"out.{fmt}"
    assert write_events(domain_events, path, fmt=fmt) == 3
    back = READERS[fmt](path)
    back.raise_if_invalid()
    columns = list(s.INPUT_COLUMNS)
    if fmt == "xes":
        # XES has no slot for participants/phase/workstream: they come back as attributes
        columns = [
            s.EVENT_ID,
            s.PARTNERSHIP_ID,
            s.ACTIVITY,
            s.TIMESTAMP,
            s.TZ_OFFSET,
            s.ACTOR,
            s.ORGANIZATION,
        ]
    assert back.frame.select(columns).equals(domain_events.select(columns))


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet", "xes"])
def test_reimporting_an_export_is_a_noop(tmp_path, fmt):
    events = stored(read_xes(LOGS / "running-example.xes").frame)
    path = tmp_path / f"out.{fmt}"
    write_events(events, path, fmt=fmt)
    store = MemoryEventStore(clock=TickingClock())
    store.append_frame(events.select(s.INPUT_COLUMNS))
    report = store.append_frame(READERS[fmt](path).frame)
    assert (report.appended, report.duplicates) == (0, 42)


def test_xes_store_xes_keeps_case_activity_timestamp_resource(tmp_path):
    original = read_xes(LOGS / "08_receipt.xes.gz").frame
    events = stored(original)
    path = tmp_path / "receipt.xes.gz"
    write_events(events, path, fmt="xes")
    back = read_xes(path).frame
    keep = [
        s.PARTNERSHIP_ID,
        s.ACTIVITY,
        s.TIMESTAMP,
        s.TZ_OFFSET,
        s.ACTOR,
        s.ORGANIZATION,
        s.ATTRIBUTES,
    ]
    assert Counter(back.select(keep).rows()) == Counter(original.select(keep).rows())


def test_exported_xes_reads_in_pm4py(tmp_path, domain_events):
    pm4py = pytest.importorskip("pm4py")
    path = tmp_path / "out.xes"
    write_events(domain_events, path, fmt="xes")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df = pm4py.read_xes(
            str(path), return_legacy_log_object=False, show_progress_bar=False
        )
    assert list(df["case:concept:name"]) == ["oh", "oh", "oh"]
    assert list(df["concept:name"]) == [
        "initiate_partnership",
        "agree_action_plan",
        "start_action",
    ]
    assert [
        t.to_pydatetime() for t in df["time:timestamp"].dt.tz_convert("UTC")
    ] == domain_events[s.TIMESTAMP].to_list()
    assert df["org:resource"].iloc[0] == "sp_cm"
    assert df["budget"].iloc[1] == 1200.5


def test_unknown_export_format(tmp_path, domain_events):
    with pytest.raises(ValidationError, match="unknown export format"):
        write_events(domain_events, tmp_path / "x.txt", fmt="txt")

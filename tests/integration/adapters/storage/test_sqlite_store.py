"""The SQLite store on real files: durability settings, reopening, concurrency."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from adapters.storage.sqlite import SqliteEventStore
from engine import schema as s
from engine.errors import (
    ConcurrencyError,
    DuplicateEventError,
    NotFoundError,
    StoreError,
)
from engine.events import new_events_to_frame
from engine.ports import Checkpoint
from tests.conftest import TickingClock, make_event

ROOT = Path(__file__).resolve().parents[4]


def open_store(path: Path, *, create: bool = False) -> SqliteEventStore:
    return SqliteEventStore(path, clock=TickingClock(), create=create)


def sample_events(n: int, *, start: int = 1, partnerships: int = 3):
    return [
        make_event(
            i,
            f"p{i % partnerships}",
            "agree_action_plan" if i % 4 == 0 else "feedback_meeting",
            day=i,
            actor=f"a{i % 5}",
            organization="EM" if i % 2 else "SP",
            participants=(("a1", "EM", "top_manager"), ("a2", "SP", "specialist")),
            workstream="contract" if i % 3 else None,
            attributes={"idea_id": f"i{i % 7}"} if i % 4 == 0 else {},
        )
        for i in range(start, start + n)
    ]


def test_settings_are_in_effect(tmp_path):
    path = tmp_path / "log.db"
    store = open_store(path, create=True)
    assert store.settings() == {
        "journal_mode": "wal",
        "synchronous": 2,  # FULL
        "busy_timeout": 30000,
    }
    store.close()
    with closing(sqlite3.connect(path)) as con:
        assert con.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_reopened_file_keeps_everything(tmp_path):
    path = tmp_path / "log.db"
    store = open_store(path, create=True)
    report = store.append_frame(
        new_events_to_frame(sample_events(40)), checkpoint=Checkpoint("watch", 40)
    )
    assert report.appended == 40
    before = store.to_frame()
    store.close()
    again = open_store(path, create=True)  # init is idempotent
    assert again.to_frame().equals(before)
    assert again.read_checkpoint("watch") == 40
    assert again.stream_version("p1") == 14
    assert again.verify().ok
    again.close()


def test_missing_or_foreign_files_are_refused(tmp_path):
    with pytest.raises(NotFoundError, match="partnermine init"):
        open_store(tmp_path / "absent.db")
    assert not (tmp_path / "absent.db").exists()
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    with pytest.raises(NotFoundError, match="not a partnermine event store"):
        open_store(empty)
    text = tmp_path / "notes.txt"
    text.write_text("not a database at all\n" * 100)
    with pytest.raises(StoreError):
        open_store(text)


def test_update_and_delete_are_refused_by_the_file(tmp_path):
    path = tmp_path / "log.db"
    store = open_store(path, create=True)
    store.append("p1", [make_event(1)])
    con = sqlite3.connect(path)
    for sql in (
        "DELETE FROM events",
        "DELETE FROM event_ids",
        "UPDATE streams SET version = 9",
    ):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            con.execute(sql)
    con.close()
    assert store.verify().ok
    store.close()


def test_participants_nulls_and_empty_lists_round_trip(tmp_path):
    store = open_store(tmp_path / "log.db", create=True)
    frame = new_events_to_frame(
        [make_event(1), make_event(2, participants=(("x", "EM", "manager"),))]
    ).with_columns(
        pl.Series(
            s.PARTICIPANTS,
            [None, [{"actor": None, "organization": "SP", "role": "other"}]],
            dtype=pl.List(s.PARTICIPANT_DTYPE),
        )
    )
    frame = pl.concat([frame, new_events_to_frame([make_event(3)])])
    store.append_frame(frame)
    back = store.read_all()[s.PARTICIPANTS].to_list()
    assert back == [
        None,
        [{"actor": None, "organization": "SP", "role": "other"}],
        [],
    ]
    assert store.verify().ok
    store.close()


def test_large_batches_detect_duplicates_and_clashes(tmp_path):
    store = open_store(tmp_path / "log.db", create=True)
    events = sample_events(450)
    assert store.append_frame(new_events_to_frame(events)).appended == 450
    again = store.append_frame(new_events_to_frame(events))
    assert (again.appended, again.duplicates) == (0, 450)
    clash = [*sample_events(300, start=1000), make_event(7, activity="x")]
    with pytest.raises(DuplicateEventError):
        store.append_frame(new_events_to_frame(clash))
    assert store.head_position() == 450
    store.close()


def test_v1_rows_are_upcast_on_read(tmp_path):
    store = open_store(tmp_path / "log.db", create=True)
    old = make_event(1, schema_version=1, attributes={"topic": "funding", "n": 1})
    store.append("p1", [old], expected_version=0)
    [read] = store.read_stream("p1")
    assert (read.schema_version, read.workstream) == (2, "funding")
    assert store.read_all()[s.WORKSTREAM].to_list() == ["funding"]
    # the stored row itself is untouched, so its hash still checks out
    assert store.verify().ok
    store.close()


def append_with_retries(store, partnership, ids):
    for n in ids:
        while True:
            version = store.stream_version(partnership)
            try:
                store.append(
                    partnership, [make_event(n, partnership)], expected_version=version
                )
                break
            except ConcurrencyError:
                continue


def assert_complete_chain(path: Path, n: int) -> None:
    store = open_store(path)
    frame = store.to_frame()
    assert frame.height == n
    assert frame[s.VERSION].to_list() == list(range(1, n + 1))
    assert frame[s.POSITION].to_list() == list(range(1, n + 1))
    assert store.verify().ok
    store.close()


def test_concurrent_threads_with_retries_lose_nothing(tmp_path):
    path = tmp_path / "log.db"
    open_store(path, create=True).close()
    stores = [open_store(path) for _ in range(2)]
    threads = [
        threading.Thread(
            target=append_with_retries,
            args=(st, "shared", range(k * 100, k * 100 + 10)),
        )
        for k, st in enumerate(stores)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for st in stores:
        st.close()
    assert_complete_chain(path, 20)


WRITER = """
import sys
from adapters.storage.sqlite import SqliteEventStore
from engine.errors import ConcurrencyError
from tests.conftest import TickingClock, make_event

path, first = sys.argv[1], int(sys.argv[2])
store = SqliteEventStore(path, clock=TickingClock())
for n in range(first, first + 8):
    while True:
        try:
            store.append("shared", [make_event(n, "shared")],
                         expected_version=store.stream_version("shared"))
            break
        except ConcurrencyError:
            pass
store.close()
"""


@pytest.mark.slow  # two interpreters importing polars: several seconds
def test_concurrent_processes_with_retries_lose_nothing(tmp_path):
    path = tmp_path / "log.db"
    open_store(path, create=True).close()
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path), str(first)], cwd=ROOT
        )
        for first in (1, 1001)
    ]
    assert [w.wait(timeout=120) for w in writers] == [0, 0]
    assert_complete_chain(path, 16)


def test_time_filters_use_utc_microseconds(tmp_path):
    store = open_store(tmp_path / "log.db", create=True)
    store.append_frame(new_events_to_frame(sample_events(10)))
    picked = store.to_frame(
        partnerships=["p1", "p2"],
        start=datetime(2020, 1, 3, tzinfo=UTC),
        end=datetime(2020, 1, 8),  # naive: read as UTC
    )
    assert picked[s.TIMESTAMP].dt.day().to_list() == [3, 5, 6]
    store.close()


def test_key_rows_written_behind_the_store_are_honoured(tmp_path):
    # Key rows a racing writer committed: the store reads them as the current
    # state (heads and known ids come from the key tables), and their UNIQUE
    # keys refuse a second row for the same id or (stream, version).
    path = tmp_path / "log.db"
    store = open_store(path, create=True)
    with closing(sqlite3.connect(path)) as con, con:
        con.execute(
            "INSERT INTO event_ids VALUES (?, 999, zeroblob(32))",
            (make_event(5).event_id.bytes,),
        )
        con.execute("INSERT INTO partnerships (name) VALUES ('p9')")
        con.execute(
            "INSERT INTO streams SELECT id, 1, 998, zeroblob(32) FROM partnerships "
            "WHERE name = 'p9'"
        )
    with pytest.raises(DuplicateEventError):
        store.append("p1", [make_event(5)])
    with pytest.raises(ConcurrencyError, match="expected version 0"):
        store.append("p9", [make_event(6, "p9")], expected_version=0)
    with (
        closing(sqlite3.connect(path)) as con,
        pytest.raises(sqlite3.IntegrityError, match="UNIQUE"),
    ):
        con.execute(
            "INSERT INTO streams SELECT id, 1, 997, zeroblob(32) FROM partnerships "
            "WHERE name = 'p9'"
        )
    assert store.head_position() == 0
    store.close()

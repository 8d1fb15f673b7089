"""Columnar segments of the SQLite store: reads equal the row path, copies agree.

A store that keeps every event as rows (``seal_events`` larger than any batch)
is the reference: fed the same batches with the same clock, a segmented store
must read back identical frames through every read method, and ``verify``
must catch an edit to any of an event's copies.
"""

from __future__ import annotations

import sqlite3
import time
from contextlib import closing
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from adapters.storage import _sqlite_segments
from adapters.storage.sqlite import SqliteEventStore
from engine import schema as s
from engine.errors import StoreError
from engine.events import new_events_to_frame
from tests.conftest import TickingClock, make_event, update_behind_trigger
from tests.integration.adapters.storage.test_sqlite_store import sample_events

if TYPE_CHECKING:
    from pathlib import Path

ROWS_ONLY = 10**9
# Batches: singles (rows), a bulk batch that seals them, more singles, bulk.
BATCHES = (1, 1, 3, 40, 2, 1, 25, 1)


def build(path: Path, seal_events: int) -> SqliteEventStore:
    store = SqliteEventStore(
        path, clock=TickingClock(), create=True, seal_events=seal_events
    )
    start = 1
    for size in BATCHES:
        store.append_frame(new_events_to_frame(sample_events(size, start=start)))
        start += size
    return store


@pytest.fixture
def pair(tmp_path):
    reference = build(tmp_path / "rows.db", ROWS_ONLY)
    segmented = build(tmp_path / "segments.db", 4)
    yield reference, segmented, tmp_path / "segments.db"
    reference.close()
    segmented.close()


def count(path: Path, sql: str) -> int:
    with closing(sqlite3.connect(path)) as con:
        return int(con.execute(sql).fetchone()[0])


def test_batches_go_to_segments_and_rows_as_designed(pair):
    _, _, path = pair
    # 1+1+3 rows, sealed once 4 are unsealed (segment 1..5); the 40-batch
    # (6..45); 2+1 rows, sealed with the 25-batch (46..73); the last single
    # is a row past the last segment.
    assert count(path, "SELECT count(*) FROM events") == 1 + 1 + 3 + 2 + 1 + 1
    assert count(path, "SELECT max(last_position) FROM segments") == 73
    assert count(path, "SELECT sum(events) FROM segments") == 73
    assert count(path, "SELECT count(*) FROM event_ids") == sum(BATCHES)


def test_every_read_equals_the_row_path(pair):
    reference, segmented, _ = pair
    assert_frame_equal(segmented.to_frame(), reference.to_frame())
    assert segmented.head_position() == reference.head_position() == sum(BATCHES)
    for start, limit in ((1, None), (3, 10), (44, 5), (70, None), (74, 3), (99, 2)):
        assert_frame_equal(
            segmented.read_all(from_position=start, limit=limit),
            reference.read_all(from_position=start, limit=limit),
        )
    for partnership in ("p0", "p1", "p2", "nobody"):
        assert segmented.read_stream(partnership, from_version=4) == (
            reference.read_stream(partnership, from_version=4)
        )
    picked = {
        "partnerships": ["p1", "p2"],
        "start": datetime(2020, 1, 20, tzinfo=UTC),
        "end": datetime(2020, 2, 20, tzinfo=UTC),
    }
    assert_frame_equal(segmented.to_frame(**picked), reference.to_frame(**picked))
    assert segmented.to_frame(partnerships=[]).is_empty()


def test_retries_of_segment_events_return_the_originals(pair):
    reference, segmented, _ = pair
    again = sample_events(30, start=10)
    assert segmented.append_frame(new_events_to_frame(again)).duplicates == 30
    by_stream = [e for e in again if e.partnership_id == "p1"]
    assert segmented.append("p1", by_stream) == reference.append("p1", by_stream)


def test_verify_passes_and_reopened_store_reads_the_same(pair):
    _, segmented, path = pair
    assert segmented.verify().ok
    reopened = SqliteEventStore(path, clock=TickingClock(), seal_events=4)
    assert_frame_equal(reopened.to_frame(), segmented.to_frame())
    reopened.close()


def verify_again(path: Path):
    store = SqliteEventStore(path, clock=TickingClock(), seal_events=4)
    try:
        return store.verify().first_broken
    finally:
        store.close()


def test_verify_catches_an_edited_sealed_row(tmp_path):
    path = tmp_path / "log.db"
    build(path, 4).close()
    update_behind_trigger(
        path,
        "events_no_update",
        ("UPDATE events SET attributes = '{\"x\":1}' WHERE position = 2", ()),
    )
    # Reads come from the segment, so the log itself still checks out; the
    # row copy no longer does.
    broken = verify_again(path)
    assert broken is not None
    assert broken.position == 2
    assert "sealed segment copy" in broken.reason


def test_verify_catches_an_edited_key_row(tmp_path):
    path = tmp_path / "log.db"
    build(path, 4).close()
    update_behind_trigger(
        path,
        "streams_no_update",
        ("UPDATE streams SET hash = zeroblob(32) WHERE position = 30", ()),
    )
    broken = verify_again(path)
    assert broken is not None
    assert broken.position == 30
    assert "key rows disagree" in broken.reason


def test_verify_catches_a_rewritten_segment(tmp_path):
    path = tmp_path / "log.db"
    build(path, 4).close()
    with closing(sqlite3.connect(path)) as con:
        first, data = con.execute(
            "SELECT first_position, data FROM segments "
            "WHERE 7 BETWEEN first_position AND last_position"
        ).fetchone()
    shorter = _sqlite_segments.encode_segment(
        _sqlite_segments.decode_segment(data).filter(pl.col(s.POSITION) != 7)
    )
    update_behind_trigger(
        path,
        "segments_no_update",
        ("UPDATE segments SET data = ? WHERE first_position = ?", (shorter, first)),
    )
    broken = verify_again(path)
    assert broken is not None
    assert broken.position <= 7


def test_segments_are_append_only(pair):
    _, _, path = pair
    with closing(sqlite3.connect(path)) as con:
        for sql in ("DELETE FROM segments", "UPDATE segments SET events = 0"):
            with pytest.raises(sqlite3.IntegrityError, match="append-only"):
                con.execute(sql)


def test_big_batches_are_split_into_bounded_segments(tmp_path, monkeypatch):
    monkeypatch.setattr(_sqlite_segments, "SEGMENT_MAX_EVENTS", 16)
    path = tmp_path / "log.db"
    store = SqliteEventStore(path, clock=TickingClock(), create=True, seal_events=4)
    store.append_frame(new_events_to_frame(sample_events(50)))
    assert count(path, "SELECT count(*) FROM segments") == 4
    assert count(path, "SELECT max(events) FROM segments") == 16
    assert store.to_frame()[s.POSITION].to_list() == list(range(1, 51))
    assert store.verify().ok
    store.close()


@pytest.mark.parametrize(
    "failing",
    [
        "event id writer",
        "event id writer, SQLite rolled back",
        "chain",
        "stream writer",
        "segment encoder",
    ],
)
def test_a_failure_on_either_side_of_a_bulk_write_leaves_the_store_as_it_was(
    tmp_path, monkeypatch, failing
):
    # A bulk batch writes its event_ids rows on a worker thread while its
    # chain is computed, then its streams rows while its segments are
    # encoded: an error on either side fails the append, after the other
    # side has finished, and the transaction leaves nothing behind. On some
    # errors (disk full, I/O error) SQLite ends the transaction itself: no
    # write queued after the failed one may then land, committed on its own,
    # and the first error is the one reported.
    path = tmp_path / "log.db"
    store = SqliteEventStore(path, clock=TickingClock(), create=True, seal_events=4)
    store.append_frame(new_events_to_frame(sample_events(10)))
    before = store.to_frame()
    connection = type(store._conn)
    ingest = connection.ingest

    def fail(*_args, **_kwargs):
        msg = f"{path}: out of memory"
        raise StoreError(msg)

    if "writer" in failing:
        table_to_fail = "streams" if failing == "stream writer" else "event_ids"

        def fail_on(self, table, frame, *, temporary):
            if table == table_to_fail:
                time.sleep(0.2)  # the other side is done first
                if "rolled back" in failing:
                    self.execute("ROLLBACK")  # what SQLite does on SQLITE_FULL
                msg = f"{path}: disk I/O error"
                raise StoreError(msg)
            ingest(self, table, frame, temporary=temporary)

        monkeypatch.setattr(connection, "ingest", fail_on)
    elif failing == "chain":
        monkeypatch.setattr("adapters.storage._sqlite_writes.chain_batch", fail)
    else:
        monkeypatch.setattr("adapters.storage._sqlite_writes.encode_segment", fail)
    with pytest.raises(StoreError, match=r"disk I/O|out of memory"):
        store.append_frame(new_events_to_frame(sample_events(20, start=11)))
    monkeypatch.undo()
    for table in ("event_ids", "streams"):
        assert count(path, f"SELECT count(*) FROM {table}") == 10
    assert count(path, "SELECT count(*) FROM segments") == 1
    assert_frame_equal(store.to_frame(), before)
    assert store.verify().ok
    # The store still takes the same batch once the fault is gone.
    store.append_frame(new_events_to_frame(sample_events(20, start=11)))
    assert store.to_frame().height == 30
    assert store.verify().ok
    store.close()


def test_a_store_of_another_format_is_refused(tmp_path):
    path = tmp_path / "log.db"
    SqliteEventStore(path, clock=TickingClock(), create=True).close()
    with closing(sqlite3.connect(path)) as con, con:
        con.execute("UPDATE meta SET value = '1' WHERE key = 'store_format'")
    with pytest.raises(StoreError, match="store format 1"):
        SqliteEventStore(path, clock=TickingClock())


def test_single_events_stay_readable_before_and_after_sealing(tmp_path):
    store = SqliteEventStore(
        tmp_path / "log.db", clock=TickingClock(), create=True, seal_events=3
    )
    for n in range(1, 8):
        store.append("p1", [make_event(n, day=n)])
        assert store.read_all()[s.VERSION].to_list() == list(range(1, n + 1))
    assert store.verify().ok
    store.close()


def test_segment_cache_keeps_the_most_recent_within_its_cap():
    cache = _sqlite_segments.SegmentCache(max_events=10)
    frames = {first: pl.DataFrame({"x": range(4)}) for first in (1, 5, 9)}
    cache.put(1, frames[1])
    cache.put(5, frames[5])
    assert cache.get(1) is frames[1]  # 1 is now the most recent
    cache.put(9, frames[9])  # 12 events > 10: the least recent (5) goes
    assert cache.get(5) is None
    assert cache.get(1) is frames[1]
    assert cache.get(9) is frames[9]
    cache.put(20, pl.DataFrame({"x": range(11)}))  # larger than the cap: not kept
    assert cache.get(20) is None


def test_cached_reads_equal_fresh_reads(pair):
    _, segmented, path = pair
    first = segmented.to_frame(partnerships=["p1"])
    again = segmented.to_frame(partnerships=["p1"])
    fresh = SqliteEventStore(path, clock=TickingClock(), seal_events=4)
    assert_frame_equal(again, first)
    assert_frame_equal(fresh.to_frame(partnerships=["p1"]), first)
    fresh.close()


def test_a_segment_of_a_slice_holds_only_the_slice():
    # String views of a slice point into the whole frame's buffers; a segment
    # must not carry them along (it did: every segment held the whole batch).
    store = SqliteEventStore(":memory:", clock=TickingClock(), create=True)
    store.append_frame(new_events_to_frame(sample_events(2000)))
    whole = store.to_frame()
    store.close()
    tenth = _sqlite_segments.encode_segment(whole.slice(0, 200))
    assert len(tenth) < len(_sqlite_segments.encode_segment(whole)) / 4
    assert_frame_equal(_sqlite_segments.decode_segment(tenth), whole.slice(0, 200))

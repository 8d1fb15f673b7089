"""Bulk ingest of an input frame into a store (events/s = size / mean)."""

from __future__ import annotations

from adapters.clock import SystemClock
from benchmarks.conftest import new_sqlite_store
from engine import schema as s
from engine.memory_store import MemoryEventStore


def check_ingested(store, frame) -> None:
    assert store.head_position() == frame.height
    counts = frame.group_by(s.PARTNERSHIP_ID).len().sort(s.PARTNERSHIP_ID).head(3)
    for pid, n in counts.iter_rows():
        assert store.stream_version(pid) == n


def test_ingest_sqlite(benchmark, input_frame, tmp_path_factory):
    benchmark.group = "store ingest"
    stores = []

    def fresh_store():
        stores.append(new_sqlite_store(tmp_path_factory.mktemp("ingest")))
        return (stores[-1],), {}

    report = benchmark.pedantic(
        lambda store: store.append_frame(input_frame),
        setup=fresh_store,
        rounds=3 if input_frame.height <= 100_000 else 1,
    )
    assert (report.appended, report.duplicates) == (input_frame.height, 0)
    check_ingested(stores[-1], input_frame)
    benchmark.extra_info["events_per_s"] = input_frame.height / benchmark.stats["mean"]
    for store in stores:
        store.close()


def test_ingest_memory_reference(benchmark, input_frame):
    """The in-memory reference store: the same engine work, no file."""
    benchmark.group = "store ingest"
    stores = []

    def fresh_store():
        stores.append(MemoryEventStore(clock=SystemClock()))
        return (stores[-1],), {}

    report = benchmark.pedantic(
        lambda store: store.append_frame(input_frame), setup=fresh_store, rounds=1
    )
    assert report.appended == input_frame.height
    check_ingested(stores[-1], input_frame)

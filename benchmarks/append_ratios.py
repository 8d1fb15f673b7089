"""Append throughput of every store, side by side: bulk, single events, N writers.

For each store (memory as the in-process reference, SQLite, and PostgreSQL when
``PARTNERMINE_TEST_POSTGRES`` is set) it measures

* bulk: one ``append_frame`` of ``--events`` synthetic events (events/s);
* single: ``--single`` one-event ``append`` calls with expected versions (appends/s);
* concurrent: ``--writers`` processes, each appending ``--per-writer`` single
  events with expected versions and retries on 10 shared partnerships
  (appends/s over the wall time, spawn excluded), checking nothing was lost;

and prints one table, with each store's ratio to SQLite.

Run from the repository root:
``.venv/bin/python -m benchmarks.append_ratios --events 100000 --single 200 --writers 4``
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from uuid import UUID

from adapters.clock import SystemClock
from benchmarks.data import generate_input_frame
from benchmarks.stores import available_store_kinds, fresh_store_url
from cli.bootstrap import open_store
from engine.errors import ConcurrencyError
from engine.events import NewEvent
from engine.memory_store import MemoryEventStore


def one_event(writer: int, n: int, partnership_id: str) -> NewEvent:
    return NewEvent(
        event_id=UUID(int=(writer + 1) * 10_000_000 + n),
        partnership_id=partnership_id,
        activity="report_progress",
        timestamp=datetime(2020, 1, 1, tzinfo=UTC) + timedelta(seconds=n),
        actor=f"actor-{writer}",
    )


def append_singles(url: str | None, writer: int, count: int) -> int:
    """Append ``count`` single events with expected versions; return retries."""
    store = open_store(url) if url else MemoryEventStore(clock=SystemClock())
    retries = 0
    try:
        for n in range(count):
            pid = f"p{(writer * 7 + n) % 10}"
            event = one_event(writer, n, pid)
            while True:
                try:
                    store.append(
                        pid, [event], expected_version=store.stream_version(pid)
                    )
                    break
                except ConcurrencyError:
                    retries += 1
    finally:
        store.close()
    return retries


@contextlib.contextmanager
def store_url(kind: str):
    if kind == "memory":
        yield None
        return
    with fresh_store_url(kind) as url:
        yield url


def measure_bulk(kind: str, n_events: int) -> float:
    frame = generate_input_frame(n_events=n_events, n_partnerships=500, seed=11)
    with store_url(kind) as url:
        store = open_store(url) if url else MemoryEventStore(clock=SystemClock())
        t0 = time.perf_counter()
        report = store.append_frame(frame)
        elapsed = time.perf_counter() - t0
        assert report.appended == n_events
        assert store.verify().ok
        store.close()
    return n_events / elapsed


def measure_single(kind: str, count: int) -> float:
    with store_url(kind) as url:
        t0 = time.perf_counter()
        append_singles(url, 0, count)
        return count / (time.perf_counter() - t0)


def measure_concurrent(kind: str, writers: int, per_writer: int) -> float | None:
    if kind == "memory":
        return None  # in-process only: no other process can share it
    spawn = multiprocessing.get_context("spawn")
    with (
        fresh_store_url(kind) as url,
        ProcessPoolExecutor(writers, mp_context=spawn) as pool,
    ):
        list(pool.map(time.sleep, [0] * writers))  # spawn before timing
        t0 = time.perf_counter()
        list(
            pool.map(
                append_singles, [url] * writers, range(writers), [per_writer] * writers
            )
        )
        elapsed = time.perf_counter() - t0
        store = open_store(url)
        assert store.head_position() == writers * per_writer
        assert store.verify().ok
        store.close()
    return writers * per_writer / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--single", type=int, default=200)
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--per-writer", type=int, default=50)
    args = parser.parse_args()
    rows = [
        (
            kind,
            measure_bulk(kind, args.events),
            measure_single(kind, args.single),
            measure_concurrent(kind, args.writers, args.per_writer),
        )
        for kind in available_store_kinds()
    ]
    base = {name: (b, s, c) for name, b, s, c in rows}.get("sqlite")
    print(
        f"append throughput: bulk {args.events:,} events; {args.single} single appends; "
        f"{args.writers} writers x {args.per_writer} appends"
    )
    print(
        f"{'store':<10}{'bulk ev/s':>14}{'single ap/s':>14}{'N-writer ap/s':>16}   ratio to sqlite (bulk/single/N)"
    )
    for name, bulk, single, conc in rows:
        ratio = ""
        if base is not None:
            parts = [
                f"{v / b:.2f}" if v is not None and b else "-"
                for v, b in zip((bulk, single, conc), base, strict=True)
            ]
            ratio = " / ".join(parts)
        conc_text = f"{conc:>16,.0f}" if conc is not None else f"{'-':>16}"
        print(f"{name:<10}{bulk:>14,.0f}{single:>14,.0f}{conc_text}   {ratio}")


if __name__ == "__main__":
    main()

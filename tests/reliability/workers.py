"""Code the reliability tests run in other processes (spawned, or ``python -m``).

Run as a script it appends a committed seed batch, reports it, then appends a
large batch; the parent kills it with SIGKILL in the middle::

    python -m tests.reliability.workers bulk STORE_URL N_EVENTS
    python -m tests.reliability.workers ack STORE_URL N_EVENTS
"""

from __future__ import annotations

import os
import signal
import sys
from datetime import UTC, datetime, timedelta
from uuid import UUID

import polars as pl

from cli.bootstrap import open_store
from engine import schema as s
from engine.errors import ConcurrencyError
from engine.events import NewEvent

SEED_EVENTS = 10


def race_event(worker: int, n: int, partnership_id: str) -> NewEvent:
    """The n-th event of one racing worker (ids unique across workers)."""
    return NewEvent(
        event_id=UUID(int=(worker + 1) * 10_000_000 + n),
        partnership_id=partnership_id,
        activity="share_information",
        timestamp=datetime(2020, 1, 1, tzinfo=UTC) + timedelta(minutes=n),
        actor=f"w{worker}",
        attributes={"worker": worker, "n": n},
    )


def race_appends(url: str, worker: int, count: int, partnerships: int) -> int:
    """Append ``count`` events with expected versions, retrying on conflicts.

    Returns the number of retries (ConcurrencyErrors) the worker absorbed.
    """
    store = open_store(url)
    retries = 0
    try:
        for n in range(count):
            pid = f"p{(worker * 7 + n) % partnerships}"
            event = race_event(worker, n, pid)
            while True:
                version = store.stream_version(pid)
                try:
                    store.append(pid, [event], expected_version=version)
                    break
                except ConcurrencyError:
                    retries += 1
    finally:
        store.close()
    return retries


def bulk_frame(n: int, *, first: int = 1, partnerships: int = 50) -> pl.DataFrame:
    """An input frame of ``n`` valid events spread over some partnerships."""
    ids = [str(UUID(int=i)) for i in range(first, first + n)]
    base = datetime(2021, 1, 1, tzinfo=UTC)
    return pl.DataFrame(
        {
            s.EVENT_ID: ids,
            s.PARTNERSHIP_ID: [f"bulk-{i % partnerships}" for i in range(n)],
            s.ACTIVITY: ["report_progress"] * n,
            s.TIMESTAMP: pl.datetime_range(
                base, base + timedelta(seconds=n - 1), "1s", eager=True
            ).head(n),
        }
    )


def run_bulk(url: str, n: int) -> None:
    """Commit a seed batch, say so, then append ``n`` events in one batch."""
    store = open_store(url)
    store.append_frame(bulk_frame(SEED_EVENTS, first=1))
    print("seeded", flush=True)
    store.append_frame(bulk_frame(n, first=1_000_000))
    print("done", flush=True)


def run_lost_ack(url: str, n: int) -> None:
    """Append a batch, then die before acknowledging it (the ack is lost)."""
    store = open_store(url)
    store.append_frame(bulk_frame(n, first=1))
    os.kill(os.getpid(), signal.SIGKILL)


if __name__ == "__main__":
    mode, store_url, size = sys.argv[1], sys.argv[2], int(sys.argv[3])
    {"bulk": run_bulk, "ack": run_lost_ack}[mode](store_url, size)

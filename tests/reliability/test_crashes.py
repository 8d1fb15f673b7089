"""Crashes: a writer killed mid-batch, and a retry after a lost acknowledgement."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cli.bootstrap import is_postgres_url, open_store
from tests.reliability.workers import SEED_EVENTS, bulk_frame, race_event

ROOT = Path(__file__).resolve().parents[2]
BULK_EVENTS = 60_000


def start_worker(mode: str, url: str, size: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.reliability.workers", mode, url, str(size)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )


def is_writing(url: str) -> bool:
    """True while another connection holds the store's write transaction."""
    if is_postgres_url(url):
        import psycopg

        with psycopg.connect(url, autocommit=True) as conn:
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' "
                "AND query LIKE 'COPY pm_events%%' AND pid <> pg_backend_pid()"
            ).fetchone()
        return bool(row and row[0])
    probe = sqlite3.connect(url, timeout=0)
    try:
        probe.execute("BEGIN IMMEDIATE")
        probe.rollback()
    except sqlite3.OperationalError:
        return True
    finally:
        probe.close()
    return False


def wait_until_writing(url: str, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 120
    while not is_writing(url):
        if proc.poll() is not None or time.monotonic() > deadline:
            pytest.fail("the writer never started its large batch")
        time.sleep(0.002)


def test_sigkill_mid_batch_leaves_no_partial_batch(store_url):
    with start_worker("bulk", store_url, BULK_EVENTS) as proc:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "seeded"
        wait_until_writing(store_url, proc)
        proc.send_signal(signal.SIGKILL)
        rest, _ = proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    assert "done" not in rest, "the batch finished before the kill: enlarge it"
    store = open_store(store_url)
    try:
        assert store.head_position() == SEED_EVENTS
        report = store.verify()
        assert report.ok, report.first_broken
        assert report.events_checked == SEED_EVENTS
        # and the store still takes writes, at the right positions
        after = store.append_frame(bulk_frame(5, first=9_000_000))
        assert (after.first_position, after.last_position) == (11, 15)
        assert store.verify().ok
    finally:
        store.close()


def test_retry_after_lost_acknowledgement_stores_nothing_twice(store_url):
    with start_worker("ack", store_url, 40) as proc:
        proc.communicate(timeout=120)
    # the writer died after its commit, before it could report success
    assert proc.returncode == -signal.SIGKILL
    store = open_store(store_url)
    try:
        # not knowing, the client sends the same batch again
        retry = store.append_frame(bulk_frame(40, first=1))
        assert (retry.appended, retry.duplicates) == (0, 40)
        assert store.head_position() == 40
        # a single-stream retry with the same expected version: the originals
        events = [race_event(0, n, "acked") for n in range(3)]
        first = store.append("acked", events, expected_version=0)
        again = store.append("acked", events, expected_version=0)
        assert again == first
        assert store.stream_version("acked") == 3
        assert store.head_position() == 43
        assert store.verify().ok
    finally:
        store.close()

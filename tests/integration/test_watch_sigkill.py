"""``partnermine watch`` killed with SIGKILL mid-stream neither loses nor repeats an alert."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from adapters.simulation import simulate_partnerships
from cli.bootstrap import open_store
from engine.watching import evaluate_alerts

ROOT = Path(__file__).resolve().parents[2]
APPENDER = """
import sys, time
import polars as pl
from cli.bootstrap import open_store
store = open_store(sys.argv[1])
frame = pl.read_parquet(sys.argv[2])
for chunk in frame.iter_slices(n_rows=25):
    store.append_frame(chunk)
    time.sleep(0.12)
store.close()
"""


def _watch(store: str, sink: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cli.main",
            "--store",
            store,
            "watch",
            "--interval",
            "0.05",
            "--limit",
            "200",
            "--jsonl",
            str(sink),
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _checkpoint(store_path: str) -> int:
    store = open_store(store_path)
    try:
        return store.read_checkpoint("watch")
    finally:
        store.close()


def _caught_up(store_path: str) -> bool:
    store = open_store(store_path)
    try:
        return store.read_checkpoint("watch") >= store.head_position()
    finally:
        store.close()


def test_sigkill_and_restart_while_events_arrive(tmp_path):
    log = simulate_partnerships(
        partnerships=10,
        mix={"healthy": 0.5, "drifting": 0.5},
        seed=11,
        start=datetime(2018, 1, 1, tzinfo=UTC),
    ).events.sort("time:timestamp")
    path = str(tmp_path / "store.db")
    store = open_store(path, create=True)
    store.append_frame(log.head(300))
    store.close()
    rest = tmp_path / "rest.parquet"
    log.slice(300).write_parquet(rest)
    sink = tmp_path / "alerts.jsonl"

    appender = subprocess.Popen(
        [sys.executable, "-c", APPENDER, path, str(rest)], cwd=ROOT
    )
    watcher = _watch(path, sink)
    deadline = time.monotonic() + 30
    while _checkpoint(path) == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    assert appender.poll() is None, "events must still be arriving at the kill"
    os.kill(watcher.pid, signal.SIGKILL)
    watcher.communicate()
    assert _checkpoint(path) > 0
    time.sleep(0.3)
    watcher = _watch(path, sink)
    try:
        assert appender.wait(timeout=60) == 0
        deadline = time.monotonic() + 60
        # Alerts the watcher appends move the head too; wait until it is idle.
        while time.monotonic() < deadline:
            if _caught_up(path):
                time.sleep(0.5)
                if _caught_up(path):
                    break
            time.sleep(0.2)
    finally:
        watcher.terminate()
        _, err = watcher.communicate(timeout=30)
    assert _caught_up(path), err.decode()

    store = open_store(path)
    try:
        frame = store.to_frame()
    finally:
        store.close()
    stored = frame.filter(pl.col("concept:name") == "alert_raised")[
        "event_id"
    ].to_list()
    expected = evaluate_alerts(frame.filter(pl.col("concept:name") != "alert_raised"))[
        "event_id"
    ].to_list()
    assert expected
    assert len(stored) == len(set(stored))
    assert set(stored) == set(expected)
    delivered = [json.loads(line)["event_id"] for line in sink.read_text().splitlines()]
    assert len(delivered) == len(set(delivered))
    assert set(delivered) == set(expected)

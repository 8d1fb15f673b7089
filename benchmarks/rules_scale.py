"""Time and peak memory of all seven deviation rules over about 10M events.

Simulates mixed-profile partnerships once (``adapters.simulation``, written to
Parquet with the ground truth and cached), then measures in a fresh process,
so that generation does not count: reading the Parquet file, then
:func:`engine.rules.detect_deviations` with the default thresholds, best of
``--repeat`` runs, with the time of each rule alone (``--per-rule``). Prints
seconds (wall and CPU: the machine is shared), the process's own peak resident
memory (:func:`benchmarks.memory.peak_rss_bytes`), and the lowest precision and
recall against the simulator's truth (target 20 s).

Run: ``.venv/bin/python -m benchmarks.rules_scale --events 10000000``
(``--order time`` reads the events sorted by timestamp, as a store read
gives them; the parent sorts once and caches ``events-time.parquet``, so the
peak memory printed is the rules' own, not the sort's)
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from adapters.simulation import iter_simulation, write_simulation
from benchmarks.memory import peak_rss_bytes
from engine import schema as s
from engine.rules import RULES, RuleThresholds, detect_deviations
from engine.rules.scoring import score_deviations

TARGET_SECONDS = 20.0
EVENTS_PER_PARTNERSHIP = 75  # the simulator's default mix averages ~75-85 events
_EVENT_FILES = {"simulator": "events.parquet", "time": "events-time.parquet"}


def ensure_log(folder: Path, *, partnerships: int) -> None:
    """Simulate ``partnerships`` (seed 5) into ``folder`` unless already there."""
    if (folder / "truth_deviations.parquet").exists():
        return
    start = datetime(2012, 1, 1, tzinfo=UTC)
    write_simulation(
        iter_simulation(partnerships=partnerships, seed=5, start=start), folder
    )


def measure(
    folder: Path, *, repeat: int, per_rule: bool, order: str, partitions: int
) -> int:
    """Run the rules over the log in ``folder``; print time, peak RSS, accuracy."""
    t0 = time.perf_counter()
    events = pl.read_parquet(folder / _EVENT_FILES[order])
    t1 = time.perf_counter()
    thresholds = RuleThresholds()
    best, cpu, found = float("inf"), float("inf"), None
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        found = detect_deviations(events, thresholds=thresholds, partitions=partitions)
        best = min(best, time.perf_counter() - start)
        cpu = min(cpu, time.process_time() - start_cpu)
    assert found is not None
    peak_gib = peak_rss_bytes() / 2**30
    print(
        f"events {events.height:,}, partnerships "
        f"{events[s.PARTNERSHIP_ID].n_unique():,}, order {order}, "
        f"deviations {found.height:,}, partitions {partitions}"
    )
    print(f"read parquet       {t1 - t0:7.2f} s")
    print(
        f"detect_deviations  {best:7.2f} s  best of {repeat} "
        f"(target <= {TARGET_SECONDS:.0f} s); CPU {cpu:.2f} s "
        f"(all threads; load average {os.getloadavg()[0]:.1f})"
    )
    if per_rule:
        for rule in RULES:
            start = time.perf_counter()
            detect_deviations(
                events, thresholds=thresholds, rules=[rule], partitions=partitions
            )
            print(f"  {rule:<30} {time.perf_counter() - start:7.2f} s alone")
    print(f"peak RSS           {peak_gib:7.2f} GiB")
    truth = pl.read_parquet(folder / "truth_deviations.parquet")
    scores = score_deviations(found, truth)
    worst = scores.select(pl.min_horizontal("precision", "recall").min()).item()
    print(f"lowest precision/recall over the 7 rules: {worst:.4f}")
    return 0 if best <= TARGET_SECONDS else 1


def main() -> int:
    """Simulate (cached) then measure in a child process."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--cache", type=Path, default=Path("/tmp"))
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--per-rule", action="store_true")
    parser.add_argument("--order", choices=["simulator", "time"], default="simulator")
    parser.add_argument(
        "--partitions", type=int, default=1, help="hash partitions of partnerships"
    )
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure is not None:
        return measure(
            args.measure,
            repeat=args.repeat,
            per_rule=args.per_rule,
            order=args.order,
            partitions=args.partitions,
        )
    partnerships = max(1, args.events // EVENTS_PER_PARTNERSHIP)
    folder = args.cache / f"partnermine-rules-{partnerships}"
    ensure_log(folder, partnerships=partnerships)
    if args.order == "time" and not (folder / _EVENT_FILES["time"]).exists():
        # Streamed: sorting 10M events with their participants in memory
        # takes about 15 GiB.
        pl.scan_parquet(folder / "events.parquet").sort(
            s.TIMESTAMP, maintain_order=True
        ).sink_parquet(folder / _EVENT_FILES["time"])
    command = [sys.executable, "-m", "benchmarks.rules_scale", "--measure", str(folder)]
    command += ["--repeat", str(args.repeat), "--order", args.order]
    if args.per_rule:
        command.append("--per-rule")
    command += ["--partitions", str(args.partitions)]
    return subprocess.call(command)


if __name__ == "__main__":
    sys.exit(main())

"""Time and peak memory of the indicators over 100k partnerships (about 10M events).

Generates the log once (``benchmarks/data.py``, cached as Parquet), then measures
in a fresh process, so that generation does not count: reading the Parquet
file, then :func:`engine.indicators.compute_indicators` with rolling 90d/30d
windows (and, with ``--drift``, the drift detectors). Prints seconds and the
process's own peak resident memory (:func:`benchmarks.memory.peak_rss_bytes`),
with the targets (30 s, 8 GiB).

Run: ``.venv/bin/python -m benchmarks.indicators_scale --partnerships 100000``
(``--source synthetic --events 10000000`` for the uniform generator; ``--order
time`` sorts the events by timestamp first, interleaving the partnerships as a
store read does)
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

from adapters.simulation import simulate_partnerships
from benchmarks.data import generate_input_frame
from benchmarks.memory import peak_rss_bytes
from engine.alerts import AlertRules
from engine.alignment import IndicatorConfig
from engine.drift import detect_drift
from engine.indicators import compute_indicators, count_partitions

TARGET_SECONDS = 30.0
TARGET_GIB = 8.0


def ensure_log(path: Path, *, source: str, events: int, partnerships: int) -> None:
    """Write the log to ``path`` unless it is already there.

    ``simulator``: realistic partnerships (about 75-90 events and a dozen
    organizations each, workshops of up to 50 people); ``synthetic``: the
    shared generator of ``benchmarks/data.py`` (``events`` spread uniformly,
    organizations drawn from 300, so each partnership sees dozens of them).
    """
    if path.exists():
        return
    if source == "simulator":
        frame = simulate_partnerships(
            partnerships=partnerships, seed=42, start=datetime(2016, 1, 1, tzinfo=UTC)
        ).events
    else:
        frame = generate_input_frame(
            n_events=events, n_partnerships=partnerships, seed=42
        )
    frame.write_parquet(path)


def measure(path: Path, *, drift: bool, partitions: int | None) -> int:
    """Compute the indicators of the log at ``path``; print time and peak RSS."""
    t0 = time.perf_counter()
    frame = pl.read_parquet(path)
    t1 = time.perf_counter()
    cpu1 = time.process_time()
    config = IndicatorConfig()
    spec = config.windows.to_spec()
    parts = partitions or count_partitions(frame.height)  # as the CLI
    indicators = compute_indicators(
        frame, windows=spec, config=config, partitions=parts
    )
    t2 = time.perf_counter()
    cpu2 = time.process_time()
    alerts = None
    if drift:
        alerts = detect_drift(indicators, frame=frame, windows=spec, rules=AlertRules())
    t3 = time.perf_counter()
    peak_gib = peak_rss_bytes() / 2**30
    partnerships = frame["case:concept:name"].n_unique()
    print(
        f"events {frame.height:,}, partnerships {partnerships:,}, "
        f"windows {indicators.height:,}, "
        f"order {'time' if path.stem.endswith('-time') else 'generated'}"
    )
    print(f"read parquet     {t1 - t0:7.2f} s")
    print(f"partitions       {parts:7d}")
    print(f"indicators       {t2 - t1:7.2f} s  (target <= {TARGET_SECONDS:.0f} s)")
    print(
        f"  cpu            {cpu2 - cpu1:7.2f} s  (all threads; {os.cpu_count()} cores)"
    )
    print(f"  load average   {os.getloadavg()[0]:7.2f}    (other processes compete)")
    if alerts is not None:
        print(f"drift alerts     {t3 - t2:7.2f} s  ({alerts.height:,} alerts)")
    print(f"peak RSS         {peak_gib:7.2f} GiB (target <= {TARGET_GIB:.0f} GiB)")
    ok = (t2 - t1) <= TARGET_SECONDS and peak_gib <= TARGET_GIB
    print("meets the targets" if ok else "misses the targets")
    return 0 if ok else 1


def main() -> int:
    """Generate (cached) then measure in a child process."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--partnerships", type=int, default=100_000)
    parser.add_argument("--cache", type=Path, default=Path("/tmp"))
    parser.add_argument(
        "--source", choices=["simulator", "synthetic"], default="simulator"
    )
    parser.add_argument("--drift", action="store_true", help="also time detect_drift")
    parser.add_argument(
        "--partitions", type=int, help="hash partitions (default: 1 per 1M events)"
    )
    parser.add_argument(
        "--order",
        choices=["generated", "time"],
        default="generated",
        help="as generated (grouped by partnership), or sorted by timestamp",
    )
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure is not None:
        return measure(args.measure, drift=args.drift, partitions=args.partitions)
    stem = f"partnermine-{args.source}-{args.events}-{args.partnerships}"
    path = args.cache / f"{stem}.parquet"
    ensure_log(
        path, source=args.source, events=args.events, partnerships=args.partnerships
    )
    if args.order == "time":
        # Sorted here, so that the measured process's peak memory is the
        # indicators' own, not that of a sort.
        generated, path = path, args.cache / f"{stem}-time.parquet"
        if not path.exists():
            pl.read_parquet(generated).sort(
                "time:timestamp", maintain_order=True
            ).write_parquet(path)
    command = [
        sys.executable,
        "-m",
        "benchmarks.indicators_scale",
        "--measure",
        str(path),
    ]
    if args.drift:
        command.append("--drift")
    if args.partitions:
        command += ["--partitions", str(args.partitions)]
    return subprocess.call(command)


if __name__ == "__main__":
    sys.exit(main())

"""Print XES import speed of partnermine vs pm4py.read_xes, side by side, in one run.

Usage::

    .venv/bin/python -m benchmarks.xes_ratios [--events 200000] [--repeat 3]
        [--big-repeat 1] [--skip-pm4py-large]

For each real log in /work/shared/data/logs and a synthetic XES of ``--events``
events (BPI-2012-like: 8 attributes per event, ~20 events per trace), prints
events/s of both readers (best of ``--repeat`` rounds, ``--big-repeat`` for the
synthetic log; each round runs both readers back to back), the ratio, and the
peak RSS of a separate process that streams the synthetic file
(VmHWM, :func:`benchmarks.memory.peak_rss_bytes`).
"""

from __future__ import annotations

import argparse
import gzip
import random
import subprocess
import sys
import tempfile
import time
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

LOGS = Path(__file__).resolve().parents[2] / "shared" / "data" / "logs"
REAL_LOGS = (
    "running-example.xes",
    "08_receipt.xes.gz",
    "helpdesk.xes.gz",
    "06_bpic2013_closed.xes.gz",
)
_ACTIVITIES = [
    f"A_{name}"
    for name in (
        "SUBMITTED",
        "PARTLYSUBMITTED",
        "PREACCEPTED",
        "ACCEPTED",
        "FINALIZED",
        "APPROVED",
        "REGISTERED",
        "ACTIVATED",
        "DECLINED",
        "CANCELLED",
    )
] + [
    f"W_{name}"
    for name in (
        "Afhandelen leads",
        "Completeren aanvraag",
        "Nabellen offertes",
        "Valideren aanvraag",
        "Beoordelen fraude",
    )
]
_LIFECYCLE = ("SCHEDULE", "START", "COMPLETE")


def write_synthetic_xes(
    path: Path, *, events: int, per_trace: int = 20, seed: int = 7
) -> Path:
    """Write a BPI-2012-like XES (gzip when the name ends in .gz) with ``events`` events."""
    rng = random.Random(seed)
    start = datetime(2011, 10, 1, tzinfo=UTC)
    out = [
        '<?xml version="1.0" encoding="UTF-8" ?>\n'
        '<log xes.version="1.0" xes.features="nested-attributes" xmlns="http://www.xes-standard.org/">\n'
        '\t<extension name="Concept" prefix="concept" uri="http://www.xes-standard.org/concept.xesext"/>\n'
        '\t<global scope="event">\n\t\t<string key="concept:name" value="__INVALID__"/>\n\t</global>\n'
        '\t<classifier name="Activity" keys="concept:name lifecycle:transition"/>\n'
    ]
    n = 0
    trace = 0
    while n < events:
        trace += 1
        t = start + timedelta(minutes=rng.randrange(600_000))
        out.append(
            f'\t<trace>\n\t\t<date key="REG_DATE" value="{t.isoformat(timespec="milliseconds")}"/>\n'
        )
        out.append(
            f'\t\t<string key="concept:name" value="{170000 + trace}"/>\n\t\t<string key="AMOUNT_REQ" value="{rng.randrange(500, 50000)}"/>\n'
        )
        for _ in range(min(per_trace, events - n)):
            t += timedelta(seconds=rng.randrange(1, 90_000))
            ts = t.astimezone().isoformat(timespec="milliseconds")
            out.append(
                "\t\t<event>\n"
                f'\t\t\t<string key="org:resource" value="{rng.randrange(10000, 11200)}"/>\n'
                f'\t\t\t<string key="lifecycle:transition" value="{rng.choice(_LIFECYCLE)}"/>\n'
                f'\t\t\t<string key="concept:name" value="{rng.choice(_ACTIVITIES)}"/>\n'
                f'\t\t\t<date key="time:timestamp" value="{ts}"/>\n'
                f'\t\t\t<int key="amount" value="{rng.randrange(100000)}"/>\n'
                f'\t\t\t<float key="score" value="{rng.random():.6f}"/>\n'
                f'\t\t\t<boolean key="flag" value="{"true" if rng.random() < 0.5 else "false"}"/>\n'
                f'\t\t\t<string key="note" value="note &amp; {rng.randrange(50)}"/>\n'
                "\t\t</event>\n"
            )
            n += 1
        out.append("\t</trace>\n")
    out.append("</log>\n")
    data = "".join(out).encode()
    if path.name.endswith(".gz"):
        data = gzip.compress(data, compresslevel=6)
    path.write_bytes(data)
    return path


def time_ours(path: Path) -> tuple[float, int]:
    """Return (seconds, events) of one partnermine read_xes."""
    from adapters.io.xes import read_xes

    t = time.perf_counter()
    batch = read_xes(path)
    return time.perf_counter() - t, batch.frame.height


def time_pm4py(path: Path) -> tuple[float, int]:
    """Return (seconds, events) of one pm4py.read_xes (dataframe)."""
    warnings.simplefilter("ignore")
    import pm4py

    t = time.perf_counter()
    df = pm4py.read_xes(
        str(path), return_legacy_log_object=False, show_progress_bar=False
    )
    return time.perf_counter() - t, len(df)


def time_pair(path: Path, repeat: int, *, pm4py: bool) -> tuple[float, int, float, int]:
    """Return best-of-``repeat`` (ours s, events, pm4py s, events), runs interleaved.

    Each round runs both readers back to back, so a change in the load of a
    shared machine hits both alike.
    """
    ours, theirs, n, m = float("inf"), float("inf"), 0, 0
    for _ in range(repeat):
        seconds, n = time_ours(path)
        ours = min(ours, seconds)
        if pm4py:
            seconds, m = time_pm4py(path)
            theirs = min(theirs, seconds)
    return ours, n, theirs if pm4py else float("nan"), m if pm4py else n


def peak_rss_mb(path: Path, block_bytes: int = 8 << 20) -> float:
    """Return the peak RSS (MB) of a fresh process that imports ``path``."""
    code = (
        "import sys; from adapters.io.xes import read_xes; "
        "from benchmarks.memory import peak_rss_bytes; "
        "b = read_xes(sys.argv[1], block_bytes=int(sys.argv[2])); "
        "print(peak_rss_bytes() / 2**20)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(path), str(block_bytes)],
        cwd=Path(__file__).resolve().parents[1],
        check=True,
        capture_output=True,
        text=True,
    )
    return float(out.stdout.strip())


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--big-repeat", type=int, default=1, help="rounds on the synthetic log"
    )
    parser.add_argument("--skip-pm4py-large", action="store_true")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        synthetic = write_synthetic_xes(
            Path(tmp) / f"synthetic_{args.events}.xes.gz", events=args.events
        )
        for path in [*(LOGS / name for name in REAL_LOGS), synthetic]:
            big = path == synthetic
            ours, n, theirs, m = time_pair(
                path,
                args.big_repeat if big else args.repeat,
                pm4py=not (big and args.skip_pm4py_large),
            )
            rows.append((path.name, n, m, n / ours, m / theirs, theirs / ours))
        text_mb = len(gzip.decompress(synthetic.read_bytes())) / 2**20
        streamed = peak_rss_mb(synthetic)
        whole = peak_rss_mb(synthetic, block_bytes=1 << 28)
    print(f"{'log':34} {'events':>8} {'ours ev/s':>12} {'pm4py ev/s':>12} {'ratio':>7}")
    for name, n, m, ours_rate, their_rate, ratio in rows:
        print(
            f"{name:34} {n:8d} {ours_rate:12,.0f} {their_rate:12,.0f} {ratio:7.1f}x"
            + ("" if n == m else f"  (pm4py read {m})")
        )
    print(
        f"peak RSS importing the synthetic log ({text_mb:.0f} MB of XML) in a fresh process: "
        f"{streamed:.0f} MB streaming in 8 MB blocks, {whole:.0f} MB as one block"
    )


if __name__ == "__main__":
    main()

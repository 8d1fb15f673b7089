"""XES import: partnermine's reader vs pm4py.read_xes, same group, same files.

Run: ``.venv/bin/python -m pytest benchmarks/test_xes_import.py -p no:cacheprovider
--benchmark-columns=min,mean,rounds`` (add ``-m slow`` for the 200k-event log).
Each benchmark also checks the result (event count) against pm4py's.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from xes_ratios import LOGS, peak_rss_mb, write_synthetic_xes

from adapters.io.xes import read_xes

REAL = ["08_receipt.xes.gz", "helpdesk.xes.gz", "06_bpic2013_closed.xes.gz"]
SIZES = [
    pytest.param(20_000, id="2e4"),
    pytest.param(200_000, id="2e5", marks=pytest.mark.slow),
]


@pytest.fixture(scope="session")
def synthetic(tmp_path_factory, request):
    cache: dict[int, Path] = {}

    def make(events: int) -> Path:
        if events not in cache:
            cache[events] = write_synthetic_xes(
                tmp_path_factory.mktemp("xes") / f"s{events}.xes.gz", events=events
            )
        return cache[events]

    return make


def read_pm4py(path: Path) -> int:
    pm4py = pytest.importorskip("pm4py")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return len(
            pm4py.read_xes(
                str(path), return_legacy_log_object=False, show_progress_bar=False
            )
        )


def read_ours(path: Path) -> int:
    return read_xes(path).frame.height


@pytest.mark.parametrize("name", REAL)
@pytest.mark.parametrize(
    "reader", [read_ours, read_pm4py], ids=["partnermine", "pm4py"]
)
def test_real_logs(benchmark, name, reader):
    benchmark.group = f"xes import {name}"
    count = benchmark.pedantic(reader, args=(LOGS / name,), rounds=3, iterations=1)
    assert count == read_ours(LOGS / name)


@pytest.mark.parametrize("events", SIZES)
@pytest.mark.parametrize(
    "reader", [read_ours, read_pm4py], ids=["partnermine", "pm4py"]
)
def test_synthetic(benchmark, synthetic, events, reader):
    path = synthetic(events)
    benchmark.group = f"xes import synthetic {events}"
    rounds = 3 if events <= 20_000 else 1
    assert (
        benchmark.pedantic(reader, args=(path,), rounds=rounds, iterations=1) == events
    )


@pytest.mark.slow
def test_streaming_memory_is_bounded(synthetic):
    """Peak RSS follows the block size, not the size of the XML text."""
    path = synthetic(200_000)
    streamed = peak_rss_mb(path, block_bytes=1 << 20)
    whole = peak_rss_mb(path, block_bytes=1 << 28)
    assert streamed < 0.7 * whole

"""Rolling indicators, drift alerts and the watch step over simulated logs.

Sizes are partnership counts (1e3, 1e4; 1e5, about 7.5M events, is marked slow).
Each run also checks the result (one row per window of the grid, every [0, 1]
indicator in range). ``extra_info`` records CPU seconds and the load average,
since the machine is shared. The watch benchmark appends 10k events to a
SQLite store already holding 1000 partnerships and times one incremental
step: its ``events_per_s`` must reach 10k for ``watch`` to keep up.

Run: ``.venv/bin/python -m pytest benchmarks/test_indicators.py -p no:cacheprovider``
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest

from adapters.simulation import simulate_partnerships
from cli.bootstrap import open_store
from engine.alerts import AlertRules
from engine.alignment import SCORED_INDICATORS, IndicatorConfig
from engine.drift import detect_drift
from engine.indicators import compute_indicators
from engine.watching import run_watch_step

if TYPE_CHECKING:
    import polars as pl

START = datetime(2016, 1, 1, tzinfo=UTC)
SPEC = IndicatorConfig().windows.to_spec()


@pytest.fixture(scope="session")
def simulated(tmp_path_factory):
    made: dict[int, pl.DataFrame] = {}

    def make(partnerships: int) -> pl.DataFrame:
        if partnerships not in made:
            made[partnerships] = simulate_partnerships(
                partnerships=partnerships, seed=9, start=START
            ).events
        return made[partnerships]

    return make


SIZES = [
    pytest.param(1_000, id="1e3"),
    pytest.param(10_000, id="1e4"),
    pytest.param(100_000, id="1e5", marks=pytest.mark.slow),
]


def _record(benchmark, cpu: list[float]) -> None:
    benchmark.extra_info["cpu_s"] = min(cpu)
    benchmark.extra_info["load_1m"] = os.getloadavg()[0]


@pytest.mark.parametrize("partnerships", SIZES)
def test_compute_indicators(benchmark, simulated, partnerships):
    benchmark.group = "indicators"
    events = simulated(partnerships)
    cpu: list[float] = []

    def run() -> pl.DataFrame:
        start = time.process_time()
        out = compute_indicators(events, windows=SPEC)
        cpu.append(time.process_time() - start)
        return out

    out = benchmark.pedantic(run, rounds=1, iterations=1)
    _record(benchmark, cpu)
    assert out["partnership_id"].n_unique() == partnerships
    for name in SCORED_INDICATORS:
        values = out[name].drop_nulls()
        assert values.is_empty() or (values.min() >= 0 and values.max() <= 1)


@pytest.mark.parametrize("partnerships", SIZES[:2])
def test_detect_drift(benchmark, simulated, partnerships):
    benchmark.group = "drift"
    events = simulated(partnerships)
    indicators = compute_indicators(events, windows=SPEC)
    alerts = benchmark.pedantic(
        lambda: detect_drift(
            indicators, frame=events, windows=SPEC, rules=AlertRules()
        ),
        rounds=1,
        iterations=1,
    )
    assert alerts["partnership_id"].is_in(indicators["partnership_id"].implode()).all()


def test_watch_step_keeps_up(benchmark, simulated, tmp_path):
    benchmark.group = "watch"
    events = simulated(1_000).sort("time:timestamp")
    history, fresh = events.head(events.height - 10_000), events.tail(10_000)
    store = open_store(str(tmp_path / "watch.db"), create=True)
    store.append_frame(history)
    run_watch_step(store)  # catch up on the history first
    store.append_frame(fresh)
    step = benchmark.pedantic(lambda: run_watch_step(store), rounds=1, iterations=1)
    store.close()
    # the step also reads the alerts the catch-up step appended after its checkpoint
    assert step.events_read >= 10_000
    rate = 10_000 / benchmark.stats.stats.mean
    benchmark.extra_info["events_per_s"] = rate
    print(f"\nwatch step: {rate:,.0f} events/s (target 10,000)")

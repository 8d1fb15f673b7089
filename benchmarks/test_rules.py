"""All seven deviation rules over whole simulated logs (``detect_deviations``).

Sizes are event counts (1e5, 1e6; 1e7 is marked slow: ``-m slow``). The data
are mixed-profile simulated partnerships written to Parquet once per session;
each run also checks the result: precision and recall >= 0.95 per rule against
the simulator's ground truth. ``extra_info`` records CPU seconds and the load
average, since the machine is shared.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime

import polars as pl
import pytest

from adapters.simulation import iter_simulation, write_simulation
from engine.rules import RuleThresholds, detect_deviations
from engine.rules.scoring import score_deviations

EVENTS_PER_PARTNERSHIP = 75  # the simulator's default mix averages ~75 events
START = datetime(2012, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="session")
def simulated_logs(tmp_path_factory):
    made = {}

    def make(n_events: int):
        if n_events not in made:
            out = tmp_path_factory.mktemp(f"rules{n_events}")
            partnerships = max(1, n_events // EVENTS_PER_PARTNERSHIP)
            write_simulation(
                iter_simulation(partnerships=partnerships, seed=5, start=START), out
            )
            made[n_events] = out
        return made[n_events]

    return make


@pytest.mark.parametrize(
    "n_events",
    [
        pytest.param(100_000, id="1e5"),
        pytest.param(1_000_000, id="1e6"),
        pytest.param(10_000_000, id="1e7", marks=pytest.mark.slow),
    ],
)
def test_detect_deviations(benchmark, simulated_logs, n_events):
    benchmark.group = "rules"
    folder = simulated_logs(n_events)
    events = pl.read_parquet(folder / "events.parquet")
    cpu = []

    def run():
        start = time.process_time()
        found = detect_deviations(events, thresholds=RuleThresholds())
        cpu.append(time.process_time() - start)
        return found

    found = benchmark.pedantic(run, rounds=1 if n_events >= 10_000_000 else 3)
    truth = pl.read_parquet(folder / "truth_deviations.parquet")
    scores = score_deviations(found, truth)
    assert scores.height == 7
    assert scores.select(pl.min_horizontal("precision", "recall").min()).item() >= 0.95
    benchmark.extra_info["events"] = events.height
    benchmark.extra_info["cpu_s_min"] = min(cpu)
    benchmark.extra_info["load_avg_1m"] = os.getloadavg()[0]

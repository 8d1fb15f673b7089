"""Simulating partnerships to Parquet (``write_simulation(iter_simulation(...))``).

Sizes are partnership counts; 1e5 (about 7.5M events, the issue's target:
under a minute here) is marked slow: run it with ``-m slow``. Each run also
checks the result: the row count, the exact profile mix and the truth.
"""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pytest

from adapters.simulation import DEFAULT_MIX, iter_simulation, write_simulation

START = datetime(2020, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    "partnerships",
    [
        pytest.param(1_000, id="1e3"),
        pytest.param(10_000, id="1e4"),
        pytest.param(100_000, id="1e5", marks=pytest.mark.slow),
    ],
)
def test_simulate_to_parquet(benchmark, partnerships, tmp_path_factory):
    benchmark.group = "simulate"
    out = tmp_path_factory.mktemp("sim")

    def run():
        return write_simulation(
            iter_simulation(partnerships=partnerships, seed=1, start=START), out
        )

    benchmark.pedantic(run, rounds=1 if partnerships >= 100_000 else 3)
    events = pl.scan_parquet(out / "events.parquet").select(pl.len()).collect().item()
    truth = pl.read_parquet(out / "truth_partnerships.parquet")
    counts = dict(truth["profile"].value_counts().iter_rows())
    assert truth.height == partnerships
    for profile, weight in DEFAULT_MIX.items():
        assert abs(counts[profile] - weight * partnerships) <= 1
    deviations = pl.read_parquet(out / "truth_deviations.parquet")
    healthy = truth.filter(pl.col("profile") == "healthy")["partnership_id"]
    assert not deviations["partnership_id"].is_in(healthy.implode()).any()
    assert events > 50 * partnerships
    benchmark.extra_info["events"] = events
    benchmark.extra_info["events_per_s"] = events / benchmark.stats["mean"]

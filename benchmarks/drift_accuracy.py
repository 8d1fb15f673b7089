"""Precision, recall and detection delay of drift alerts on simulated partnerships.

Simulates healthy and drifting partnerships (``adapters.simulation``, profile
``drifting`` with a known ``drift_onset``), computes the rolling indicators and
the drift alerts with the default configuration (never tuned to the
simulator), and prints, per signal and for the score-drift detector:

* precision: alerts on a drifting partnership whose window ends after its onset
  / all alerts (an alert on a healthy partnership, or before the onset, is false);
* recall: drifting partnerships with such an alert / drifting partnerships;
* delay in steps: index of the first such alert's window minus the index of the
  first window that holds any post-onset time (median over detected ones).

Run: ``.venv/bin/python benchmarks/drift_accuracy.py --partnerships 400 --seed 3``
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime

import polars as pl

from adapters.simulation import simulate_partnerships
from engine.alerts import AlertRules
from engine.alignment import IndicatorConfig
from engine.drift import detect_drift
from engine.indicators import compute_indicators


def score_alerts(
    alerts: pl.DataFrame, indicators: pl.DataFrame, truth: pl.DataFrame
) -> dict[str, float]:
    """Return precision, recall and median delay (steps) of ``alerts`` against truth."""
    onset_window = (
        indicators.join(truth, on="partnership_id")
        .filter(pl.col("window_end") > pl.col("drift_onset"))
        .group_by("partnership_id")
        .agg(pl.col("window_index").min().alias("onset_index"))
    )
    judged = (
        alerts.join(truth, on="partnership_id", how="left")
        .join(
            indicators.select("partnership_id", "window_start", "window_index"),
            on=["partnership_id", "window_start"],
            how="left",
        )
        .with_columns(
            (
                (pl.col("profile") == "drifting")
                & (pl.col("window_end") > pl.col("drift_onset"))
            )
            .fill_null(False)
            .alias("hit")
        )
    )
    first_hits = (
        judged.filter(pl.col("hit"))
        .group_by("partnership_id")
        .agg(pl.col("window_index").min())
        .join(onset_window, on="partnership_id")
        .with_columns((pl.col("window_index") - pl.col("onset_index")).alias("delay"))
    )
    drifting = truth.filter(pl.col("profile") == "drifting").height
    return {
        "alerts": judged.height,
        "precision": judged["hit"].mean() if judged.height else float("nan"),
        "recall": first_hits.height / drifting if drifting else float("nan"),
        "median_delay_steps": first_hits["delay"].median()
        if first_hits.height
        else float("nan"),
    }


def main() -> int:
    """Simulate, detect and print the scores; return 1 if below the targets."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--partnerships", type=int, default=400)
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    log = simulate_partnerships(
        partnerships=args.partnerships,
        mix={"healthy": 0.5, "drifting": 0.5},
        seed=args.seed,
        start=datetime(2016, 1, 1, tzinfo=UTC),
    )
    config, rules = IndicatorConfig(), AlertRules()
    spec = config.windows.to_spec()
    t0 = time.perf_counter()
    indicators = compute_indicators(log.events, windows=spec, config=config)
    alerts = detect_drift(indicators, frame=log.events, windows=spec, rules=rules)
    elapsed = time.perf_counter() - t0
    truth = log.truth_partnerships.select("partnership_id", "profile", "drift_onset")
    print(
        f"{args.partnerships} partnerships, {log.events.height} events, "
        f"windows {config.windows.window}/{config.windows.step}: {elapsed:.2f} s"
    )
    print(
        f"{'signal':<16} {'alerts':>7} {'precision':>10} {'recall':>8} {'median delay':>13}"
    )
    results = {}
    for signal in ("score_drift", "status_crossing", "process_drift", "any"):
        chosen = (
            alerts if signal == "any" else alerts.filter(pl.col("signal") == signal)
        )
        r = score_alerts(chosen, indicators, truth)
        results[signal] = r
        print(
            f"{signal:<16} {r['alerts']:>7} {r['precision']:>10.3f} "
            f"{r['recall']:>8.3f} {r['median_delay_steps']:>13}"
        )
    ok = True
    for signal, r in results.items():
        meets = (
            r["precision"] >= 0.9
            and r["recall"] >= 0.9
            and r["median_delay_steps"] <= 2
        )
        ok = ok and meets
        verdict = "meets" if meets else "misses"
        print(f"{signal} {verdict} precision/recall >= 0.9, median delay <= 2 steps")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""Precision and recall of every deviation rule on simulated partnerships.

Simulates a mixed-profile log, runs :func:`engine.rules.detect_deviations` with
the default thresholds (never tuned to the simulator), and prints precision
and recall per rule on ``(partnership_id, rule)`` pairs against the simulator's
``truth_deviations``.

Run: ``.venv/bin/python benchmarks/rules_accuracy.py --partnerships 1000 --seed 7``
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime

import polars as pl

from adapters.simulation import simulate_partnerships
from engine.rules import RuleThresholds, detect_deviations
from engine.rules.scoring import score_deviations


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--partnerships", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--min", type=float, default=0.95, help="required precision and recall"
    )
    args = parser.parse_args()
    log = simulate_partnerships(
        partnerships=args.partnerships,
        seed=args.seed,
        start=datetime(2012, 1, 1, tzinfo=UTC),
    )
    t0 = time.perf_counter()
    found = detect_deviations(log.events, thresholds=RuleThresholds())
    elapsed = time.perf_counter() - t0
    scores = score_deviations(found, log.truth_deviations)
    profiles = log.truth_partnerships["profile"].value_counts().sort("profile")
    print(
        f"{args.partnerships} partnerships, {log.events.height} events, seed {args.seed}"
    )
    print("profiles: " + ", ".join(f"{p}={n}" for p, n in profiles.iter_rows()))
    print(f"detect_deviations: {elapsed:.2f} s, {found.height} deviations")
    with pl.Config(tbl_rows=20, tbl_hide_dataframe_shape=True, tbl_width_chars=120):
        print(scores)
    exact = ["partnership_id", "rule", "evidence"]
    matched = (
        found.select(exact).join(log.truth_deviations.select(exact), on=exact).height
    )
    print(
        f"deviation instances with the exact truth evidence: {matched} of "
        f"{found.height} found, {log.truth_deviations.height} expected"
    )
    worst = scores.select(pl.min_horizontal("precision", "recall").min()).item()
    print(
        f"lowest precision/recall: {worst:.3f} ({'ok' if worst >= args.min else 'BELOW'} {args.min})"
    )


if __name__ == "__main__":
    main()

"""Incremental score drift and status crossings equal the whole series, bit for bit."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from engine.alerts import (
    ALERT_SCHEMA,
    AlertRules,
    ScoreDriftRule,
    StatusCrossingRule,
)
from engine.drift import (
    SCORE_COLUMNS,
    count_score_context,
    detect_score_drift,
    detect_status_crossings,
    track_score_signals,
)

T0 = datetime(2020, 1, 1, tzinfo=UTC)
STATUSES = ["aligned", "at_risk", "disorder"]
ORDER = ["partnership_id", "window_start", "signal"]


def indicator_rows(rng: random.Random, pids: list[str]) -> pl.DataFrame:
    """Random indicator rows: some windows unscored, the last ones incomplete."""
    rows = []
    for pid in pids:
        n = rng.randint(1, 40)
        incomplete = rng.randint(0, 2)
        for i in range(n):
            start = T0 + timedelta(days=30 * i)
            score = None if rng.random() < 0.1 else round(rng.random(), 3)
            rows.append(
                {
                    "partnership_id": pid,
                    "window_index": i,
                    "period": start.date().isoformat(),
                    "window_start": start,
                    "window_end": start + timedelta(days=90),
                    "alignment_score": score,
                    "status": rng.choice(STATUSES) if score is not None else None,
                    "complete": i < n - incomplete,
                }
            )
    return pl.DataFrame(
        rows,
        schema_overrides={"alignment_score": pl.Float64, "status": pl.String},
    )


def whole_candidates(rows: pl.DataFrame, rules: AlertRules) -> pl.DataFrame:
    parts = [
        detect_score_drift(rows.lazy(), rule=rules.score_drift),
        detect_status_crossings(rows.lazy(), rule=rules.status_crossing),
    ]
    return pl.concat([p.cast(ALERT_SCHEMA) for p in parts]).collect().sort(ORDER)


def advance(
    scores: pl.DataFrame,
    signals: pl.DataFrame,
    rows: pl.DataFrame,
    keep: pl.DataFrame,
    rules: AlertRules,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """One incremental step: recompute the rows from each partnership's ``_keep`` on."""
    before = pl.col("window_start") < pl.col("_keep")
    context = (
        scores.join(keep, on="partnership_id")
        .filter(before)
        .sort("partnership_id", "window_index")
        .group_by("partnership_id", maintain_order=True)
        .tail(count_score_context(rules))
        .drop("_keep")
    )
    fresh = rows.join(keep, on="partnership_id").filter(before.not_()).drop("_keep")
    new_scores, candidates = track_score_signals(context, fresh, rules=rules)

    def merged(old: pl.DataFrame, new: pl.DataFrame) -> pl.DataFrame:
        kept = old.join(keep, on="partnership_id", how="left").filter(
            pl.col("_keep").is_null() | before
        )
        return pl.concat([kept.drop("_keep"), new])

    return merged(scores, new_scores), merged(signals, candidates)


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
@pytest.mark.parametrize(
    "rules",
    [
        AlertRules(),
        AlertRules(
            score_drift=ScoreDriftRule(smoothing_windows=1, min_windows=1, delta=0.0),
            status_crossing=StatusCrossingRule(smoothing_windows=5),
        ),
    ],
)
def test_steps_from_any_window_equal_the_whole_series(seed, rules):
    rng = random.Random(seed)
    pids = [f"p{i}" for i in range(6)]
    rows = indicator_rows(rng, pids)
    scores = pl.DataFrame(schema=SCORE_COLUMNS)
    signals = pl.DataFrame(schema=ALERT_SCHEMA)
    # First step: everything; then recompute from random windows on.
    scores, signals = advance(
        scores,
        signals,
        rows,
        pl.DataFrame(
            {"partnership_id": pids, "_keep": [datetime(1, 1, 1, tzinfo=UTC)] * 6}
        ),
        rules,
    )
    for _ in range(4):
        picked = rng.sample(pids, 3)
        keep = pl.DataFrame(
            {
                "partnership_id": picked,
                "_keep": [T0 + timedelta(days=30 * rng.randint(0, 40)) for _ in picked],
            }
        )
        scores, signals = advance(scores, signals, rows, keep, rules)
    expected = whole_candidates(rows, rules)
    assert_frame_equal(signals.sort(ORDER), expected, check_exact=True)
    assert expected.height > 0


def test_statistics_continue_the_running_sums_exactly():
    rng = random.Random(7)
    rows = indicator_rows(rng, ["a", "b"])
    rules = AlertRules()
    whole, _ = track_score_signals(
        pl.DataFrame(schema=SCORE_COLUMNS), rows, rules=rules
    )
    cut = T0 + timedelta(days=30 * 9)
    head = rows.filter(pl.col("window_start") < cut)
    first, _ = track_score_signals(
        pl.DataFrame(schema=SCORE_COLUMNS), head, rules=rules
    )
    context = first.group_by("partnership_id", maintain_order=True).tail(
        count_score_context(rules)
    )
    rest, _ = track_score_signals(
        context, rows.filter(pl.col("window_start") >= cut), rules=rules
    )
    assert_frame_equal(
        pl.concat([first, rest]).sort("partnership_id", "window_index"),
        whole.sort("partnership_id", "window_index"),
        check_exact=True,
    )

"""``compute_indicators(first_windows=)`` computes only later windows, the same rows.

The incremental ``watch`` recomputes only the windows new events can change:
each partnership's rows from its first listed window on must equal those of
the whole computation (commitment of that first window excepted, and the
score and status built on it: it compares with an earlier window that is not
computed).
"""

from __future__ import annotations

import random

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from engine.indicators import compute_indicators
from engine.windows import FIRST_WINDOW, RollingWindows, build_window_grid
from tests.integration.test_watch_state_long_range import _log

SPEC = RollingWindows()


@pytest.mark.parametrize("seed", [3, 4])
def test_rows_from_the_first_window_equal_the_whole_computation(seed):
    log = _log(seed, partnerships=4, events=60)
    full = compute_indicators(log, windows=SPEC)
    last = full.group_by("partnership_id").agg(pl.col("window_index").max())
    rng = random.Random(seed)
    # p3 is not listed: all its windows; p0 starts beyond its last window.
    first = pl.DataFrame(
        {
            "case:concept:name": ["p0", "p1", "p2", "p2"],
            "window_index": [
                last.filter(pl.col("partnership_id") == "p0").item(0, 1) + 1,
                rng.randint(1, 5),
                rng.randint(6, 12),
                rng.randint(13, 20),  # duplicates: the earliest counts
            ],
        }
    )
    limited = compute_indicators(log, windows=SPEC, first_windows=first)
    starts = first.group_by(pl.col("case:concept:name").alias("partnership_id")).agg(
        pl.col("window_index").min().alias("_from")
    )
    expected = (
        full.join(starts, on="partnership_id", how="left")
        .filter(pl.col("window_index") >= pl.col("_from").fill_null(0))
        .drop("_from")
    )
    assert limited["partnership_id"].unique().sort().to_list() == ["p1", "p2", "p3"]
    # Commitment (and the score and status built on it) compares with the
    # last earlier window with events: those up to the first computed window
    # with events compare with nothing; every other value is the same.
    scored = ["commitment", "alignment_score", "status"]
    assert_frame_equal(limited.drop(scored), expected.drop(scored), check_exact=True)
    has_events = pl.col("conflict_mitigation").is_not_null()  # 1 when none raised
    seen = has_events.cum_sum().shift(1).fill_null(0).over("partnership_id")

    def after_first(rows: pl.DataFrame) -> pl.DataFrame:
        return rows.sort("partnership_id", "window_index").filter(seen > 0)

    assert_frame_equal(after_first(limited), after_first(expected), check_exact=True)
    assert after_first(limited)["commitment"].drop_nulls().len() > 10


def test_window_grid_starts_at_the_first_window_column():
    log = _log(5, partnerships=2, events=40).select(
        "case:concept:name", "time:timestamp"
    )
    whole = build_window_grid(log.lazy(), windows=SPEC).collect()
    marked = log.with_columns(
        pl.when(pl.col("case:concept:name") == "p0")
        .then(3)
        .otherwise(-2)
        .alias(FIRST_WINDOW)
    )
    grid = build_window_grid(marked.lazy(), windows=SPEC).collect()
    expected = whole.filter(
        (pl.col("case:concept:name") != "p0") | (pl.col("window_index") >= 3)
    )
    assert_frame_equal(grid.sort(grid.columns), expected.sort(expected.columns))
    # Past the last window: no rows at all for that partnership.
    beyond = log.with_columns(pl.lit(10_000).alias(FIRST_WINDOW))
    assert build_window_grid(beyond.lazy(), windows=SPEC).collect().is_empty()

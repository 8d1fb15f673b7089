"""Incremental process drift for ``watch``, and the helpers the watch state shares.

Part of :mod:`engine.watch_state` (whose docstring says why windows before a
partnership's cut keep their verdicts): the directly-follows pair counts of
windows before ``k`` are kept, those from ``k`` on recounted from the reduced
frame, and each window's verdict reads the
:func:`engine.drift.count_process_lookback` windows before it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final

import polars as pl

from engine import schema as s
from engine.alerts import ALERT_SCHEMA
from engine.drift import (
    count_process_lookback,
    count_stage_edges,
    judge_process_drift,
    measure_process_distance,
    prepare_dfg_events,
)
from engine.windows import COMPLETE, WINDOW_INDEX, build_window_grid

if TYPE_CHECKING:
    from engine.alerts import ProcessDriftRule
    from engine.watch_state import WatchState
    from engine.windows import RollingWindows

__all__ = [
    "EARLIEST",
    "PID",
    "STEP_ENGINE",
    "TS",
    "advance_process_drift",
    "flag_rows",
    "merge_kept",
    "plan_process_drift",
    "process_rows",
]

# A step's frames are small (the touched partnerships from their cut on):
# polars' in-memory engine skips the streaming engine's start-up cost per query.
STEP_ENGINE: Final = "in-memory"
PID: Final = "partnership_id"
TS: Final = pl.Datetime("us", "UTC")
EARLIEST: Final = datetime(1, 1, 1, tzinfo=UTC)


def flag_rows(slim: pl.DataFrame, marked: pl.DataFrame, read: pl.Expr) -> pl.Series:
    """Return, per row of ``slim``, ``read`` or whether ``marked`` lists the event.

    ``marked`` holds ``case:concept:name, version`` of carried events.
    """
    key = [s.PARTNERSHIP_ID, s.VERSION]
    flags = (
        marked.select(key).unique().with_columns(pl.lit(value=True).alias("_marked"))
    )
    return (
        slim.join(flags, on=key, how="left", maintain_order="left")
        .select(read | pl.col("_marked").fill_null(value=False))
        .to_series()
    )


def _stage_defined() -> pl.Expr:
    """Return the stage an event defines (its phase, else its activity's; null: none)."""
    staged = {a: st for a, st in s.ACTIVITY_STAGE.items() if st is not None}
    return pl.coalesce(
        pl.col(s.PHASE),
        pl.col(s.ACTIVITY).replace_strict(staged, default=None, return_dtype=pl.String),
    )


def plan_process_drift(plan: pl.DataFrame, slim: pl.DataFrame) -> pl.DataFrame:
    """Return ``plan`` with process drift recomputed whole where the stages are open.

    A partnership with no stage-defining event before ``_keep`` takes the
    stage of its first later one for its earlier pairs too
    (:func:`engine.phases.assign_stages`), so its kept pair counts may change.
    """
    open_stages = (
        slim.filter(pl.col(s.TIMESTAMP) < pl.col("_keep"))
        .group_by(s.PARTNERSHIP_ID)
        .agg(_stage_defined().is_null().all().alias("_open"))
        .filter("_open")
    )
    reopened = pl.col(s.PARTNERSHIP_ID).is_in(open_stages[s.PARTNERSHIP_ID].implode())
    return plan.with_columns(
        pl.when(reopened).then(0).otherwise(pl.col("_k")).alias("_k"),
        pl.when(reopened)
        .then(pl.lit(EARLIEST, TS))
        .otherwise(pl.col("_keep"))
        .alias("_keep"),
    )


def process_rows(slim: pl.DataFrame) -> pl.Series:
    """Return which events the recomputed windows' process drift reads (and carriers)."""
    stage = _stage_defined()
    order = [s.TIMESTAMP, s.VERSION]
    versions = pl.col(s.VERSION).sort_by(order)
    carriers = (
        slim.lazy()
        .filter(pl.col(s.TIMESTAMP) < pl.col("_keep"))
        .group_by(s.PARTNERSHIP_ID)
        .agg(
            versions.last().alias("_previous"),
            versions.filter(stage.sort_by(order).is_not_null()).last().alias("_staged"),
        )
        .unpivot(index=s.PARTNERSHIP_ID, value_name=s.VERSION)
        .drop_nulls(s.VERSION)
        .collect(engine=STEP_ENGINE)
    )
    return flag_rows(
        slim,
        carriers,
        (pl.col(s.TIMESTAMP) >= pl.col("_keep"))
        | (pl.col(s.TIMESTAMP) <= pl.col("_first")),
    )


def merge_kept(
    cached: pl.DataFrame, fresh: pl.DataFrame, keep: pl.DataFrame
) -> pl.DataFrame:
    """Return cached rows before each partnership's ``_keep`` plus fresh rows from it on."""
    old = cached.join(keep, on=PID, how="left").filter(
        pl.col("_keep").is_null() | (pl.col("window_start") < pl.col("_keep"))
    )
    new = fresh.join(keep, on=PID).filter(pl.col("window_start") >= pl.col("_keep"))
    return pl.concat([old.drop("_keep"), new.drop("_keep")], how="vertical_relaxed")


def advance_process_drift(
    state: WatchState,
    *,
    events: pl.LazyFrame,
    plan: pl.DataFrame,
    windows: RollingWindows,
    rule: ProcessDriftRule,
) -> None:
    """Judge windows ``k - 1`` on from kept and fresh pair counts; keep them.

    The pair counts of windows before ``k`` cannot change, so they come from
    ``state.edges``, those from ``k`` on from ``events`` (the reduced
    frame, from window ``k``'s start plus carriers); a window's verdict reads
    those of the :func:`engine.drift.count_process_lookback` windows before it.
    """
    lookback = count_process_lookback(windows, rule=rule)
    first = plan.lazy().select(pl.col(s.PARTNERSHIP_ID).cast(pl.Categorical), "_k")
    index = pl.col(WINDOW_INDEX)
    dfg = (
        prepare_dfg_events(events, windows=windows).collect(engine=STEP_ENGINE).lazy()
    )  # read twice
    fresh = (
        count_stage_edges(dfg, windows=windows)
        .join(first, on=s.PARTNERSHIP_ID)
        .filter(index >= pl.col("_k"))
        .drop("_k")
        .collect(engine=STEP_ENGINE)
    )
    kept = (state.edges if state.edges is not None else fresh.clear()).lazy()
    earlier = kept.join(first, on=s.PARTNERSHIP_ID).filter(
        index.is_between(pl.col("_k") - lookback, pl.col("_k") - 1)
    )
    grid = (
        build_window_grid(dfg, windows=windows)
        .filter(pl.col(COMPLETE))
        .join(first, on=s.PARTNERSHIP_ID)
        .filter(index >= pl.col("_k") - 1)
        .drop("_k")
        .collect(engine=STEP_ENGINE)
        .lazy()
    )
    counts = pl.concat([earlier.drop("_k"), fresh.lazy()])
    distance = measure_process_distance(
        counts,
        windows=windows,
        rule=rule,
        measured=grid.select(s.PARTNERSHIP_ID, WINDOW_INDEX),
    )
    candidates = judge_process_drift(grid, distance, rule=rule).collect(
        engine=STEP_ENGINE
    )
    keep = plan.select(pl.col(s.PARTNERSHIP_ID).alias(PID), "_keep")
    state.process = merge_kept(state.process, candidates.cast(ALERT_SCHEMA), keep)
    state.edges = pl.concat(
        [
            kept.join(first, on=s.PARTNERSHIP_ID, how="left")
            .filter(pl.col("_k").is_null() | (index < pl.col("_k")))
            .drop("_k")
            .collect(engine=STEP_ENGINE),
            fresh,
        ]
    )

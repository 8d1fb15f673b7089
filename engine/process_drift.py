"""Process drift: a window's directly-follows pairs against its own stage's baseline.

The third detector of :mod:`engine.drift` (whose docstring gives the method:
per lifecycle stage, total variation distance of the edge frequencies and
Pearson's chi-square test of homogeneity against the previous non-overlapping
windows). Every function is a pure function of frames of whole partnerships.
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import TYPE_CHECKING

import polars as pl

from engine import schema as s
from engine.indicator_frames import (
    EVENT_KEY,
    add_window_ranges,
    assign_event_windows,
    window_range_columns,
)
from engine.phases import assign_stages
from engine.selection import drop_engine_events
from engine.windows import (
    COMPLETE,
    PERIOD,
    WINDOW_END,
    WINDOW_INDEX,
    WINDOW_START,
    RollingWindows,
    build_window_grid,
)

if TYPE_CHECKING:
    from engine.alerts import ProcessDriftRule
    from engine.windows import WindowSpec

__all__ = [
    "ORDER",
    "candidate_columns",
    "compute_process_distance",
    "count_process_lookback",
    "count_stage_edges",
    "detect_process_drift",
    "first_of_run",
    "in_order",
    "judge_process_drift",
    "measure_process_distance",
    "prepare_dfg_events",
]

_PID = "partnership_id"
_STAGE = "_stage"
_US = pl.Datetime("us", "UTC")
# Every drift detector sorts its rows by partnership, then window.
ORDER = [_PID, WINDOW_INDEX]


def candidate_columns(
    signal: str, *, value: pl.Expr, baseline: pl.Expr, message: pl.Expr
) -> list[pl.Expr]:
    """Return the columns of a drift candidate row, the same for every detector.

    Rows carry the partnership id as ``partnership_id`` and the window's
    ``period``, ``window_start`` and ``window_end``.
    """
    return [
        pl.col(_PID),
        pl.lit(signal).alias("signal"),
        pl.col(PERIOD).alias("window"),
        pl.col(WINDOW_START),
        pl.col(WINDOW_END),
        value.alias("value"),
        baseline.alias("baseline"),
        message.alias("message"),
    ]


def in_order(expr: pl.Expr) -> pl.Expr:
    """Return ``expr`` per partnership, in row order (frames sorted by :data:`ORDER`).

    Every detector sorts its rows by partnership and window first, so the
    rows of a partnership are in window order: ``over(order_by=)`` would sort
    each of them again for the same result.
    """
    return expr.over(_PID)


def first_of_run(condition: pl.Expr) -> pl.Expr:
    """Return where ``condition`` holds but did not at the previous row."""
    before = in_order(condition.shift(1)).fill_null(False)
    return condition & before.not_()


def _baseline_lag(windows: WindowSpec) -> int:
    """Windows back to the first one that does not overlap the current one."""
    if isinstance(windows, RollingWindows):
        return math.ceil(windows.window / windows.step)
    return 1


def count_process_lookback(windows: WindowSpec, *, rule: ProcessDriftRule) -> int:
    """Return how many windows back a window's process-drift verdict reads.

    The verdict of window ``k`` compares its edges with those of windows
    ``k - lag - baseline_windows + 1 .. k - lag``; whether it is the first of
    a run also reads window ``k - 1``'s: windows from ``k - lookback`` on.
    """
    return _baseline_lag(windows) + rule.baseline_windows


def prepare_dfg_events(frame: pl.LazyFrame, *, windows: WindowSpec) -> pl.LazyFrame:
    """Return the partners' events with what a DFG per window needs, keyed cheaply.

    Engine-written events are dropped; the partnership id is categorical (its
    joins and group-bys hash integers); rolling windows come as ranges
    (:func:`engine.indicator_frames.add_window_ranges`).
    """
    columns = frame.collect_schema().names()
    version = pl.col(s.VERSION) if s.VERSION in columns else pl.int_range(pl.len())
    events = (
        drop_engine_events(frame)
        .select(
            pl.col(s.PARTNERSHIP_ID).cast(pl.Categorical),
            s.TIMESTAMP,
            version.cast(pl.Int64).alias(s.VERSION),
            s.ACTIVITY,
            s.PHASE,
        )
        .with_row_index(EVENT_KEY)
    )
    return add_window_ranges(events, windows=windows)


def _stage_edges(events: pl.LazyFrame) -> pl.LazyFrame:
    """Return the directly-follows pairs of ``events``, each with a stage.

    A pair belongs to the lifecycle stage of its target event
    (:func:`engine.phases.assign_stages`: the recorded phase, else the
    activity's stage, any-stage activities in the stage in force).
    """
    ordered = events.sort(s.PARTNERSHIP_ID, s.TIMESTAMP, s.VERSION)
    return (
        assign_stages(ordered)
        .with_columns(
            pl.col(s.ACTIVITY).shift(1).over(s.PARTNERSHIP_ID).alias("_source")
        )
        .filter(pl.col("_source").is_not_null())
        .select(
            EVENT_KEY,
            s.PARTNERSHIP_ID,
            *window_range_columns(events),
            pl.col("stage").fill_null("").cast(pl.Categorical).alias(_STAGE),
            pl.col("_source").cast(pl.Categorical),
            pl.col(s.ACTIVITY).cast(pl.Categorical).alias("_target"),
        )
    )


def count_stage_edges(events: pl.LazyFrame, *, windows: WindowSpec) -> pl.LazyFrame:
    """Return how many directly-follows pairs each window holds, per stage and edge.

    ``events`` come from :func:`prepare_dfg_events`; columns
    ``case:concept:name, window_index, _stage, _source, _target, _p``. An
    edge belongs to the windows and the lifecycle stage of its target event.
    A window's counts read only its events and the one before each (the
    source, and the stage in force), so those of a window that can no longer
    change can be kept (:mod:`engine.watch_state`).
    """
    key = [s.PARTNERSHIP_ID, WINDOW_INDEX, _STAGE, "_source", "_target"]
    return (
        assign_event_windows(_stage_edges(events), events=events, windows=windows)
        .group_by(key)
        .agg(pl.len().alias("_p"))
    )


def compute_process_distance(
    frame: pl.LazyFrame, *, windows: WindowSpec, rule: ProcessDriftRule
) -> pl.LazyFrame:
    """Return per window the TV distance of its DFG to the previous windows' of the same stage.

    Columns ``case:concept:name, window_index, distance, edges,
    baseline_edges``; an edge belongs to the windows and the lifecycle stage of
    its target event. Per stage, the distance is the total variation distance
    of the window's edge frequencies to those of the same stage in the
    ``baseline_windows`` previous windows that do not overlap it; a stage is
    measured when both sides hold at least ``min_edges`` pairs. The window's
    distance is the mean over its measured stages weighted by the window's
    pairs in each (null when none is measured); ``edges`` and
    ``baseline_edges`` count the pairs of the measured stages (all the
    window's pairs, and 0, when none is).
    """
    counts = count_stage_edges(
        prepare_dfg_events(frame, windows=windows), windows=windows
    )
    return measure_process_distance(counts, windows=windows, rule=rule)


def measure_process_distance(
    counts: pl.LazyFrame,
    *,
    windows: WindowSpec,
    rule: ProcessDriftRule,
    measured: pl.LazyFrame | None = None,
) -> pl.LazyFrame:
    """Return :func:`compute_process_distance` from the windows' pair counts.

    ``counts`` is :func:`count_stage_edges` (or any subset holding, for each
    window measured, the counts of it and of its baseline windows).
    ``measured`` (``case:concept:name, window_index``), when given, limits
    the windows measured to each partnership's range of those (a window's
    distance reads only its own and its baseline windows' counts).
    """
    stage_key = [s.PARTNERSHIP_ID, WINDOW_INDEX, _STAGE]
    key = [*stage_key, "_source", "_target"]
    lag = _baseline_lag(windows)
    shifts = pl.int_ranges(lag, lag + rule.baseline_windows, dtype=pl.Int64)
    current = _within_measured(counts, measured, reach=(0, 0))
    reach = (lag, lag + rule.baseline_windows - 1)
    baseline = (
        _within_measured(counts, measured, reach=reach)
        .with_columns(shifts.alias("_shift"))
        .explode("_shift")
        .with_columns(pl.col(WINDOW_INDEX) + pl.col("_shift"))
    )
    baseline = (
        _within_measured(baseline, measured, reach=(0, 0))
        .group_by(key)
        .agg(pl.col("_p").sum().alias("_q"))
    )
    gap = (pl.col("_p") / pl.col("_n_p") - pl.col("_q") / pl.col("_n_q")).abs()
    per_stage = (
        current.join(baseline, on=key, how="full", coalesce=True)
        .with_columns(pl.col("_p").fill_null(0), pl.col("_q").fill_null(0))
        .with_columns(
            pl.col("_p").sum().over(stage_key).alias("_n_p"),
            pl.col("_q").sum().over(stage_key).alias("_n_q"),
        )
        .filter(pl.col("_n_p") > 0)
        .group_by(stage_key)
        .agg(
            (0.5 * gap.sum()).alias("_tv"),
            _pearson_terms().sum().alias("_chi2"),
            (pl.len() - 1).alias("_df"),
            pl.col("_n_p").first(),
            pl.col("_n_q").first(),
        )
    )
    # A stage is compared when it is seen on both sides; the window is
    # measured when its compared pairs and their baseline reach min_edges.
    compared = pl.col("_n_q") > 0
    weight = pl.when(compared).then(pl.col("_n_p"))
    return per_stage.group_by(s.PARTNERSHIP_ID, WINDOW_INDEX).agg(
        ((pl.col("_tv") * weight).sum() / weight.sum()).round(12).alias("distance"),
        weight.sum().alias("edges"),
        pl.col("_n_q").filter(compared).sum().alias("baseline_edges"),
        _wilson_hilferty(
            pl.col("_chi2").filter(compared).sum(),
            pl.col("_df").filter(compared).sum(),
        ).alias("z"),
    )


def _within_measured(
    rows: pl.LazyFrame, measured: pl.LazyFrame | None, *, reach: tuple[int, int]
) -> pl.LazyFrame:
    """Return the ``rows`` whose window plus ``reach`` meets its partnership's measured range.

    A row of window ``w`` is kept when some window ``w + reach[0] .. w +
    reach[1]`` falls in the range of its partnership's ``measured`` windows
    (all rows when ``measured`` is None).
    """
    if measured is None:
        return rows
    ranges = measured.group_by(s.PARTNERSHIP_ID).agg(
        pl.col(WINDOW_INDEX).min().alias("_lo_m"),
        pl.col(WINDOW_INDEX).max().alias("_hi_m"),
    )
    index = pl.col(WINDOW_INDEX)
    return (
        rows.join(ranges, on=s.PARTNERSHIP_ID)
        .filter(
            (index + reach[1] >= pl.col("_lo_m"))
            & (index + reach[0] <= pl.col("_hi_m"))
        )
        .drop("_lo_m", "_hi_m")
    )


def _pearson_terms() -> pl.Expr:
    """Per edge, its term of Pearson's chi-square for the 2 x E table (window, baseline)."""
    n_p, n_q = pl.col("_n_p"), pl.col("_n_q")
    gap = pl.col("_p") / n_p - pl.col("_q") / n_q
    return n_p * n_q * gap * gap / (pl.col("_p") + pl.col("_q"))


def _wilson_hilferty(chi2: pl.Expr, df: pl.Expr) -> pl.Expr:
    """Return the standard normal deviate of a chi-square statistic (Wilson & Hilferty 1931)."""
    k = df.cast(pl.Float64)
    spread = 2.0 / (9.0 * k)
    return pl.when(k > 0).then(
        ((chi2 / k) ** (1.0 / 3.0) - (1.0 - spread)) / spread.sqrt()
    )


def detect_process_drift(
    frame: pl.LazyFrame, *, windows: WindowSpec, rule: ProcessDriftRule
) -> pl.LazyFrame:
    """Return windows whose DFG drifted from the previous windows' (alert rows)."""
    events = prepare_dfg_events(frame, windows=windows)
    grid = build_window_grid(events, windows=windows).filter(pl.col(COMPLETE))
    distance = measure_process_distance(
        count_stage_edges(events, windows=windows),
        windows=windows,
        rule=rule,
        measured=grid.select(s.PARTNERSHIP_ID, WINDOW_INDEX),
    )
    return judge_process_drift(grid, distance, rule=rule)


def judge_process_drift(
    grid: pl.LazyFrame, distance: pl.LazyFrame, *, rule: ProcessDriftRule
) -> pl.LazyFrame:
    """Return the alert rows of the ``grid`` windows whose DFG drifted.

    ``grid`` holds the complete windows to judge (:func:`engine.windows.build_window_grid`,
    categorical partnership ids), ``distance`` :func:`measure_process_distance`.
    A window fires at the first of a run of drifted windows: the first window
    of ``grid`` per partnership cannot tell, and only serves the next one.
    """
    measured = (pl.col("edges") >= rule.min_edges) & (
        pl.col("baseline_edges") >= rule.min_edges
    )
    z_crit = NormalDist().inv_cdf(1.0 - rule.alpha)
    drifted = (
        measured.fill_null(False)
        & (pl.col("distance") >= rule.threshold)
        & (pl.col("z") > z_crit)
    )
    return (
        grid.join(distance, on=[s.PARTNERSHIP_ID, WINDOW_INDEX], how="left")
        .with_columns(pl.col(s.PARTNERSHIP_ID).cast(pl.String))
        .rename({s.PARTNERSHIP_ID: _PID})
        .sort(ORDER)
        .filter(first_of_run(drifted))
        .select(
            candidate_columns(
                "process_drift",
                value=pl.col("distance"),
                baseline=pl.lit(0.0),
                message=pl.format(
                    "the process changed: directly-follows distance {} to the previous windows",
                    pl.col("distance").round(2),
                ),
            )
        )
    )

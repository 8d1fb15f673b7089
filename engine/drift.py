"""Drift of partnerships: score change detection, status crossings, process drift.

DOMAIN.md: a partnership drifts when its alignment score falls significantly
below its own recent baseline, crosses a status threshold, or its
directly-follows relation changes markedly. Three vectorized detectors, each
over all partnerships at once, each evaluating complete windows only (a window
is complete once the partnership has an event at or after its end), so that a
window's verdict never changes as the log grows:

* **Page-Hinkley** (Page 1954; Hinkley 1971) on each partnership's series of
  non-null alignment scores, first passed through a causal running median of
  ``smoothing_windows`` (3) windows: a window that happens to catch only a few
  events gives an impulsive outlier, which the median removes, while a
  sustained drop passes after one more window. On the smoothed ``x_1..x_t``,
  with the running mean
  ``mean_t = (x_1 + ... + x_t) / t``, ``m_t = sum_{i<=t} (x_i - mean_i + delta)``
  and ``M_t = max_{i<=t} m_i``, the score has dropped when
  ``M_t - m_t > threshold`` (lambda) after at least ``min_windows`` windows;
  ``delta`` is the drop tolerated per window. Every window adds about
  ``drop - delta`` to ``M_t - m_t``, so a sustained drop of ``d`` is detected
  after about ``threshold / (d - delta)`` windows. Cumulative sums, maxima and
  shifts over the partnership replace the per-partnership loop.
* **Status crossing**: the status falls (aligned > at_risk > disorder) from one
  scored window to the next.
* **Process drift**: the total variation distance ``0.5 * sum |p - q|`` between
  the edge frequencies ``p`` of a window's DFG and ``q`` of the previous
  ``baseline_windows`` windows that do not overlap it, when both hold at least
  ``min_edges`` directly-follows pairs.

A detector fires at the first window of each run of windows where its
condition holds (one alert per drift); :func:`engine.alerts.apply_cooldown`
then enforces the cool-down.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import polars as pl

from engine import schema as s
from engine.alerts import ALERT_SCHEMA, AlertRules, apply_cooldown
from engine.alignment import STATUS_RANK
from engine.indicator_frames import (
    EVENT_KEY,
    assign_event_windows,
    prepare_indicator_events,
)
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
    from engine.alerts import ProcessDriftRule, ScoreDriftRule
    from engine.windows import WindowSpec

__all__ = [
    "compute_process_distance",
    "detect_drift",
    "detect_process_drift",
    "detect_score_drift",
    "detect_status_crossings",
]

_PID = "partnership_id"
_ORDER = [_PID, WINDOW_INDEX]


def _first_of_run(condition: pl.Expr) -> pl.Expr:
    """Return where ``condition`` holds but did not at the previous row."""
    before = condition.shift(1).over(_PID, order_by=WINDOW_INDEX).fill_null(False)
    return condition & before.not_()


def _scored(indicators: pl.LazyFrame) -> pl.LazyFrame:
    return indicators.filter(
        pl.col(COMPLETE) & pl.col("alignment_score").is_not_null()
    ).sort(_ORDER)


def detect_score_drift(
    indicators: pl.LazyFrame, *, rule: ScoreDriftRule
) -> pl.LazyFrame:
    """Return Page-Hinkley drops of the alignment score (alert rows).

    Examples
    --------
    >>> from datetime import datetime, UTC
    >>> from engine.alerts import ScoreDriftRule
    >>> x = [0.8, 0.8, 0.8, 0.8, 0.3, 0.3, 0.3]
    >>> t = [datetime(2020, 1, 1 + i, tzinfo=UTC) for i in range(7)]
    >>> lf = pl.LazyFrame({"partnership_id": "p", "window_index": range(7),
    ...     "period": "w", "window_start": t, "window_end": t,
    ...     "alignment_score": x, "complete": True})
    >>> out = detect_score_drift(lf, rule=ScoreDriftRule()).collect()
    >>> out["window_start"].dt.day().to_list(), out["value"].to_list()
    ([6], [0.3])
    """
    raw = pl.col("alignment_score")
    x = pl.col("_smoothed")
    smoothed = raw.rolling_median(rule.smoothing_windows, min_samples=1).over(
        _PID, order_by=WINDOW_INDEX
    )
    n = pl.int_range(1, pl.len() + 1).over(_PID, order_by=WINDOW_INDEX)
    mean = x.cum_sum().over(_PID, order_by=WINDOW_INDEX) / n
    m = (x - mean + rule.delta).cum_sum().over(_PID, order_by=WINDOW_INDEX)
    statistic = m.cum_max().over(_PID, order_by=WINDOW_INDEX) - m
    baseline = mean.shift(1).over(_PID, order_by=WINDOW_INDEX)
    alarm = (pl.col("_ph") > rule.threshold) & (pl.col("_n") >= rule.min_windows)
    return (
        _scored(indicators)
        .with_columns(smoothed.alias("_smoothed"))
        .with_columns(statistic.alias("_ph"), n.alias("_n"), baseline.alias("baseline"))
        .filter(_first_of_run(alarm))
        .select(
            _PID,
            pl.lit("score_drift").alias("signal"),
            pl.col(PERIOD).alias("window"),
            WINDOW_START,
            WINDOW_END,
            raw.alias("value"),
            "baseline",
            pl.format(
                "alignment score fell to {} (Page-Hinkley {} over the running mean {})",
                x.round(2),
                pl.col("_ph").round(2),
                pl.col("baseline").round(2),
            ).alias("message"),
        )
    )


def detect_status_crossings(indicators: pl.LazyFrame) -> pl.LazyFrame:
    """Return windows whose status is worse than the previous scored window's."""
    rank = pl.col("status").replace_strict(STATUS_RANK, return_dtype=pl.Int8)
    previous = pl.col("status").shift(1).over(_PID, order_by=WINDOW_INDEX)
    previous_score = (
        pl.col("alignment_score").shift(1).over(_PID, order_by=WINDOW_INDEX)
    )
    return (
        _scored(indicators)
        .with_columns(
            rank.alias("_rank"),
            previous.alias("_previous"),
            previous_score.alias("baseline"),
        )
        .filter(
            pl.col("_previous").is_not_null()
            & (
                pl.col("_rank")
                < pl.col("_previous").replace_strict(STATUS_RANK, return_dtype=pl.Int8)
            )
        )
        .select(
            _PID,
            pl.lit("status_crossing").alias("signal"),
            pl.col(PERIOD).alias("window"),
            WINDOW_START,
            WINDOW_END,
            pl.col("alignment_score").alias("value"),
            "baseline",
            pl.format(
                "status fell from {} to {} (alignment score {})",
                "_previous",
                "status",
                pl.col("alignment_score").round(2),
            ).alias("message"),
        )
    )


def _baseline_lag(windows: WindowSpec) -> int:
    """Windows back to the first one that does not overlap the current one."""
    if isinstance(windows, RollingWindows):
        return math.ceil(windows.window / windows.step)
    return 1


def compute_process_distance(
    frame: pl.LazyFrame, *, windows: WindowSpec, rule: ProcessDriftRule
) -> pl.LazyFrame:
    """Return per window the TV distance of its DFG to the previous windows'.

    Columns ``case:concept:name, window_index, distance, edges, baseline_edges``;
    an edge belongs to the windows of its target event.
    """
    events = prepare_indicator_events(frame, by=None)
    order = [s.TIMESTAMP, s.VERSION]
    edges = (
        events.sort(s.PARTNERSHIP_ID, *order)
        .with_columns(
            pl.col(s.ACTIVITY).shift(1).over(s.PARTNERSHIP_ID).alias("_source")
        )
        .filter(pl.col("_source").is_not_null())
        .select(
            EVENT_KEY, s.PARTNERSHIP_ID, "_source", pl.col(s.ACTIVITY).alias("_target")
        )
    )
    key = [s.PARTNERSHIP_ID, WINDOW_INDEX, "_source", "_target"]
    current = (
        assign_event_windows(edges, events=events, windows=windows)
        .group_by(key)
        .agg(pl.len().alias("_p"))
    )
    lag = _baseline_lag(windows)
    shifts = pl.int_ranges(lag, lag + rule.baseline_windows, dtype=pl.Int64)
    baseline = (
        current.with_columns(shifts.alias("_shift"))
        .explode("_shift")
        .with_columns(pl.col(WINDOW_INDEX) + pl.col("_shift"))
        .group_by(key)
        .agg(pl.col("_p").sum().alias("_q"))
    )
    totals = [
        pl.col("_p").sum().over(s.PARTNERSHIP_ID, WINDOW_INDEX).alias("edges"),
        pl.col("_q").sum().over(s.PARTNERSHIP_ID, WINDOW_INDEX).alias("baseline_edges"),
    ]
    gap = (
        pl.col("_p") / pl.col("edges") - pl.col("_q") / pl.col("baseline_edges")
    ).abs()
    return (
        current.join(baseline, on=key, how="full", coalesce=True)
        .with_columns(pl.col("_p").fill_null(0), pl.col("_q").fill_null(0))
        .with_columns(totals)
        .group_by(s.PARTNERSHIP_ID, WINDOW_INDEX)
        .agg(
            (0.5 * gap.sum()).round(12).alias("distance"),
            pl.col("edges").first(),
            pl.col("baseline_edges").first(),
        )
    )


def detect_process_drift(
    frame: pl.LazyFrame, *, windows: WindowSpec, rule: ProcessDriftRule
) -> pl.LazyFrame:
    """Return windows whose DFG drifted from the previous windows' (alert rows)."""
    grid = build_window_grid(
        prepare_indicator_events(frame, by=None), windows=windows
    ).filter(pl.col(COMPLETE))
    distance = compute_process_distance(frame, windows=windows, rule=rule)
    measured = (pl.col("edges") >= rule.min_edges) & (
        pl.col("baseline_edges") >= rule.min_edges
    )
    drifted = measured.fill_null(False) & (pl.col("distance") >= rule.threshold)
    return (
        grid.join(distance, on=[s.PARTNERSHIP_ID, WINDOW_INDEX], how="left")
        .rename({s.PARTNERSHIP_ID: _PID})
        .sort(_ORDER)
        .filter(_first_of_run(drifted))
        .select(
            _PID,
            pl.lit("process_drift").alias("signal"),
            pl.col(PERIOD).alias("window"),
            WINDOW_START,
            WINDOW_END,
            pl.col("distance").alias("value"),
            pl.lit(0.0).alias("baseline"),
            pl.format(
                "the process changed: directly-follows distance {} to the previous windows",
                pl.col("distance").round(2),
            ).alias("message"),
        )
    )


def detect_drift(
    indicators: pl.DataFrame | pl.LazyFrame,
    *,
    frame: pl.DataFrame | pl.LazyFrame,
    windows: WindowSpec,
    rules: AlertRules,
) -> pl.DataFrame:
    """Return every drift alert of every partnership (collected; the boundary).

    Parameters
    ----------
    indicators
        Ungrouped output of :func:`engine.indicators.compute_indicators` on ``windows``.
    frame
        The events those indicators were computed from (for process drift).
    windows
        The window spec of ``indicators``.
    rules
        Which signals to evaluate, their parameters and cool-downs.

    Returns
    -------
    pl.DataFrame
        :data:`engine.alerts.ALERT_SCHEMA`, by partnership, window and signal.
    """
    parts: list[pl.LazyFrame] = [pl.LazyFrame(schema=ALERT_SCHEMA)]
    lazy = indicators.lazy()
    if rules.score_drift.enabled:
        parts.append(detect_score_drift(lazy, rule=rules.score_drift))
    if rules.status_crossing.enabled:
        parts.append(detect_status_crossings(lazy))
    if rules.process_drift.enabled:
        parts.append(
            detect_process_drift(
                frame.lazy(), windows=windows, rule=rules.process_drift
            )
        )
    alerts = pl.concat([p.cast(ALERT_SCHEMA) for p in parts])
    return (
        apply_cooldown(alerts, rules=rules).sort(_PID, WINDOW_START, "signal").collect()
    )

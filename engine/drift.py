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
* **Status crossing**: the *settled* status falls (aligned > at_risk >
  disorder): the median level of the last ``smoothing_windows`` (3) scored
  windows, the upper one of two (k-out-of-n persistence). A single window
  that caught only a few events (a quiet month, a conflict raised the day
  before the window ends) used to read as a crossing; most false alarms on
  partnerships that never drifted were such one-window dips.
* **Process drift**: within each lifecycle stage, the window's directly-follows
  pairs against those of the same stage in the previous ``baseline_windows``
  windows that do not overlap it. A partnership moving from negotiation to
  commitment to execution (or cycling back) changes its DFG by design
  (DOMAIN.md, reference lifecycle); comparing across stages read every stage
  change as a drift. Two conditions, as in the process-drift literature
  (Bose et al. 2014; Maaradji et al. 2017, a statistical test of the two
  populations rather than a raw distance): the effect size, the total
  variation distance ``0.5 * sum |p - q|`` of the edge frequencies (weighted
  over the stages measured), reaches ``threshold``; and Pearson's chi-square
  test of homogeneity of the 2 x E table (window, baseline) x edges, summed
  over those stages, is significant at ``alpha`` (Wilson-Hilferty normal
  approximation). A window of a handful of pairs has a large TV distance
  by chance alone; the test keeps it from firing. Both sides need at least
  ``min_edges`` pairs.

A detector fires at the first window of each run of windows where its
condition holds (one alert per drift); :func:`engine.alerts.apply_cooldown`
then enforces the cool-down.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import polars as pl

from engine.alerts import ALERT_SCHEMA, AlertRules, StatusCrossingRule, apply_cooldown
from engine.alignment import STATUS_RANK
from engine.process_drift import (
    ORDER,
    candidate_columns,
    compute_process_distance,
    count_process_lookback,
    count_stage_edges,
    detect_process_drift,
    first_of_run,
    in_order,
    judge_process_drift,
    measure_process_distance,
    prepare_dfg_events,
)
from engine.windows import (
    COMPLETE,
    PERIOD,
    WINDOW_END,
    WINDOW_INDEX,
    WINDOW_START,
)

if TYPE_CHECKING:
    from engine.alerts import ScoreDriftRule
    from engine.windows import WindowSpec

__all__ = [
    "SCORE_COLUMNS",
    "SCORE_STATISTICS",
    "collect_drift_candidates",
    "compute_process_distance",
    "count_process_lookback",
    "count_score_context",
    "count_stage_edges",
    "detect_drift",
    "detect_process_drift",
    "detect_score_drift",
    "detect_status_crossings",
    "finish_drift_alerts",
    "judge_process_drift",
    "measure_process_distance",
    "prepare_dfg_events",
    "track_score_signals",
]

_PID = "partnership_id"
_CONTEXT = "_context"
_SEED = "_seed"
# The running statistics of a scored window (seeds of the windows after it).
SCORE_STATISTICS = pl.Schema(
    {"_n": pl.Int64(), "_csum": pl.Float64(), "_m": pl.Float64(), "_mmax": pl.Float64()}
)
_SCORE_ROW_COLUMNS = [
    _PID,
    WINDOW_INDEX,
    PERIOD,
    WINDOW_START,
    WINDOW_END,
    "alignment_score",
    "status",
]
_US = pl.Datetime("us", "UTC")
# A scored window as kept between watch steps (:func:`track_score_signals`).
SCORE_COLUMNS = pl.Schema(
    {
        _PID: pl.String(),
        WINDOW_INDEX: pl.Int64(),
        PERIOD: pl.String(),
        WINDOW_START: _US,
        WINDOW_END: _US,
        "alignment_score": pl.Float64(),
        "status": pl.String(),
        **SCORE_STATISTICS,
    }
)


def _scored(indicators: pl.LazyFrame) -> pl.LazyFrame:
    return indicators.filter(
        pl.col(COMPLETE) & pl.col("alignment_score").is_not_null()
    ).sort(ORDER)


def _seeded(value: pl.Expr, seed: str, pad: float) -> pl.Expr:
    """Return ``value``, the stored ``seed`` on a seed row, ``pad`` on other context rows.

    A running statistic (a cumulative sum or maximum) of the rows after the
    context, seeded with its value at the last context row, is that of the
    whole series: the scan adds the same values in the same order.
    """
    return (
        pl.when(pl.col(_SEED))
        .then(pl.col(seed))
        .when(pl.col(_CONTEXT))
        .then(pl.lit(pad))
        .otherwise(value)
    )


def _without_context(scored: pl.LazyFrame) -> pl.LazyFrame:
    """Return scored rows as a whole series: no context rows, no seeds."""
    return scored.with_columns(
        pl.lit(value=False).alias(_CONTEXT),
        pl.lit(value=False).alias(_SEED),
        *(pl.lit(None, dtype).alias(name) for name, dtype in SCORE_STATISTICS.items()),
    )


def _score_statistics(scored: pl.LazyFrame, *, rule: ScoreDriftRule) -> pl.LazyFrame:
    """Return the Page-Hinkley statistics of the scored rows (sorted by :data:`ORDER`).

    Adds ``_smoothed``, :data:`SCORE_STATISTICS` (``_n``, ``_csum``, ``_m``,
    ``_mmax``: count, cumulative sums of the smoothed score and of its
    deviations, running maximum of the latter), ``_mean``, ``baseline``,
    ``_ph`` and ``_fire`` (first window of a run of alarms). Context rows
    (``_context``) only serve the rolling median and, the last one
    (``_seed``), carry the statistics of the rows before them.
    """
    raw = pl.col("alignment_score")
    x = pl.col("_smoothed")
    smoothed = in_order(raw.rolling_median(rule.smoothing_windows, min_samples=1))
    n = in_order(_seeded(pl.lit(1, pl.Int64), "_n", 0).cum_sum())
    csum = in_order(_seeded(x, "_csum", 0.0).cum_sum())
    m = in_order(_seeded(x - pl.col("_mean") + rule.delta, "_m", 0.0).cum_sum())
    mmax = in_order(_seeded(pl.col("_m"), "_mmax", -math.inf).cum_max())
    baseline = in_order(pl.col("_mean").shift(1))
    alarm = (pl.col("_ph") > rule.threshold) & (pl.col("_n") >= rule.min_windows)
    return (
        scored.with_columns(smoothed.alias("_smoothed"), n.alias("_n"))
        .with_columns(csum.alias("_csum"))
        .with_columns((pl.col("_csum") / pl.col("_n")).alias("_mean"))
        .with_columns(m.alias("_m"), baseline.alias("baseline"))
        .with_columns(mmax.alias("_mmax"))
        .with_columns((pl.col("_mmax") - pl.col("_m")).alias("_ph"))
        .with_columns(first_of_run(alarm).alias("_fire"))
    )


def _score_drift_alerts(statistics: pl.LazyFrame) -> pl.LazyFrame:
    """Return the alert rows of :func:`_score_statistics` (context rows left out)."""
    return statistics.filter(pl.col("_fire") & pl.col(_CONTEXT).not_()).select(
        candidate_columns(
            "score_drift",
            value=pl.col("alignment_score"),
            baseline=pl.col("baseline"),
            message=pl.format(
                "alignment score fell to {} (Page-Hinkley {} over the running mean {})",
                pl.col("_smoothed").round(2),
                pl.col("_ph").round(2),
                pl.col("baseline").round(2),
            ),
        )
    )


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
    scored = _without_context(_scored(indicators))
    return _score_drift_alerts(_score_statistics(scored, rule=rule))


def detect_status_crossings(
    indicators: pl.LazyFrame, *, rule: StatusCrossingRule | None = None
) -> pl.LazyFrame:
    """Return windows where the partnership's settled status fell to a worse level.

    The settled status of a scored window is the median level (aligned 2 >
    at_risk 1 > disorder 0) of the last ``smoothing_windows`` scored windows,
    the upper one when there are two (a k-out-of-n persistence rule: with 3,
    a status holds once 2 of the last 3 windows show it or worse). A window
    that happens to catch only a few events cannot raise a crossing alone;
    a sustained fall is reported one window later. With
    ``smoothing_windows = 1`` it is the raw status.

    Examples
    --------
    >>> from datetime import datetime, UTC
    >>> st = ["aligned", "aligned", "disorder", "aligned", "at_risk", "at_risk"]
    >>> t = [datetime(2020, 1, 1 + i, tzinfo=UTC) for i in range(6)]
    >>> lf = pl.LazyFrame({"partnership_id": "p", "window_index": range(6),
    ...     "period": "w", "window_start": t, "window_end": t, "status": st,
    ...     "alignment_score": [0.9, 0.9, 0.1, 0.9, 0.5, 0.5], "complete": True})
    >>> out = detect_status_crossings(lf).collect()
    >>> out["window_start"].dt.day().to_list(), out["message"].to_list()[0][:35]
    ([5], 'status fell from aligned to at_risk')
    """
    scored = _scored(indicators).with_columns(pl.lit(value=False).alias(_CONTEXT))
    return _status_crossing_alerts(scored, rule=rule or StatusCrossingRule())


def _status_crossing_alerts(
    scored: pl.LazyFrame, *, rule: StatusCrossingRule
) -> pl.LazyFrame:
    """Return :func:`detect_status_crossings` of scored rows (context rows left out)."""
    level = pl.col("status").replace_strict(STATUS_RANK, return_dtype=pl.Int8)
    settled = level.rolling_quantile(
        0.5, interpolation="higher", window_size=rule.smoothing_windows, min_samples=1
    )
    settled = in_order(settled)
    names = {float(v): k for k, v in STATUS_RANK.items()}
    previous = in_order(pl.col("_settled").shift(1))
    previous_score = in_order(pl.col("alignment_score").shift(1))
    return (
        scored.with_columns(settled.alias("_settled"))
        .with_columns(
            previous.alias("_previous"),
            previous_score.alias("baseline"),
        )
        .filter(
            pl.col("_previous").is_not_null()
            & (pl.col("_settled") < pl.col("_previous"))
            & pl.col(_CONTEXT).not_()
        )
        .select(
            candidate_columns(
                "status_crossing",
                value=pl.col("alignment_score"),
                baseline=pl.col("baseline"),
                message=pl.format(
                    "status fell from {} to {} (alignment score {})",
                    pl.col("_previous").replace_strict(names, return_dtype=pl.String),
                    pl.col("_settled").replace_strict(names, return_dtype=pl.String),
                    pl.col("alignment_score").round(2),
                ),
            )
        )
    )


def count_score_context(rules: AlertRules) -> int:
    """Return how many scored windows before the recomputed ones the detectors read.

    The rolling median and settled status of the first recomputed window read
    ``smoothing_windows - 1`` earlier ones, and its verdict the previous
    window's (its settled status, its alarm): one more.
    """
    return (
        max(
            rules.score_drift.smoothing_windows, rules.status_crossing.smoothing_windows
        )
        + 1
    )


def track_score_signals(
    context: pl.DataFrame, fresh: pl.DataFrame, *, rules: AlertRules
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Return the score statistics and score/status candidates of ``fresh`` rows.

    Incremental :func:`detect_score_drift` and :func:`detect_status_crossings`:
    the verdict of a window reads only the windows up to it, so those of
    earlier windows can be kept and later ones computed from the last
    :func:`count_score_context` scored windows before them, whose stored
    statistics seed the running sums. The result equals that of the whole
    series, bit for bit.

    Parameters
    ----------
    context
        Per partnership, the last scored rows before ``fresh`` with their
        statistics (:data:`SCORE_COLUMNS`); may be empty.
    fresh
        Indicator rows (:func:`engine.indicators.compute_indicators`) from
        the first recomputed window of each partnership on.
    rules
        The alert rules.

    Returns
    -------
    tuple[pl.DataFrame, pl.DataFrame]
        The scored ``fresh`` rows with their statistics (:data:`SCORE_COLUMNS`),
        and their candidates (:data:`engine.alerts.ALERT_SCHEMA`, before the
        cool-down).
    """
    seed = pl.col(WINDOW_INDEX) == pl.col(WINDOW_INDEX).max().over(_PID)
    rows = pl.concat(
        [
            context.lazy()
            .select(SCORE_COLUMNS.names())
            .with_columns(pl.lit(value=True).alias(_CONTEXT), seed.alias(_SEED)),
            _without_context(_scored(fresh.lazy()).select(_SCORE_ROW_COLUMNS)).select(
                *SCORE_COLUMNS.names(), _CONTEXT, _SEED
            ),
        ],
        how="vertical_relaxed",
    ).sort(ORDER)
    statistics = _score_statistics(rows, rule=rules.score_drift).collect()
    parts: list[pl.LazyFrame] = [pl.LazyFrame(schema=ALERT_SCHEMA)]
    if rules.score_drift.enabled:
        parts.append(_score_drift_alerts(statistics.lazy()))
    if rules.status_crossing.enabled:
        parts.append(
            _status_crossing_alerts(statistics.lazy(), rule=rules.status_crossing)
        )
    candidates = pl.concat([p.cast(ALERT_SCHEMA) for p in parts]).collect()
    kept = statistics.filter(pl.col(_CONTEXT).not_()).select(SCORE_COLUMNS.names())
    return kept.cast(SCORE_COLUMNS), candidates


def collect_drift_candidates(
    indicators: pl.DataFrame | pl.LazyFrame,
    *,
    frame: pl.DataFrame | pl.LazyFrame | None,
    windows: WindowSpec,
    rules: AlertRules,
) -> pl.LazyFrame:
    """Return the enabled detectors' alert rows before the cool-down (lazy).

    ``frame`` (the events, for process drift) may be None to leave process
    drift out (:mod:`engine.watch_state` keeps its candidates between steps).
    """
    parts: list[pl.LazyFrame] = [pl.LazyFrame(schema=ALERT_SCHEMA)]
    lazy = indicators.lazy()
    if rules.score_drift.enabled:
        parts.append(detect_score_drift(lazy, rule=rules.score_drift))
    if rules.status_crossing.enabled:
        parts.append(detect_status_crossings(lazy, rule=rules.status_crossing))
    if rules.process_drift.enabled and frame is not None:
        parts.append(
            detect_process_drift(
                frame.lazy(), windows=windows, rule=rules.process_drift
            )
        )
    return pl.concat([p.cast(ALERT_SCHEMA) for p in parts])


def finish_drift_alerts(candidates: pl.LazyFrame, *, rules: AlertRules) -> pl.DataFrame:
    """Return the candidates kept by the cool-down, sorted (collected; the boundary)."""
    return (
        apply_cooldown(candidates, rules=rules)
        .sort(_PID, WINDOW_START, "signal")
        .collect()
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
    candidates = collect_drift_candidates(
        indicators, frame=frame, windows=windows, rules=rules
    )
    return finish_drift_alerts(candidates, rules=rules)

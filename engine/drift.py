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
from statistics import NormalDist
from typing import TYPE_CHECKING

import polars as pl

from engine import schema as s
from engine.alerts import ALERT_SCHEMA, AlertRules, StatusCrossingRule, apply_cooldown
from engine.alignment import STATUS_RANK
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
    from engine.alerts import ProcessDriftRule, ScoreDriftRule
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
_STAGE = "_stage"
_ORDER = [_PID, WINDOW_INDEX]
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


def _in_order(expr: pl.Expr) -> pl.Expr:
    """Return ``expr`` per partnership, in row order (frames sorted by :data:`_ORDER`).

    Every detector sorts its rows by partnership and window first, so the
    rows of a partnership are in window order: ``over(order_by=)`` would sort
    each of them again for the same result.
    """
    return expr.over(_PID)


def _first_of_run(condition: pl.Expr) -> pl.Expr:
    """Return where ``condition`` holds but did not at the previous row."""
    before = _in_order(condition.shift(1)).fill_null(False)
    return condition & before.not_()


def _scored(indicators: pl.LazyFrame) -> pl.LazyFrame:
    return indicators.filter(
        pl.col(COMPLETE) & pl.col("alignment_score").is_not_null()
    ).sort(_ORDER)


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
    """Return the Page-Hinkley statistics of the scored rows (sorted by :data:`_ORDER`).

    Adds ``_smoothed``, :data:`SCORE_STATISTICS` (``_n``, ``_csum``, ``_m``,
    ``_mmax``: count, cumulative sums of the smoothed score and of its
    deviations, running maximum of the latter), ``_mean``, ``baseline``,
    ``_ph`` and ``_fire`` (first window of a run of alarms). Context rows
    (``_context``) only serve the rolling median and, the last one
    (``_seed``), carry the statistics of the rows before them.
    """
    raw = pl.col("alignment_score")
    x = pl.col("_smoothed")
    smoothed = _in_order(raw.rolling_median(rule.smoothing_windows, min_samples=1))
    n = _in_order(_seeded(pl.lit(1, pl.Int64), "_n", 0).cum_sum())
    csum = _in_order(_seeded(x, "_csum", 0.0).cum_sum())
    m = _in_order(_seeded(x - pl.col("_mean") + rule.delta, "_m", 0.0).cum_sum())
    mmax = _in_order(_seeded(pl.col("_m"), "_mmax", -math.inf).cum_max())
    baseline = _in_order(pl.col("_mean").shift(1))
    alarm = (pl.col("_ph") > rule.threshold) & (pl.col("_n") >= rule.min_windows)
    return (
        scored.with_columns(smoothed.alias("_smoothed"), n.alias("_n"))
        .with_columns(csum.alias("_csum"))
        .with_columns((pl.col("_csum") / pl.col("_n")).alias("_mean"))
        .with_columns(m.alias("_m"), baseline.alias("baseline"))
        .with_columns(mmax.alias("_mmax"))
        .with_columns((pl.col("_mmax") - pl.col("_m")).alias("_ph"))
        .with_columns(_first_of_run(alarm).alias("_fire"))
    )


def _score_drift_alerts(statistics: pl.LazyFrame) -> pl.LazyFrame:
    """Return the alert rows of :func:`_score_statistics` (context rows left out)."""
    return statistics.filter(pl.col("_fire") & pl.col(_CONTEXT).not_()).select(
        _PID,
        pl.lit("score_drift").alias("signal"),
        pl.col(PERIOD).alias("window"),
        WINDOW_START,
        WINDOW_END,
        pl.col("alignment_score").alias("value"),
        "baseline",
        pl.format(
            "alignment score fell to {} (Page-Hinkley {} over the running mean {})",
            pl.col("_smoothed").round(2),
            pl.col("_ph").round(2),
            pl.col("baseline").round(2),
        ).alias("message"),
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
    settled = _in_order(settled)
    names = {float(v): k for k, v in STATUS_RANK.items()}
    previous = _in_order(pl.col("_settled").shift(1))
    previous_score = _in_order(pl.col("alignment_score").shift(1))
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
            _PID,
            pl.lit("status_crossing").alias("signal"),
            pl.col(PERIOD).alias("window"),
            WINDOW_START,
            WINDOW_END,
            pl.col("alignment_score").alias("value"),
            "baseline",
            pl.format(
                "status fell from {} to {} (alignment score {})",
                pl.col("_previous").replace_strict(names, return_dtype=pl.String),
                pl.col("_settled").replace_strict(names, return_dtype=pl.String),
                pl.col("alignment_score").round(2),
            ).alias("message"),
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
    ).sort(_ORDER)
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

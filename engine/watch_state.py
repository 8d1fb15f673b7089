"""Incremental alert evaluation for ``watch``: what earlier steps computed, kept.

A ``watch`` step used to re-evaluate the whole history of every partnership its
batch touches, and a time-ordered feed touches all of them at every step.
:class:`WatchState` keeps, inside the watching process and per partnership,
the indicator rows of its windows, its process-drift, score-drift and
status-crossing candidates (before the cool-down), the running Page-Hinkley
statistics of its scored windows (so the score detectors continue from the
last kept window instead of re-reading the whole score history), its
windows' directly-follows pair counts, its first and last event times, and
the event where each partner organization first appeared in a partner role.

Why the rows of early windows cannot change. Rolling windows are anchored at
the partnership's first event, and a window's indicators read only events
before its end: the events in it, and earlier ones through the partner
intervals (each organization's first partner-role appearance,
``member_joined`` / ``member_left``), the first resolution of its conflicts and
agreement of its objectives (``resolve_conflict``, ``agree_objectives``), the
plans and earlier starts of its ideas (``agree_action_plan``,
``start_action``), and the actors of the last earlier window with events
(commitment). A window's process-drift verdict reads the directly-follows
pairs of it and of the :func:`engine.drift.count_process_lookback` windows
before it (a pair's source is the previous event, its stage the stage in
force). So when a partnership's new events start at ``t``, every window
ending at or before ``t`` and before its previous last event (so complete
already) keeps its rows, verdicts and directly-follows pair counts. From the
first other window ``k`` on, the step recomputes from a *reduced* frame: the
events from the start of the last window with events before ``k``
(indicators; from the start of window ``k`` for process drift, whose
verdicts read the kept pair counts of the windows before ``k``), plus
*carriers*, the earlier events those read (listed above, a closer only when
an event from the cut on opens its item: that conflict raised, that
objective proposed, that idea started; the events at the first time, which
anchor the windows; for process drift the previous event and the last
stage-defining one). Carriers only fall in earlier windows, which the
indicators do not even compute (``compute_indicators(first_windows=)``);
the pair counts of earlier windows are discarded.

A partnership falls back to its whole history when the state does not know it
(first step, restart, new partnership), when new events precede its first
(the anchor moves), when an organization appears as a partner for the first
time (a partner's earlier membership events only count once it appears), when
an engine event other than an alert arrives (an erasure rewrites earlier
events), or when the first window to recompute is its first.

The state is only a cache: :func:`engine.watching.run_watch_step` drops it
whenever it does not match the checkpoint, so durability stays with the
store's transaction (alerts and checkpoint together).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Final

import polars as pl

from engine import schema as s
from engine.alerts import ALERT_SCHEMA, AlertRules, with_alert_ids
from engine.alignment import IndicatorConfig
from engine.attributes import CONFLICT_ID, attribute_expr, objective_ids_expr
from engine.drift import (
    SCORE_COLUMNS,
    count_process_lookback,
    count_score_context,
    count_stage_edges,
    finish_drift_alerts,
    judge_process_drift,
    measure_process_distance,
    prepare_dfg_events,
    track_score_signals,
)
from engine.indicators import compute_indicators
from engine.partners import explode_partner_organizations
from engine.windows import (
    COMPLETE,
    WINDOW_INDEX,
    build_window_grid,
    rolling_window_range,
    window_anchor,
)

if TYPE_CHECKING:
    from engine.alerts import ProcessDriftRule
    from engine.windows import RollingWindows

__all__ = ["CARRIED_ACTIVITIES", "WatchState", "advance_watch_state"]

# Events whose effect reaches windows after their own (see the module docstring).
CARRIED_ACTIVITIES = frozenset(
    {
        "member_joined",
        "member_left",
        "resolve_conflict",
        "agree_objectives",
        "agree_action_plan",
        "start_action",
    }
)
# A carried event that closes an item (resolves a conflict, agrees an
# objective, plans or starts an idea) only matters to the recomputed windows
# when an event at or after the cut opens the same item (raises that
# conflict, proposes that objective, starts that idea): others are dropped.
_CLOSERS = {
    "resolve_conflict": "conflict",
    "agree_objectives": "objective",
    "agree_action_plan": "idea",
    "start_action": "idea",
}
_OPENERS = {
    "raise_conflict": "conflict",
    "propose_objective": "objective",
    "start_action": "idea",
}
# A step's frames are small (the touched partnerships from their cut on):
# polars' in-memory engine skips the streaming engine's start-up cost per query.
_STEP_ENGINE: Final = "in-memory"
_PID = "partnership_id"
_TS = pl.Datetime("us", "UTC")
_EARLIEST = datetime(1, 1, 1, tzinfo=UTC)
_META = pl.Schema({s.PARTNERSHIP_ID: pl.String(), "_first": _TS, "_last": _TS})
_SEEN = pl.Schema(
    {
        s.PARTNERSHIP_ID: pl.String(),
        s.ORGANIZATION: pl.String(),
        s.TIMESTAMP: _TS,
        s.VERSION: pl.Int64(),
    }
)


@dataclass(slots=True)
class WatchState:
    """What earlier ``watch`` steps computed, per partnership (a cache).

    ``position`` is the checkpoint the state reflects (None: nothing yet);
    the state is only valid for the ``config`` and ``rules`` it was built with.
    """

    position: int | None = None
    config: IndicatorConfig | None = None
    rules: AlertRules | None = None
    meta: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=_META))
    partners: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=_SEEN))
    rows: pl.DataFrame | None = None
    process: pl.DataFrame = field(
        default_factory=lambda: pl.DataFrame(schema=ALERT_SCHEMA)
    )
    edges: pl.DataFrame | None = None
    scores: pl.DataFrame = field(
        default_factory=lambda: pl.DataFrame(schema=SCORE_COLUMNS)
    )
    signals: pl.DataFrame = field(
        default_factory=lambda: pl.DataFrame(schema=ALERT_SCHEMA)
    )

    def is_valid(
        self, *, position: int, config: IndicatorConfig, rules: AlertRules
    ) -> bool:
        """Return whether the state reflects ``position`` under these settings."""
        return (
            self.position == position and self.config == config and self.rules == rules
        )

    def reset(self, *, config: IndicatorConfig, rules: AlertRules) -> None:
        """Forget everything; the next step rebuilds from the store."""
        self.position = None
        self.config, self.rules = config, rules
        self.meta = pl.DataFrame(schema=_META)
        self.partners = pl.DataFrame(schema=_SEEN)
        self.rows = None
        self.process = pl.DataFrame(schema=ALERT_SCHEMA)
        self.edges = None
        self.scores = pl.DataFrame(schema=SCORE_COLUMNS)
        self.signals = pl.DataFrame(schema=ALERT_SCHEMA)


def _us(delta: timedelta) -> int:
    return delta // timedelta(microseconds=1)


def _after(anchor: pl.Expr, windows: int | pl.Expr, step: int) -> pl.Expr:
    return anchor + pl.duration(microseconds=windows * step)


def _partner_appearances(events: pl.DataFrame) -> pl.DataFrame:
    """Return per (partnership, organization) its first partner-role appearance."""
    exploded = explode_partner_organizations(
        events.lazy().select(
            s.PARTNERSHIP_ID,
            s.TIMESTAMP,
            s.VERSION,
            s.ACTIVITY,
            s.PARTICIPANTS,
            s.ORGANIZATION,
        )
    )
    return _first_appearances(exploded.collect(engine=_STEP_ENGINE))


def _first_appearances(rows: pl.DataFrame) -> pl.DataFrame:
    return (
        rows.select(_SEEN.names())
        .cast(_SEEN)
        .sort(s.TIMESTAMP, s.VERSION)
        .unique([s.PARTNERSHIP_ID, s.ORGANIZATION], keep="first")
    )


def _plan_steps(
    state: WatchState,
    *,
    events: pl.DataFrame,
    batch: pl.DataFrame,
    windows: RollingWindows,
) -> pl.DataFrame:
    """Per touched partnership: where its kept rows end and its reduced frames start.

    Columns ``case:concept:name, _full, _k`` (the first window to recompute,
    0 for a full partnership), ``_keep`` (its start, which is also where the
    process-drift frame starts: earlier windows' pair counts are kept) and
    ``_cut`` (indicator frame start); a full partnership has them at the
    earliest time. ``_cut_window`` is the window ``_cut`` starts (0 for a
    full partnership).
    """
    step, width = _us(windows.step), _us(windows.window)
    engine = pl.col(s.ACTIVITY).is_in(sorted(s.ENGINE_ACTIVITIES))
    touched = (
        batch.filter(pl.col(s.ACTIVITY) != "alert_raised")
        .group_by(s.PARTNERSHIP_ID)
        .agg(
            pl.col(s.TIMESTAMP).filter(engine.not_()).min().alias("_t"),
            engine.any().alias("_erased"),
        )
    )
    arriving = _partner_appearances(batch.filter(engine.not_()))
    new_org = arriving.join(
        state.partners, on=[s.PARTNERSHIP_ID, s.ORGANIZATION], how="anti"
    ).select(s.PARTNERSHIP_ID, pl.lit(value=True).alias("_new_org"))
    anchor = window_anchor(pl.col("_first"))
    # The first window holding the new events (or the last one, if earlier).
    first_kept, _ = rolling_window_range(
        windows, first=anchor, timestamp=pl.min_horizontal("_t", "_last")
    )
    plan = (
        touched.join(state.meta, on=s.PARTNERSHIP_ID, how="left")
        .join(new_org.unique(), on=s.PARTNERSHIP_ID, how="left")
        .with_columns(first_kept.alias("_k"), anchor.alias("_anchor"))
        .with_columns(
            _after(pl.col("_anchor"), pl.col("_k") - 1, step)
            .add(pl.duration(microseconds=width))
            .alias("_end_prev")
        )
    )
    # The last earlier window with events: that of the latest event before
    # the end of window k - 1 (commitment compares with its actors).
    latest = (
        events.select(s.PARTNERSHIP_ID, s.TIMESTAMP)
        .join(plan.select(s.PARTNERSHIP_ID, "_end_prev"), on=s.PARTNERSHIP_ID)
        .filter(pl.col(s.TIMESTAMP) < pl.col("_end_prev"))
        .group_by(s.PARTNERSHIP_ID)
        .agg(pl.col(s.TIMESTAMP).max().alias("_latest"))
    )
    last_window = (
        pl.col("_latest") - pl.col("_anchor")
    ).dt.total_microseconds() // step
    full = (
        pl.col("_first").is_null()
        | pl.col("_t").is_null()
        | pl.col("_erased")
        | pl.col("_new_org").fill_null(value=False)
        | (pl.col("_t") < pl.col("_first"))
        | (pl.col("_k") <= 0)
        | pl.col("_latest").is_null()
    )

    cut_window = pl.min_horizontal(pl.col("_k") - 1, last_window)

    def unless_full(value: pl.Expr) -> pl.Expr:
        return pl.when(pl.col("_full")).then(pl.lit(_EARLIEST, _TS)).otherwise(value)

    return (
        plan.join(latest, on=s.PARTNERSHIP_ID, how="left")
        .with_columns(full.fill_null(value=True).alias("_full"))
        .select(
            s.PARTNERSHIP_ID,
            "_full",
            "_first",
            pl.when(pl.col("_full")).then(0).otherwise(pl.col("_k")).alias("_k"),
            unless_full(_after(pl.col("_anchor"), pl.col("_k"), step)).alias("_keep"),
            unless_full(_after(pl.col("_anchor"), cut_window, step)).alias("_cut"),
            pl.when(pl.col("_full"))
            .then(0)
            .otherwise(cut_window.clip(lower_bound=0))
            .cast(pl.Int64)
            .alias("_cut_window"),
        )
    )


def _first_windows(plan: pl.DataFrame) -> pl.DataFrame:
    """Return per planned partnership the window its reduced indicator frame starts.

    That of ``_cut`` (0 for a full partnership): windows before it only hold
    carriers, so they are not computed at all.
    """
    return plan.select(s.PARTNERSHIP_ID, pl.col("_cut_window").alias("window_index"))


def _slim_events(events: pl.DataFrame, plan: pl.DataFrame) -> pl.DataFrame:
    """Return the few columns the frame selection reads, in ``events``' row order."""
    return events.select(
        s.PARTNERSHIP_ID, s.TIMESTAMP, s.VERSION, s.ACTIVITY, s.PHASE
    ).join(
        plan.select(s.PARTNERSHIP_ID, "_first", "_cut", "_keep"),
        on=s.PARTNERSHIP_ID,
        how="left",
        maintain_order="left",
    )


def _item_carriers(events: pl.DataFrame, plan: pl.DataFrame) -> pl.DataFrame:
    """Return the closers before the cut whose item is opened from the cut on.

    Rows ``case:concept:name, version`` (see :data:`_CLOSERS`): an idea's
    plans and earlier starts decide which of its starts is the first after
    its plan, a conflict's or objective's closers whether it is closed by a
    window's end; an item no later event opens reaches no recomputed window.
    """
    before = pl.col(s.TIMESTAMP) < pl.col("_cut")
    activity = pl.col(s.ACTIVITY)
    rows = (
        events.lazy()
        .filter(activity.is_in(sorted(_CLOSERS.keys() | _OPENERS.keys())))
        .select(s.PARTNERSHIP_ID, s.VERSION, s.TIMESTAMP, s.ACTIVITY, s.ATTRIBUTES)
        .join(plan.lazy().select(s.PARTNERSHIP_ID, "_cut"), on=s.PARTNERSHIP_ID)
        # Only closers before the cut and openers from it on are parsed.
        .filter(
            pl.when(before)
            .then(activity.is_in(sorted(_CLOSERS)))
            .otherwise(activity.is_in(sorted(_OPENERS)))
        )
        .with_columns(before.alias("_before"))
    )
    items = {
        "conflict": pl.concat_list(attribute_expr(CONFLICT_ID)),
        "objective": objective_ids_expr(),
        "idea": pl.concat_list(attribute_expr("idea_id")),
    }
    kind = pl.when(pl.col("_before"))
    kind_of = {
        k: kind.then(
            activity.is_in([a for a, v in _CLOSERS.items() if v == k])
        ).otherwise(activity.is_in([a for a, v in _OPENERS.items() if v == k]))
        for k in items
    }
    keyed = (
        pl.concat(
            [
                rows.filter(kind_of[k]).select(
                    s.PARTNERSHIP_ID,
                    s.VERSION,
                    "_before",
                    pl.lit(k).alias("_kind"),
                    item.alias("_item"),
                )
                for k, item in items.items()
            ]
        )
        .explode("_item")
        .drop_nulls("_item")
    )
    key = [s.PARTNERSHIP_ID, "_kind", "_item"]
    opened = keyed.filter(pl.col("_before").not_()).select(key).unique()
    return (
        keyed.filter("_before")
        .join(opened, on=key, how="semi")
        .select(s.PARTNERSHIP_ID, s.VERSION)
        .unique()
        .collect(engine=_STEP_ENGINE)
    )


def _flag_rows(slim: pl.DataFrame, marked: pl.DataFrame, read: pl.Expr) -> pl.Series:
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


def _indicator_rows(
    state: WatchState, slim: pl.DataFrame, carriers: pl.DataFrame
) -> pl.Series:
    """Return which events the recomputed windows' indicators read (and carriers).

    Those from the cut on, those at the first time (the anchor), the
    membership events, each partner organization's first appearance and the
    closers of items opened from the cut on (:func:`_item_carriers`).
    """
    seen = pl.concat([state.partners.select(s.PARTNERSHIP_ID, s.VERSION), carriers])
    return _flag_rows(
        slim,
        seen,
        (pl.col(s.TIMESTAMP) >= pl.col("_cut"))
        | (pl.col(s.TIMESTAMP) <= pl.col("_first"))
        | pl.col(s.ACTIVITY).is_in(["member_joined", "member_left"]),
    )


def _stage_defined() -> pl.Expr:
    """Return the stage an event defines (its phase, else its activity's; null: none)."""
    staged = {a: st for a, st in s.ACTIVITY_STAGE.items() if st is not None}
    return pl.coalesce(
        pl.col(s.PHASE),
        pl.col(s.ACTIVITY).replace_strict(staged, default=None, return_dtype=pl.String),
    )


def _plan_process_drift(plan: pl.DataFrame, slim: pl.DataFrame) -> pl.DataFrame:
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
        .then(pl.lit(_EARLIEST, _TS))
        .otherwise(pl.col("_keep"))
        .alias("_keep"),
    )


def _process_rows(slim: pl.DataFrame) -> pl.Series:
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
        .collect(engine=_STEP_ENGINE)
    )
    return _flag_rows(
        slim,
        carriers,
        (pl.col(s.TIMESTAMP) >= pl.col("_keep"))
        | (pl.col(s.TIMESTAMP) <= pl.col("_first")),
    )


def _merge(
    cached: pl.DataFrame, fresh: pl.DataFrame, keep: pl.DataFrame
) -> pl.DataFrame:
    """Return cached rows before each partnership's ``_keep`` plus fresh rows from it on."""
    old = cached.join(keep, on=_PID, how="left").filter(
        pl.col("_keep").is_null() | (pl.col("window_start") < pl.col("_keep"))
    )
    new = fresh.join(keep, on=_PID).filter(pl.col("window_start") >= pl.col("_keep"))
    return pl.concat([old.drop("_keep"), new.drop("_keep")], how="vertical_relaxed")


def _advance_process_drift(
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
        prepare_dfg_events(events, windows=windows).collect(engine=_STEP_ENGINE).lazy()
    )  # read twice
    fresh = (
        count_stage_edges(dfg, windows=windows)
        .join(first, on=s.PARTNERSHIP_ID)
        .filter(index >= pl.col("_k"))
        .drop("_k")
        .collect(engine=_STEP_ENGINE)
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
        .collect(engine=_STEP_ENGINE)
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
        engine=_STEP_ENGINE
    )
    keep = plan.select(pl.col(s.PARTNERSHIP_ID).alias(_PID), "_keep")
    state.process = _merge(state.process, candidates.cast(ALERT_SCHEMA), keep)
    state.edges = pl.concat(
        [
            kept.join(first, on=s.PARTNERSHIP_ID, how="left")
            .filter(pl.col("_k").is_null() | (index < pl.col("_k")))
            .drop("_k")
            .collect(engine=_STEP_ENGINE),
            fresh,
        ]
    )


def _advance_score_signals(
    state: WatchState, *, fresh: pl.DataFrame, keep: pl.DataFrame, rules: AlertRules
) -> None:
    """Judge the scored windows from each ``_keep`` on; keep statistics and candidates.

    The score-drift and status-crossing verdicts of earlier windows cannot
    change; later ones continue from the statistics of the last
    :func:`engine.drift.count_score_context` scored windows before ``_keep``
    (:func:`engine.drift.track_score_signals`).
    """
    before = pl.col("window_start") < pl.col("_keep")
    context = (
        state.scores.join(keep, on=_PID)
        .filter(before)
        .filter(
            pl.col(WINDOW_INDEX).rank("ordinal", descending=True).over(_PID)
            <= count_score_context(rules)
        )
        .drop("_keep")
    )
    recomputed = fresh.join(keep, on=_PID).filter(before.not_()).drop("_keep")
    scores, candidates = track_score_signals(context, recomputed, rules=rules)
    state.scores = _merge(state.scores, scores, keep)
    state.signals = _merge(state.signals, candidates, keep)


def _update_partners(
    state: WatchState, events: pl.DataFrame, batch: pl.DataFrame, plan: pl.DataFrame
) -> pl.DataFrame:
    full = plan.filter(pl.col("_full")).select(s.PARTNERSHIP_ID)
    rebuilt = _partner_appearances(events.join(full, on=s.PARTNERSHIP_ID))
    kept = state.partners.join(full, on=s.PARTNERSHIP_ID, how="anti")
    engine = pl.col(s.ACTIVITY).is_in(sorted(s.ENGINE_ACTIVITIES))
    arriving = _partner_appearances(
        batch.filter(engine.not_()).join(full, on=s.PARTNERSHIP_ID, how="anti")
    )
    return _first_appearances(pl.concat([kept, rebuilt, arriving]))


def advance_watch_state(
    state: WatchState,
    *,
    events: pl.DataFrame,
    batch: pl.DataFrame,
    windows: RollingWindows,
    rules: AlertRules,
) -> pl.DataFrame:
    """Bring ``state`` up to ``batch``; return the touched partnerships' alerts.

    Parameters
    ----------
    state
        The cache of earlier steps (``position`` is left to the caller).
    events
        The partners' events (no engine events) of the partnerships ``batch``
        touches, up to the batch's last position.
    batch
        The events of this step (any kind).
    windows, rules
        The rolling windows and alert rules (the indicator configuration is
        ``state.config``).

    Returns
    -------
    pl.DataFrame
        Every alert of the touched partnerships, with ids (as
        :func:`engine.watching.evaluate_alerts` on their whole history).
    """
    config = state.config or IndicatorConfig()
    plan = _plan_steps(state, events=events, batch=batch, windows=windows)
    keep = plan.select(pl.col(s.PARTNERSHIP_ID).alias(_PID), "_keep")
    slim = _slim_events(events, plan)
    fresh = compute_indicators(
        events.filter(_indicator_rows(state, slim, _item_carriers(events, plan))),
        windows=windows,
        config=config,
        first_windows=_first_windows(plan),
    )
    state.rows = fresh if state.rows is None else _merge(state.rows, fresh, keep)
    _advance_score_signals(state, fresh=fresh, keep=keep, rules=rules)
    if rules.process_drift.enabled:
        plan_dfg = _plan_process_drift(plan, slim)
        slim_dfg = slim.drop("_keep").join(
            plan_dfg.select(s.PARTNERSHIP_ID, "_keep"),
            on=s.PARTNERSHIP_ID,
            how="left",
            maintain_order="left",
        )
        _advance_process_drift(
            state,
            # Lazy: only the few columns process drift reads are filtered.
            events=events.lazy().filter(pl.lit(_process_rows(slim_dfg))),
            plan=plan_dfg,
            windows=windows,
            rule=rules.process_drift,
        )
    state.partners = _update_partners(state, events, batch, plan)
    spans = events.group_by(s.PARTNERSHIP_ID).agg(
        pl.col(s.TIMESTAMP).min().alias("_first"),
        pl.col(s.TIMESTAMP).max().alias("_last"),
    )
    state.meta = pl.concat(
        [state.meta.join(spans, on=s.PARTNERSHIP_ID, how="anti"), spans]
    )
    touched = keep.select(_PID)
    signals = pl.concat([state.signals, state.process]).join(
        touched, on=_PID, how="semi"
    )
    return with_alert_ids(finish_drift_alerts(signals.lazy(), rules=rules))

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
from typing import TYPE_CHECKING

import polars as pl

from engine import schema as s
from engine.alerts import ALERT_SCHEMA, AlertRules, with_alert_ids
from engine.alignment import IndicatorConfig
from engine.drift import (
    SCORE_COLUMNS,
    count_score_context,
    finish_drift_alerts,
    track_score_signals,
)
from engine.indicators import compute_indicators
from engine.watch_plan import (
    SEEN_SCHEMA,
    first_appearances,
    first_windows,
    indicator_rows,
    item_carriers,
    partner_appearances,
    plan_steps,
    slim_events,
)
from engine.watch_process import (
    PID,
    TS,
    advance_process_drift,
    merge_kept,
    plan_process_drift,
    process_rows,
)
from engine.windows import (
    WINDOW_INDEX,
)

if TYPE_CHECKING:
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
_META = pl.Schema({s.PARTNERSHIP_ID: pl.String(), "_first": TS, "_last": TS})


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
    partners: pl.DataFrame = field(
        default_factory=lambda: pl.DataFrame(schema=SEEN_SCHEMA)
    )
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
        self.partners = pl.DataFrame(schema=SEEN_SCHEMA)
        self.rows = None
        self.process = pl.DataFrame(schema=ALERT_SCHEMA)
        self.edges = None
        self.scores = pl.DataFrame(schema=SCORE_COLUMNS)
        self.signals = pl.DataFrame(schema=ALERT_SCHEMA)


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
        state.scores.join(keep, on=PID)
        .filter(before)
        .filter(
            pl.col(WINDOW_INDEX).rank("ordinal", descending=True).over(PID)
            <= count_score_context(rules)
        )
        .drop("_keep")
    )
    recomputed = fresh.join(keep, on=PID).filter(before.not_()).drop("_keep")
    scores, candidates = track_score_signals(context, recomputed, rules=rules)
    state.scores = merge_kept(state.scores, scores, keep)
    state.signals = merge_kept(state.signals, candidates, keep)


def _update_partners(
    state: WatchState, events: pl.DataFrame, batch: pl.DataFrame, plan: pl.DataFrame
) -> pl.DataFrame:
    full = plan.filter(pl.col("_full")).select(s.PARTNERSHIP_ID)
    rebuilt = partner_appearances(events.join(full, on=s.PARTNERSHIP_ID))
    kept = state.partners.join(full, on=s.PARTNERSHIP_ID, how="anti")
    engine = pl.col(s.ACTIVITY).is_in(sorted(s.ENGINE_ACTIVITIES))
    arriving = partner_appearances(
        batch.filter(engine.not_()).join(full, on=s.PARTNERSHIP_ID, how="anti")
    )
    return first_appearances(pl.concat([kept, rebuilt, arriving]))


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
    plan = plan_steps(state, events=events, batch=batch, windows=windows)
    keep = plan.select(pl.col(s.PARTNERSHIP_ID).alias(PID), "_keep")
    slim = slim_events(events, plan)
    fresh = compute_indicators(
        events.filter(indicator_rows(state, slim, item_carriers(events, plan))),
        windows=windows,
        config=config,
        first_windows=first_windows(plan),
    )
    state.rows = fresh if state.rows is None else merge_kept(state.rows, fresh, keep)
    _advance_score_signals(state, fresh=fresh, keep=keep, rules=rules)
    if rules.process_drift.enabled:
        plan_dfg = plan_process_drift(plan, slim)
        slim_dfg = slim.drop("_keep").join(
            plan_dfg.select(s.PARTNERSHIP_ID, "_keep"),
            on=s.PARTNERSHIP_ID,
            how="left",
            maintain_order="left",
        )
        advance_process_drift(
            state,
            # Lazy: only the few columns process drift reads are filtered.
            events=events.lazy().filter(pl.lit(process_rows(slim_dfg))),
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
    touched = keep.select(PID)
    signals = pl.concat([state.signals, state.process]).join(
        touched, on=PID, how="semi"
    )
    return with_alert_ids(finish_drift_alerts(signals.lazy(), rules=rules))

"""Evaluate alerts over a store: once over everything, or incrementally (``watch``).

Both paths compute the same alerts: a window is judged only once complete, the
cool-down depends only on the partnership's own history, and alert ids are
derived from (signal, partnership, window), so re-evaluating a partnership
yields the same ids and only the new ones are appended.

The incremental step reads the events after the ``watch`` checkpoint,
re-evaluates the partnerships they touch, and appends the new ``alert_raised``
events **and** the advanced checkpoint in one transaction
(:meth:`engine.ports.EventStore.append_frame`), so a crash either keeps both or
neither and a restart resumes exactly where it stopped. Without a
:class:`engine.watch_state.WatchState` a step re-evaluates the touched
partnerships' whole history; with one (kept by the watching process between
steps) it recomputes only the windows the new events can change, and gives
the same alerts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import polars as pl

from engine import schema as s
from engine.alerts import ALERT_SCHEMA, AlertRules, build_alert_events, with_alert_ids
from engine.alignment import IndicatorConfig
from engine.drift import detect_drift
from engine.indicators import compute_indicators
from engine.ports import Checkpoint
from engine.selection import drop_engine_events
from engine.watch_state import WatchState, advance_watch_state

if TYPE_CHECKING:
    from engine.ports import EventStore

__all__ = [
    "ALERT_ACTIVITY",
    "WATCH_CHECKPOINT",
    "WatchState",
    "WatchStep",
    "evaluate_alerts",
    "raise_new_alerts",
    "run_watch_step",
]

ALERT_ACTIVITY = "alert_raised"
WATCH_CHECKPOINT = "watch"
_ID_SCHEMA = pl.Schema({"event_id": pl.String()})


@dataclass(frozen=True, slots=True)
class WatchStep:
    """What one incremental step did."""

    start_position: int
    end_position: int
    events_read: int
    alerts: pl.DataFrame


def evaluate_alerts(
    frame: pl.DataFrame,
    *,
    config: IndicatorConfig | None = None,
    rules: AlertRules | None = None,
) -> pl.DataFrame:
    """Return every alert of the partnerships in ``frame``, with their event ids.

    Uses the rolling windows of ``config``; the columns are ``event_id`` then
    :data:`engine.alerts.ALERT_SCHEMA`.
    """
    config = config or IndicatorConfig()
    rules = rules or AlertRules()
    spec = config.windows.to_spec()
    if frame.is_empty():
        return with_alert_ids(pl.DataFrame(schema=ALERT_SCHEMA))
    indicators = compute_indicators(frame, windows=spec, config=config)
    return with_alert_ids(
        detect_drift(indicators, frame=frame, windows=spec, rules=rules)
    )


def _existing_alert_ids(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.filter(pl.col(s.ACTIVITY) == ALERT_ACTIVITY).select(s.EVENT_ID)


def _drop_known(alerts: pl.DataFrame, frame: pl.DataFrame) -> pl.DataFrame:
    if frame.is_empty():
        return alerts
    known = _existing_alert_ids(frame).cast(_ID_SCHEMA)
    return alerts.join(known, on="event_id", how="anti", maintain_order="left")


def raise_new_alerts(
    store: EventStore,
    *,
    config: IndicatorConfig | None = None,
    rules: AlertRules | None = None,
) -> pl.DataFrame:
    """Evaluate the whole store once; append and return the alerts not yet raised."""
    frame = store.to_frame()
    fresh = _drop_known(evaluate_alerts(frame, config=config, rules=rules), frame)
    if not fresh.is_empty():
        store.append_frame(build_alert_events(fresh))
    return fresh


def _evaluate_step(
    frame: pl.DataFrame,
    batch: pl.DataFrame,
    *,
    state: WatchState | None,
    end: int,
    config: IndicatorConfig | None,
    rules: AlertRules | None,
) -> pl.DataFrame:
    """Return every alert of the partnerships in ``frame`` (whole or incremental)."""
    if state is None or frame.is_empty():
        return evaluate_alerts(frame, config=config, rules=rules)
    events = drop_engine_events(frame.filter(pl.col(s.POSITION) <= end))
    return advance_watch_state(
        state,
        events=events,
        batch=batch,
        windows=(config or IndicatorConfig()).windows.to_spec(),
        rules=rules or AlertRules(),
    )


def run_watch_step(
    store: EventStore,
    *,
    config: IndicatorConfig | None = None,
    rules: AlertRules | None = None,
    limit: int | None = None,
    checkpoint: str = WATCH_CHECKPOINT,
    state: WatchState | None = None,
) -> WatchStep:
    """Process the events after the checkpoint; append new alerts with the checkpoint.

    Parameters
    ----------
    store
        The event store.
    config, rules
        Indicator configuration and alert rules.
    limit
        Read at most this many new events in this step (the rest is left for
        the next one).
    checkpoint
        The checkpoint name holding the last processed position.
    state
        The watcher's cache between steps (:class:`engine.watch_state.WatchState`);
        None re-evaluates the touched partnerships' whole history. A state
        that does not match the checkpoint or the settings is rebuilt.

    Returns
    -------
    WatchStep
        Positions processed and the alerts raised in this step.
    """
    start = store.read_checkpoint(checkpoint)
    batch = store.read_all(from_position=start + 1, limit=limit)
    if batch.is_empty():
        return WatchStep(start, start, 0, evaluate_alerts(pl.DataFrame()))
    end = int(batch[s.POSITION].max())  # type: ignore[arg-type]
    touched = (
        batch.filter(pl.col(s.ACTIVITY) != ALERT_ACTIVITY)[s.PARTNERSHIP_ID]
        .unique()
        .sort()
        .to_list()
    )
    frame = store.to_frame(partnerships=touched) if touched else pl.DataFrame()
    if state is not None:
        config, rules = config or IndicatorConfig(), rules or AlertRules()
        if not state.is_valid(position=start, config=config, rules=rules):
            state.reset(config=config, rules=rules)
        state.position = None  # until the step is durable
    alerts = _evaluate_step(
        frame, batch, state=state, end=end, config=config, rules=rules
    )
    fresh = _drop_known(alerts, frame)
    store.append_frame(
        build_alert_events(fresh), checkpoint=Checkpoint(checkpoint, end)
    )
    if state is not None:
        state.position = end
    return WatchStep(start, end, batch.height, fresh)

"""The directly-follows pair counts a ``watch`` state keeps equal a full count.

A pair's stage is the stage in force at its target, or, before a
partnership's first stage-defining event, that event's stage: a partnership
whose events so far are all any-stage gets its earlier pairs' stage only
when its first stage-defining event arrives, and the kept counts must follow.
"""

from __future__ import annotations

import polars as pl
from polars.testing import assert_frame_equal

from engine.alerts import AlertRules
from engine.drift import count_stage_edges, prepare_dfg_events
from engine.events import new_events_to_frame
from engine.memory_store import MemoryEventStore
from engine.watch_state import WatchState
from engine.watching import evaluate_alerts, run_watch_step
from engine.windows import RollingWindows
from tests.conftest import TickingClock, make_event

ANY_STAGE = ("share_information", "feedback_meeting", "raise_conflict")
EXECUTION = ("start_action", "report_progress", "feedback_meeting")
WHO = (("a", "A", "manager"), ("b", "B", "manager"))


def _log() -> pl.DataFrame:
    events = [
        make_event(
            i + 1,
            "p",
            (ANY_STAGE if day < 200 else EXECUTION)[i % 3],
            day=day,
            participants=WHO,
        )
        for i, day in enumerate(range(0, 400, 2))
    ]
    return new_events_to_frame(events)


def _counts(frame: pl.DataFrame, windows: RollingWindows) -> pl.DataFrame:
    events = prepare_dfg_events(frame.lazy(), windows=windows)
    key = ["case:concept:name", "window_index", "_stage", "_source", "_target"]
    return (
        count_stage_edges(events, windows=windows)
        .collect()
        .with_columns(pl.col(c).cast(pl.String) for c in key[:1] + key[2:])
        .sort(key)
    )


def test_kept_pair_counts_follow_the_first_stage_defining_event() -> None:
    store = MemoryEventStore(clock=TickingClock())
    state = WatchState()
    log = _log()
    for batch in log.iter_slices(25):
        store.append_frame(batch)
        run_watch_step(store, state=state)
    assert state.config is not None
    windows = state.config.windows.to_spec()
    assert isinstance(windows, RollingWindows)
    assert state.edges is not None
    kept = state.edges.with_columns(
        pl.col(c).cast(pl.String)
        for c in ("case:concept:name", "_stage", "_source", "_target")
    ).sort(["case:concept:name", "window_index", "_stage", "_source", "_target"])
    whole = _counts(store.to_frame(), windows)
    assert whole["_stage"].unique().to_list() == ["execution"]
    assert_frame_equal(kept, whole)
    full = evaluate_alerts(store.to_frame(), rules=AlertRules())
    raised = store.to_frame().filter(pl.col("concept:name") == "alert_raised")
    assert raised.height == full.height

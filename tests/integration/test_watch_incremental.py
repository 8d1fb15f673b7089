from __future__ import annotations

from datetime import UTC, datetime

import polars as pl

from adapters.simulation import simulate_partnerships
from engine.memory_store import MemoryEventStore
from engine.watching import evaluate_alerts, raise_new_alerts, run_watch_step
from tests.conftest import TickingClock


def _log():
    sim = simulate_partnerships(
        partnerships=6,
        mix={"healthy": 0.5, "drifting": 0.5},
        seed=5,
        start=datetime(2018, 1, 1, tzinfo=UTC),
    )
    return sim.events.sort("time:timestamp")


def _alert_ids(store):
    frame = store.to_frame()
    return frame.filter(pl.col("concept:name") == "alert_raised")["event_id"].to_list()


def test_incremental_steps_raise_exactly_the_alerts_of_one_full_evaluation():
    log = _log()
    expected = set(evaluate_alerts(log)["event_id"].to_list())
    assert expected
    store = MemoryEventStore(clock=TickingClock())
    for chunk in log.iter_slices(n_rows=500):
        store.append_frame(chunk)
        step = run_watch_step(store, limit=300)
        assert step.end_position == store.read_checkpoint("watch")
    while run_watch_step(store).events_read:
        pass
    ids = _alert_ids(store)
    assert len(ids) == len(set(ids))
    assert set(ids) == expected


def test_a_step_with_nothing_new_changes_nothing():
    store = MemoryEventStore(clock=TickingClock())
    store.append_frame(_log())
    run_watch_step(store)
    head = store.head_position()
    while (step := run_watch_step(store)).events_read:
        pass
    assert step.alerts.is_empty()
    assert store.read_checkpoint("watch") == store.head_position() >= head


def test_raise_new_alerts_twice_appends_once():
    store = MemoryEventStore(clock=TickingClock())
    store.append_frame(_log())
    first = raise_new_alerts(store)
    assert first.height > 0
    assert raise_new_alerts(store).is_empty()
    assert sorted(_alert_ids(store)) == sorted(first["event_id"].to_list())


def test_evaluate_alerts_on_an_empty_frame():
    assert evaluate_alerts(pl.DataFrame()).is_empty()

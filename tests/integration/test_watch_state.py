"""The incremental ``watch`` (a :class:`WatchState` kept between steps) raises, at
every step, exactly the alerts one full evaluation of the store would raise.

Randomized: simulated partnerships fed in batches of random sizes, some events
arriving late (out of time order, some before their partnership's first
event), partnerships appearing mid-way, organizations first appearing late,
engine events interleaved, and the state dropped (a restart) at random steps.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from adapters.simulation import simulate_partnerships
from engine.alerts import AlertRules
from engine.drift import detect_process_drift
from engine.events import NewEvent, new_events_to_frame
from engine.indicators import compute_indicators
from engine.memory_store import MemoryEventStore
from engine.watch_state import WatchState
from engine.watching import evaluate_alerts, run_watch_step
from engine.windows import RollingWindows
from tests.conftest import TickingClock, make_event

TS = "time:timestamp"


def _log(seed: int) -> pl.DataFrame:
    early = simulate_partnerships(
        partnerships=4,
        mix={"healthy": 0.5, "drifting": 0.5},
        seed=seed,
        start=datetime(2018, 1, 1, tzinfo=UTC),
    ).events
    late = simulate_partnerships(
        partnerships=2, seed=seed + 100, start=datetime(2019, 3, 1, tzinfo=UTC)
    ).events
    return pl.concat([early, late]).sort(TS)


def _late_organization(log: pl.DataFrame, rng: random.Random) -> pl.DataFrame:
    """Events of an organization that first appears as a partner late in the log.

    Its ``member_joined`` (listed with a facilitator role only) comes first, so
    it only counts once the organization appears in a partner role.
    """
    pid = rng.choice(log["case:concept:name"].unique().sort().to_list())
    own = log.filter(pl.col("case:concept:name") == pid)
    first, last = own[TS].min(), own[TS].max()
    assert isinstance(first, datetime)
    assert isinstance(last, datetime)
    join_at = first + (last - first) / 4
    appear_at = first + (last - first) * 3 / 4

    def event(n: int, activity: str, at: datetime, role: str) -> NewEvent:
        person = (("newcomer", "NEWORG", role),)
        return make_event(
            10_000 + n,
            pid,
            activity,
            timestamp=at,
            organization="NEWORG",
            participants=person,
        )

    return new_events_to_frame(
        [
            event(1, "member_joined", join_at, "facilitator"),
            event(2, "negotiate_terms", appear_at, "top_manager"),
            event(3, "feedback_meeting", appear_at + timedelta(days=40), "top_manager"),
        ]
    )


def _feed(log: pl.DataFrame, rng: random.Random) -> list[pl.DataFrame]:
    """Split ``log`` into batches; some events are held back and arrive late."""
    arrival = [
        i + (rng.randint(5, 400) if rng.random() < 0.08 else 0)
        for i in range(log.height)
    ]
    shuffled = log.with_columns(pl.Series("_arrival", arrival)).sort(
        "_arrival", maintain_order=True
    )
    shuffled = shuffled.drop("_arrival")
    batches, at = [], 0
    while at < shuffled.height:
        size = rng.choice([1, 4, 12, 30, 60])
        batches.append(shuffled.slice(at, size))
        at += size
    return batches


def _alert_ids(store: MemoryEventStore) -> pl.DataFrame:
    return (
        store.to_frame()
        .filter(pl.col("concept:name") == "alert_raised")
        .select("event_id")
    )


def _assert_state_is_exact(state: WatchState, prefix: pl.DataFrame) -> None:
    """The cached indicator rows and process-drift verdicts of complete windows
    equal those of a full computation (stronger than equal alerts)."""
    spec = RollingWindows()
    assert state.rows is not None
    events = prefix.filter(pl.col("concept:name") != "alert_raised")
    full = compute_indicators(events, windows=spec).filter(pl.col("complete"))
    known = state.rows.select("partnership_id").unique()
    cached = state.rows.filter(pl.col("complete"))
    assert_frame_equal(
        cached.sort("partnership_id", "window_index"),
        full.join(known, on="partnership_id", how="semi").sort(
            "partnership_id", "window_index"
        ),
    )
    process = detect_process_drift(
        events.lazy(), windows=spec, rule=AlertRules().process_drift
    ).collect()
    assert_frame_equal(
        state.process.sort("partnership_id", "window_start"),
        process.join(known, on="partnership_id", how="semi")
        .cast(state.process.schema)
        .sort("partnership_id", "window_start"),
    )


def _expected(store: MemoryEventStore, end: int, known: pl.DataFrame) -> pl.DataFrame:
    prefix = store.to_frame().filter(pl.col("position") <= end)
    return evaluate_alerts(prefix).join(known, on="event_id", how="anti")


@pytest.mark.parametrize(
    "seed",
    [
        1,
        pytest.param(2, marks=pytest.mark.slow),
        pytest.param(3, marks=pytest.mark.slow),
    ],
)
def test_incremental_steps_equal_a_full_evaluation_at_every_step(seed):
    rng = random.Random(seed)
    log = _log(seed)
    extra = _late_organization(log, rng)
    batches = _feed(log, rng)
    batches.insert(len(batches) * 2 // 3, extra)
    store = MemoryEventStore(clock=TickingClock())
    state = WatchState()
    raised = steps = 0
    for batch in batches:
        store.append_frame(batch)
        steps += 1
        if rng.random() < 0.05:
            state = WatchState()  # a restart: the cache is rebuilt from the store
        known = _alert_ids(store)
        limit = rng.choice([None, None, 60])
        step = run_watch_step(store, state=state, limit=limit)
        expected = _expected(store, step.end_position, known)
        got = step.alerts.sort("event_id")
        assert_frame_equal(got, expected.sort("event_id"), check_exact=True)
        prefix = store.to_frame().filter(pl.col("position") <= step.end_position)
        _assert_state_is_exact(state, prefix)
        raised += got.height
    while run_watch_step(store, state=state).events_read:
        pass
    assert raised > 0, steps
    ids = _alert_ids(store)["event_id"]
    assert ids.is_unique().all()
    # Late events may change a verdict already raised; every alert of the
    # final log has been raised.
    assert set(evaluate_alerts(store.to_frame())["event_id"]) <= set(ids)
    assert state.position == store.read_checkpoint("watch")


def test_a_late_event_before_the_first_one_moves_the_windows():
    log = _log(7)
    pid = log["case:concept:name"][0]
    store = MemoryEventStore(clock=TickingClock())
    state = WatchState()
    store.append_frame(log)
    run_watch_step(store, state=state)
    first = log.filter(pl.col("case:concept:name") == pid)[TS].min()
    assert isinstance(first, datetime)
    early = make_event(
        20_000,
        pid,
        "initiate_partnership",
        timestamp=first - timedelta(days=45),
        organization="EARLY",
    )
    store.append_frame(new_events_to_frame([early]))
    known = _alert_ids(store)
    step = run_watch_step(store, state=state)
    expected = _expected(store, step.end_position, known)
    assert_frame_equal(step.alerts.sort("event_id"), expected.sort("event_id"))


def test_the_state_follows_the_rules_it_was_built_with():
    log = _log(8)
    store = MemoryEventStore(clock=TickingClock())
    state = WatchState()
    store.append_frame(log.head(300))
    run_watch_step(store, state=state)
    store.append_frame(log.slice(300))
    rules = AlertRules.model_validate({"process_drift": {"enabled": False}})
    known = _alert_ids(store)
    step = run_watch_step(store, state=state, rules=rules)
    prefix = store.to_frame().filter(pl.col("position") <= step.end_position)
    expected = evaluate_alerts(prefix, rules=rules).join(
        known, on="event_id", how="anti"
    )
    assert state.rules == rules
    assert_frame_equal(step.alerts.sort("event_id"), expected.sort("event_id"))

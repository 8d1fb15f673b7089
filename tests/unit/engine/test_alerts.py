from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from engine.alerts import (
    ALERT_SCHEMA,
    AlertRules,
    apply_cooldown,
    build_alert_events,
    derive_alert_id,
    with_alert_ids,
)
from engine.errors import ConfigError
from engine.memory_store import MemoryEventStore
from engine.validation import find_invalid_rows, normalize_input_frame
from tests.conftest import TickingClock

T0 = datetime(2020, 1, 1, tzinfo=UTC)


def alerts(*rows):
    return pl.DataFrame(
        [
            {
                "partnership_id": pid,
                "signal": signal,
                "window": (T0 + timedelta(days=day)).date().isoformat(),
                "window_start": T0 + timedelta(days=day),
                "window_end": T0 + timedelta(days=day + 90),
                "value": 0.25,
                "baseline": None,
                "message": "m",
            }
            for pid, signal, day in rows
        ],
        schema=ALERT_SCHEMA,
    )


def test_alert_ids_are_deterministic_and_distinct():
    a = derive_alert_id("score_drift", "p", "2020-01-01")
    assert a == derive_alert_id("score_drift", "p", "2020-01-01")
    others = {
        derive_alert_id("status_crossing", "p", "2020-01-01"),
        derive_alert_id("score_drift", "q", "2020-01-01"),
        derive_alert_id("score_drift", "p", "2020-01-31"),
    }
    assert a not in others
    assert len(others) == 3
    framed = with_alert_ids(alerts(("p", "score_drift", 0), ("p", "score_drift", 30)))
    assert framed.columns[0] == "event_id"
    assert framed["event_id"].n_unique() == 2
    assert (
        with_alert_ids(alerts(("p", "score_drift", 0)))["event_id"].item()
        == framed["event_id"][0]
    )


def test_cooldown_counts_from_the_previous_candidate():
    rows = alerts(
        ("p", "score_drift", 0),
        ("p", "score_drift", 30),
        ("p", "score_drift", 120),
        ("p", "status_crossing", 30),
        ("q", "score_drift", 30),
    )
    kept = apply_cooldown(rows.lazy(), rules=AlertRules()).collect()
    got = sorted(
        zip(kept["partnership_id"], kept["signal"], kept["window"], strict=True)
    )
    assert got == [
        ("p", "score_drift", "2020-01-01"),
        ("p", "score_drift", "2020-04-30"),
        ("p", "status_crossing", "2020-01-31"),
        ("q", "score_drift", "2020-01-31"),
    ]


def test_alert_events_are_valid_and_idempotent_in_the_store():
    events = build_alert_events(
        with_alert_ids(alerts(("p", "score_drift", 0), ("q", "process_drift", 30)))
    )
    normalized = normalize_input_frame(events)
    assert find_invalid_rows(normalized).is_empty()
    assert json.loads(events["attributes"][0]) == {
        "baseline": None,
        "message": "m",
        "signal": "score_drift",
        "value": 0.25,
        "window": "2020-01-01",
    }
    store = MemoryEventStore(clock=TickingClock())
    assert store.append_frame(events).appended == 2
    again = store.append_frame(events)
    assert (again.appended, again.duplicates) == (0, 2)
    assert store.to_frame()["concept:name"].to_list() == [
        "alert_raised",
        "alert_raised",
    ]


def test_rules_from_toml_and_errors():
    rules = AlertRules.from_toml(
        "[alerts.status_crossing]\nenabled = false\ncooldown_days = 10\n"
    )
    assert rules.status_crossing.enabled is False
    assert rules.cooldowns()["status_crossing"] == timedelta(days=10)
    for bad in (
        "[alerts.nope]\nx = 1\n",
        "[alerts.score_drift]\nthreshold = -1\n",
        "[alerts",
    ):
        with pytest.raises(ConfigError):
            AlertRules.from_toml(bad)

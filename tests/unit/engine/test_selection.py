from __future__ import annotations

from engine.events import new_events_to_frame
from engine.rules import RuleThresholds, detect_deviations
from engine.selection import drop_engine_events
from tests.conftest import make_event

TEAM = (
    ("a1", "A", "manager"),
    ("a2", "A", "professional"),
    ("b1", "B", "manager"),
    ("b2", "B", "professional"),
)


def test_engine_events_are_dropped():
    frame = new_events_to_frame(
        [
            make_event(1),
            make_event(2, activity="alert_raised"),
            make_event(3, activity="personal_data_erased"),
        ]
    )
    assert drop_engine_events(frame).height == 1
    assert drop_engine_events(frame.lazy()).collect().height == 1


def test_rules_do_not_read_alert_events_as_partnership_activity():
    # two busy quarters, a quiet one holding only an engine alert, then a busy one:
    # the alert's window must not read as "participants fell to 0"
    events = [
        make_event(1, day=0, participants=TEAM),
        make_event(2, day=200, participants=TEAM),
        make_event(3, day=120, activity="alert_raised"),
        make_event(4, day=400, participants=TEAM),
    ]
    found = detect_deviations(
        new_events_to_frame(events),
        thresholds=RuleThresholds(),
        rules=["commitment_loss"],
    )
    assert found.is_empty()
    with_alert_as_meeting = [
        *events[:2],
        make_event(3, day=120, activity="report_progress"),
        events[3],
    ]
    found = detect_deviations(
        new_events_to_frame(with_alert_as_meeting),
        thresholds=RuleThresholds(),
        rules=["commitment_loss"],
    )
    assert found.height == 1  # the same log with a real (empty) event does fire

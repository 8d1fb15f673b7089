from __future__ import annotations

from engine.rules import RuleThresholds, detect_deviations
from tests.unit.engine.rules.conftest import build_log, day


def _violations(rows):
    out = detect_deviations(
        build_log(rows), thresholds=RuleThresholds(), rules=["phase_order_violation"]
    )
    return out.select("partnership_id", "time", "evidence", "message").rows()


def test_the_reference_order_and_renegotiation_are_fine():
    rows = [
        {"id": "n", "act": "explore_expectations", "day": 0},
        {"id": "c", "act": "define_values", "day": 1},
        {"id": "e", "act": "start_action", "day": 2},
        {"id": "n2", "act": "negotiate_terms", "day": 3},
        {"id": "f", "act": "feedback_meeting", "day": -1},  # null phase: ignored
    ]
    assert _violations(rows) == []


def test_execution_before_commitment_and_commitment_before_negotiation():
    rows = [
        {"id": "e", "act": "start_action", "day": 0},
        {"id": "c", "act": "sign_agreement", "day": 5},
        {"id": "n", "act": "explore_expectations", "day": 6},
        {"id": "e2", "act": "start_action", "day": 7},
    ]
    assert _violations(rows) == [
        (
            "p1",
            day(0),
            ["e"],
            "Execution step start_action on 2020-01-01 came before any commitment step",
        ),
        (
            "p1",
            day(5),
            ["c"],
            "Commitment step sign_agreement on 2020-01-06 came before any negotiation step",
        ),
    ]


def test_steps_at_the_same_instant_are_in_order_and_explicit_phase_wins():
    # "Before" is strict in time: logs with dates only record same-day steps
    # in any order, so a commitment step on the negotiation's day is no violation.
    rows = [
        {"id": "c", "act": "define_values", "day": 0},
        {"id": "n", "act": "explore_expectations", "day": 0},
        {
            "id": "x",
            "act": "custom_meeting",
            "day": 1,
            "phase": "execution",
            "pid": "p2",
        },
        {"id": "y", "act": "custom_deal", "day": 2, "phase": "commitment", "pid": "p2"},
    ]
    assert [r[:3] for r in _violations(rows)] == [
        ("p2", day(1), ["x"]),
        ("p2", day(2), ["y"]),
    ]


def test_a_later_stage_an_instant_earlier_still_fires():
    rows = [
        {"id": "c", "act": "define_values", "day": 0},
        {"id": "n", "act": "explore_expectations", "day": 0.0001},
    ]
    assert [r[:3] for r in _violations(rows)] == [("p1", day(0), ["c"])]

"""missing_top_manager_feedback counts organizations, not top managers."""

from __future__ import annotations

from engine.rules import RuleThresholds, detect_deviations
from tests.unit.engine.rules.conftest import build_log, team


def _messages(rows) -> list[str]:
    out = detect_deviations(
        build_log(rows),
        thresholds=RuleThresholds(),
        rules=["missing_top_manager_feedback"],
    )
    return out["message"].to_list()


def _log(meeting_parts) -> list[dict]:
    return [
        {
            "id": "i",
            "act": "initiate_partnership",
            "day": 0,
            "parts": team("A", "B", "C"),
        },
        {"id": "s", "act": "start_action", "day": 1, "parts": team("A")},
        {"id": "m", "act": "feedback_meeting", "day": 2, "parts": meeting_parts},
    ]


def test_two_top_managers_of_one_partner_do_not_stand_in_for_another():
    parts = [("a1", "A", "top_manager"), ("a2", "A", "top_manager")]
    parts += [("b1", "B", "top_manager"), ("c1", "C", "manager")]
    assert _messages(_log(parts)) == [
        "Feedback meeting on 2020-01-03 during execution had no top manager from C"
    ]


def test_every_partner_with_a_top_manager_is_fine_however_many_each_sends():
    parts = [("a1", "A", "top_manager"), ("a2", "A", "top_manager")]
    parts += [("b1", "B", "top_manager"), ("c1", "C", "top_manager")]
    parts += [("c2", "C", "top_manager"), ("x", None, "top_manager")]
    assert _messages(_log(parts)) == []


def test_an_organization_first_seen_as_top_manager_is_a_partner_with_one():
    parts = [("a1", "A", "top_manager"), ("a2", "A", "top_manager")]
    parts += [("b1", "B", "top_manager"), ("u", "UNI", "top_manager")]
    assert _messages(_log(parts)) == [
        "Feedback meeting on 2020-01-03 during execution had no top manager from C"
    ]

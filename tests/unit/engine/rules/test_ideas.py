from __future__ import annotations

from engine.rules import RuleThresholds, detect_deviations
from tests.unit.engine.rules.conftest import build_log, day, team

AB = team("A", "B")


def _stalled(rows, **thresholds):
    out = detect_deviations(
        build_log(rows),
        thresholds=RuleThresholds(**thresholds),
        rules=["stalled_idea_to_action"],
    )
    return out.select("partnership_id", "time", "evidence").rows()


def _plan(day_: float, idea: str = "i1", eid: str = "plan") -> dict:
    return {
        "id": eid,
        "act": "agree_action_plan",
        "day": day_,
        "parts": AB,
        "attrs": {"idea_id": idea},
    }


def _start(day_: float, idea: str = "i1", eid: str = "start") -> dict:
    return {
        "id": eid,
        "act": "start_action",
        "day": day_,
        "parts": AB,
        "attrs": {"idea_id": idea},
    }


def test_start_on_the_deadline_does_not_fire():
    assert _stalled([_plan(0), _start(180)]) == []


def test_start_a_day_late_fires_at_the_deadline_with_both_events():
    assert _stalled([_plan(0), _start(181)]) == [("p1", day(180), ["plan", "start"])]


def test_no_start_fires_once_the_log_reaches_the_deadline():
    end = {"id": "end", "act": "report_progress", "day": 179, "parts": AB}
    assert _stalled([_plan(0), end]) == []
    assert _stalled([_plan(0), {**end, "day": 180}]) == [("p1", day(180), ["plan"])]


def test_the_earlier_of_proposal_and_plan_is_the_anchor():
    idea = {
        "id": "idea",
        "act": "propose_idea",
        "day": 0,
        "parts": AB,
        "attrs": {"idea_id": "i1"},
    }
    # Seed 000: a year from idea to pilot stalls, however late the plan came.
    assert _stalled([idea, _plan(100), _start(250)]) == [
        ("p1", day(180), ["idea", "start"])
    ]
    assert _stalled([idea, _plan(100), _start(170)]) == []
    assert _stalled([idea, _start(250)]) == [("p1", day(180), ["idea", "start"])]
    # A plan agreed before the idea was (formally) proposed anchors it.
    late_idea = {**idea, "day": 100}
    assert _stalled([_plan(0), late_idea, _start(200)]) == [
        ("p1", day(180), ["plan", "start"])
    ]


def test_each_idea_fires_once():
    rows = [
        _plan(0, "i1", "p-i1"),
        _plan(5, "i1", "p-i1b"),
        _plan(10, "i2", "p-i2"),
        _start(300, "i2"),
    ]
    assert _stalled(rows) == [
        ("p1", day(180), ["p-i1"]),
        ("p1", day(190), ["p-i2", "start"]),
    ]


def test_partnership_ended_before_the_deadline_is_not_stalled():
    left = [
        {"id": "la", "act": "member_left", "day": 100, "org": "A"},
        {"id": "lb", "act": "member_left", "day": 100, "org": "B"},
        {"id": "end", "act": "report_progress", "day": 400, "org": "A"},
    ]
    assert _stalled([_plan(0), *left]) == []
    later = [{**e, "day": 200} if e["id"] != "end" else e for e in left]
    assert _stalled([_plan(0), *later]) == [("p1", day(180), ["plan"])]


def test_threshold_and_missing_idea_id():
    no_id = {"id": "x", "act": "agree_action_plan", "day": 0, "parts": AB}
    assert _stalled([no_id, _plan(0), _start(40)], stall_days=30) == [
        ("p1", day(30), ["plan", "start"])
    ]

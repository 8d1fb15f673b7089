from __future__ import annotations

from engine.rules import RuleThresholds, detect_deviations
from tests.unit.engine.rules.conftest import build_log, day, team

TOP = team("A", "B", role="top_manager")


def _missing(rows, **thresholds):
    out = detect_deviations(
        build_log(rows),
        thresholds=RuleThresholds(**thresholds),
        rules=["missing_top_manager_feedback"],
    )
    return out.select("time", "evidence", "message").rows()


def _start(day_: float = 0) -> dict:
    return {"id": "s", "act": "start_action", "day": day_, "parts": team("A", "B")}


def _meeting(eid: str, day_: float, parts, **extra) -> dict:
    return {"id": eid, "act": "feedback_meeting", "day": day_, "parts": parts, **extra}


def test_meeting_with_every_top_manager_is_fine():
    assert _missing([_start(), _meeting("m", 10, TOP)]) == []


def test_meeting_missing_a_top_manager_names_the_organization():
    parts = team("A", role="top_manager") + team("B", role="professional")
    assert _missing([_start(), _meeting("m", 10, parts)]) == [
        (
            day(10),
            ["m"],
            "Feedback meeting on 2020-01-11 during execution had no top manager from B",
        )
    ]


def test_meetings_before_execution_are_not_checked_unless_their_phase_says_so():
    parts = team("A", "B")
    assert _missing([_meeting("m", 0, parts), _start(1)]) == []
    assert [r[1] for r in _missing([_meeting("m", 0, parts, phase="execution")])] == [
        ["m"]
    ]


def test_third_parties_and_departed_partners_need_no_top_manager():
    rows = [
        {
            "id": "i",
            "act": "initiate_partnership",
            "day": 0,
            "parts": team("A", "B", "C"),
        },
        {"id": "l", "act": "member_left", "day": 1, "org": "C"},
        _start(2),
        _meeting("m", 3, [*TOP, ("r", "UNI", "researcher")]),
    ]
    assert _missing(rows) == []


def test_a_meeting_exactly_at_the_limit_is_in_time():
    assert (
        _missing([_start(), _meeting("m1", 180, TOP), _meeting("m2", 360, TOP)]) == []
    )


def test_gap_over_the_limit_fires_from_its_opening_event():
    rows = [_start(), _meeting("m1", 181, TOP), _meeting("m2", 300, TOP)]
    assert _missing(rows) == [
        (
            day(180),
            ["s"],
            "No feedback meeting for 181 days after the first pilot on 2020-01-01 (limit 180)",
        )
    ]


def test_open_gap_until_as_of():
    rows = [
        _start(),
        _meeting("m1", 100, TOP),
        {"id": "x", "act": "report_progress", "day": 281},
    ]
    assert [r[:2] for r in _missing(rows)] == [(day(280), ["m1"])]
    # Observed through the limit with the gap still open: it fires.
    assert [r[:2] for r in _missing([*rows[:2], {**rows[2], "day": 280}])] == [
        (day(280), ["m1"])
    ]
    assert _missing([*rows[:2], {**rows[2], "day": 279}]) == []


def test_no_execution_no_gap():
    assert (
        _missing(
            [
                _meeting("m", 0, team("A")),
                {"id": "x", "act": "define_values", "day": 900},
            ]
        )
        == []
    )


def test_many_missing_partners_are_counted_not_listed():
    orgs = [f"O{i:02d}" for i in range(12)]
    rows = [
        {"id": "i", "act": "initiate_partnership", "day": 0, "parts": team(*orgs)},
        _start(1),
        _meeting("m", 2, team(orgs[0], role="top_manager")),
    ]
    (row,) = _missing(rows)
    assert row[2].endswith("had no top manager from 13 of 14 active partners")


def test_execution_entered_without_a_pilot_still_needs_top_managers():
    # DOMAIN.md's stage inference: report_progress is an execution step, so the
    # meeting after it is in the execution stage (no start_action needed).
    rows = [
        {"id": "i", "act": "initiate_partnership", "day": 0, "parts": team("A", "B")},
        {"id": "g", "act": "sign_agreement", "day": 10, "parts": team("A", "B")},
        {"id": "r", "act": "report_progress", "day": 20, "parts": team("A")},
        _meeting("m", 30, team("A", "B")),
    ]
    assert [r[1] for r in _missing(rows)] == [["m"]]


def test_a_meeting_recorded_in_renegotiation_is_not_an_execution_meeting():
    rows = [
        _start(0),
        {"id": "n", "act": "negotiate_terms", "day": 5, "parts": team("A", "B")},
        _meeting("m", 10, team("A", "B")),
        _meeting("x", 20, team("A", "B"), phase="negotiation"),
    ]
    assert _missing(rows) == []


def test_a_gap_opened_by_another_execution_step_names_it():
    rows = [
        {"id": "r", "act": "report_progress", "day": 0, "parts": team("A", "B")},
        _meeting("m", 200, TOP),
    ]
    assert _missing(rows) == [
        (
            day(180),
            ["r"],
            "No feedback meeting for 200 days after execution began (report_progress) "
            "on 2020-01-01 (limit 180)",
        )
    ]


def test_execution_resumed_after_renegotiation_is_checked_again():
    rows = [
        _start(0),
        {"id": "n", "act": "negotiate_terms", "day": 5, "parts": team("A", "B")},
        _meeting("m1", 6, team("A", "B")),  # renegotiating: not checked
        {"id": "r", "act": "report_progress", "day": 8, "parts": team("A")},
        _meeting("m2", 10, team("A", "B")),  # execution again: checked
    ]
    assert [r[1] for r in _missing(rows)] == [["m2"]]


def test_renegotiation_closes_the_gap_and_resumed_execution_opens_one():
    rows = [
        _start(0),
        _meeting("m1", 100, TOP),
        # execution stops at day 150: no gap fires across the renegotiation
        {"id": "n", "act": "negotiate_terms", "day": 150, "parts": team("A", "B")},
        {"id": "a", "act": "sign_agreement", "day": 400, "parts": team("A", "B")},
        {"id": "r", "act": "report_progress", "day": 420, "parts": team("A", "B")},
        {"id": "x", "act": "report_progress", "day": 601, "parts": team("A", "B")},
    ]
    assert _missing(rows) == [
        (
            day(600),
            ["r"],
            "No feedback meeting for 181 days after execution resumed "
            "(report_progress) on 2021-02-24 (limit 180)",
        )
    ]
    assert _missing([*rows[:-1], {**rows[-1], "day": 599}]) == []


def test_a_new_idea_while_a_pilot_runs_does_not_stop_execution():
    rows = [
        _start(0),
        {
            "id": "i",
            "act": "propose_idea",
            "day": 30,
            "parts": team("A", "B"),
            "attrs": {"idea_id": "i2"},
        },
        {"id": "x", "act": "share_information", "day": 400, "parts": team("A")},
    ]
    assert [r[1] for r in _missing(rows)] == [["s"]]


def test_a_meeting_after_a_new_idea_during_a_pilot_is_still_checked():
    rows = [
        _start(0),
        {
            "id": "i",
            "act": "agree_action_plan",
            "day": 5,
            "parts": team("A", "B"),
            "attrs": {"idea_id": "i2"},
        },
        _meeting("m", 10, team("A", "B")),
    ]
    assert [r[1] for r in _missing(rows)] == [["m"]]

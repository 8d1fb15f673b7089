from __future__ import annotations

from engine.rules import RuleThresholds, detect_deviations
from tests.unit.engine.rules.conftest import build_log, day, team

AB = team("A", "B")


def _unresolved(rows, **thresholds):
    out = detect_deviations(
        build_log(rows),
        thresholds=RuleThresholds(**thresholds),
        rules=["unresolved_conflict"],
    )
    return out.select("time", "evidence", "message").rows()


def _ev(eid: str, act: str, day_: float, cid: str = "c1") -> dict:
    return {
        "id": eid,
        "act": act,
        "day": day_,
        "parts": AB,
        "attrs": {"conflict_id": cid},
    }


def test_resolved_on_the_deadline_does_not_fire():
    assert (
        _unresolved([_ev("r", "raise_conflict", 0), _ev("s", "resolve_conflict", 120)])
        == []
    )


def test_resolved_late_fires_with_both_events():
    (row,) = _unresolved(
        [_ev("r", "raise_conflict", 0), _ev("s", "resolve_conflict", 121)]
    )
    assert row[:2] == (day(120), ["r", "s"])
    assert (
        row[2]
        == "Conflict c1 raised on 2020-01-01 took 121 days to resolve (limit 120)"
    )


def test_open_conflict_fires_once_as_of_reaches_the_deadline():
    base = [_ev("r", "raise_conflict", 0), _ev("m", "mediate_conflict", 30)]
    assert _unresolved([*base, _ev("x", "report_progress", 119, "other")]) == []
    # Observed through the deadline without a resolve: none came within 120 days.
    assert [
        r[:2] for r in _unresolved([*base, _ev("x", "report_progress", 120, "other")])
    ] == [(day(120), ["r"])]
    assert _unresolved(base, conflict_days=20) == [
        (
            day(20),
            ["r"],
            "Conflict c1 raised on 2020-01-01 is unresolved after 30 days (limit 20)",
        )
    ]


def test_only_the_first_raise_counts_and_ids_are_separate():
    rows = [
        _ev("r1", "raise_conflict", 0),
        _ev("r1b", "raise_conflict", 50),
        _ev("r2", "raise_conflict", 10, "c2"),
        _ev("s1", "resolve_conflict", 100),
        _ev("x", "report_progress", 200, "none"),
    ]
    assert [r[:2] for r in _unresolved(rows)] == [(day(130), ["r2"])]


def test_a_raise_without_an_id_is_its_own_conflict_and_cannot_be_resolved():
    rows = [
        {"id": "r", "act": "raise_conflict", "day": 10, "parts": AB},
        {"id": "q", "act": "raise_conflict", "day": 300, "parts": AB},
        {"id": "s", "act": "resolve_conflict", "day": 20, "parts": AB},
        {"id": "x", "act": "report_progress", "day": 400, "parts": AB},
    ]
    assert _unresolved(rows) == [
        (
            day(130),
            ["r"],
            "Conflict (without an id) raised on 2020-01-11 is unresolved after 390 days (limit 120)",
        )
    ]

from __future__ import annotations

from engine.rules import RuleThresholds, detect_deviations
from tests.unit.engine.rules.conftest import build_log, day


def _loss(rows, **thresholds):
    out = detect_deviations(
        build_log(rows),
        thresholds=RuleThresholds(**thresholds),
        rules=["commitment_loss"],
    )
    return out.select("time", "evidence", "message").rows()


def _member(eid: str, act: str, day_: float, org: str) -> dict:
    return {"id": eid, "act": act, "day": day_, "org": org}


def test_departures_balanced_by_arrivals_do_not_fire():
    rows = [_member("j", "member_joined", 0, "A"), _member("l", "member_left", 5, "B")]
    assert _loss(rows) == []


def test_first_net_departure_fires_once_with_departures_so_far():
    rows = [
        _member("l1", "member_left", 0, "A"),
        _member("j1", "member_joined", 1, "C"),
        _member("j2", "member_joined", 2, "D"),
        _member("l2", "member_left", 3, "B"),
        _member("l3", "member_left", 4, "C"),
        _member("l4", "member_left", 5, "D"),
    ]
    assert _loss(rows) == [
        (day(0), ["l1"], "A left on 2020-01-01: 1 members have left and only 0 joined")
    ]
    assert [r[1] for r in _loss(rows[1:])] == [["l2", "l3", "l4"]]


def _meeting(eid: str, day_: float, n: int) -> dict:
    parts = [(f"a{i}", "A" if i % 2 else "B", "professional") for i in range(n)]
    return {"id": eid, "act": "report_progress", "day": day_, "parts": parts}


def test_a_fall_of_exactly_thirty_percent_fires_and_less_does_not():
    # DOMAIN.md: "active participants falling by 30%": 10 -> 7 is such a fall.
    rows = [_meeting("w0", 0, 10), _meeting("w1", 90, 7), _meeting("w2", 180, 7)]
    assert [r[:2] for r in _loss(rows)] == [(day(90), ["w1"])]
    rows = [_meeting("w0", 0, 10), _meeting("w1", 90, 8), _meeting("w2", 180, 8)]
    assert _loss(rows) == []


def test_drop_below_seventy_percent_fires_at_the_window_start():
    rows = [_meeting("w0", 0, 10), _meeting("w1", 95, 6), _meeting("w2", 200, 6)]
    assert _loss(rows) == [
        (
            day(90),
            ["w1"],
            "Active participants fell from 10 to 6 in the 90 days from 2020-03-31",
        )
    ]


def test_small_previous_windows_and_incomplete_windows_do_not_fire():
    assert (
        _loss([_meeting("w0", 0, 2), _meeting("w1", 90, 0), _meeting("w2", 180, 0)])
        == []
    )
    # window 1 [90, 180) is not complete by as_of = day 100
    assert _loss([_meeting("w0", 0, 10), _meeting("w1", 100, 1)]) == []


def test_window_of_only_third_party_actors_counts_zero():
    third = {
        "id": "t",
        "act": "feedback_meeting",
        "day": 100,
        "parts": [(f"r{i}", "UNI", "researcher") for i in range(20)],
    }
    rows = [_meeting("w0", 0, 4), third, _meeting("w2", 200, 4)]
    assert [r[:2] for r in _loss(rows)] == [(day(90), ["t"])]


def test_window_without_events_is_skipped_not_read_as_zero():
    # quiet quarter [90, 180): no event, so [180, 270) is compared with [0, 90)
    rows = [
        _meeting("w0", 0, 10),
        _meeting("w2", 200, 9),
        _meeting("w3", 290, 2),
        _meeting("w4", 400, 2),
    ]
    found = _loss(rows)
    assert [r[1] for r in found] == [["w3"]]
    assert "fell from 9 to 2" in found[0][2]

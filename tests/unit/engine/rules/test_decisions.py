from __future__ import annotations

from engine.rules import RuleThresholds, detect_deviations
from tests.unit.engine.rules.conftest import build_log, day, team


def _exclusive(rows, **thresholds):
    out = detect_deviations(
        build_log(rows),
        thresholds=RuleThresholds(**thresholds),
        rules=["exclusive_decision"],
    )
    return out.select("time", "evidence", "message").rows()


def _start(*orgs: str) -> dict:
    return {"id": "init", "act": "initiate_partnership", "day": 0, "parts": team(*orgs)}


def _decide(
    *orgs: str, day_: float = 10, act: str = "sign_agreement", eid: str = "d"
) -> dict:
    return {"id": eid, "act": act, "day": day_, "parts": team(*orgs)}


def test_half_of_the_partners_is_enough():
    assert _exclusive([_start("A", "B", "C", "D"), _decide("A", "B")]) == []


def test_fewer_than_half_fires_with_a_readable_message():
    assert _exclusive([_start("A", "B", "C", "D"), _decide("A")]) == [
        (
            day(10),
            ["d"],
            "Decision sign_agreement on 2020-01-11 was taken by 1 of 4 active partners (A)",
        )
    ]
    assert (
        len(_exclusive([_start("A", "B", "C"), _decide("A", act="negotiate_terms")]))
        == 1
    )


def test_partnerships_below_the_minimum_size_never_fire():
    assert _exclusive([_start("A", "B"), _decide("A")]) == []
    assert (
        len(
            _exclusive(
                [_start("A", "B"), _decide("A")],
                exclusive_min_orgs=2,
                exclusive_share=0.6,
            )
        )
        == 1
    )


def test_third_parties_neither_count_nor_help():
    mediator = [("m", "SHA", "mediator")]
    rows = [
        _start("A", "B", "C"),
        {
            "id": "d",
            "act": "agree_objectives",
            "day": 10,
            "parts": team("A") + mediator,
        },
    ]
    (row,) = _exclusive(rows)
    assert "1 of 3" in row[2]


def test_partners_that_left_are_not_active_and_later_joiners_are():
    rows = [
        _start("A", "B", "C", "D"),
        {"id": "l1", "act": "member_left", "day": 5, "org": "C"},
        {"id": "l2", "act": "member_left", "day": 5, "org": "D"},
        _decide("A", eid="d1"),  # 1 of 2 active: below the minimum
        {"id": "j", "act": "member_joined", "day": 20, "org": "E"},
        _decide("A", day_=30, eid="d2"),  # 1 of 3
        _decide(day_=40, eid="d3", act="agree_action_plan"),  # nobody: none present
    ]
    out = _exclusive(rows)
    assert [r[1] for r in out] == [["d2"], ["d3"]]
    assert out[1][2].endswith("taken by 0 of 3 active partners (none present)")


def test_non_decisions_are_ignored():
    assert (
        _exclusive([_start("A", "B", "C", "D"), _decide("A", act="define_values")])
        == []
    )

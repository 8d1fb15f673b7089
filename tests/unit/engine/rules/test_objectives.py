from __future__ import annotations

from engine.rules import RuleThresholds, detect_deviations
from tests.unit.engine.rules.conftest import build_log, day, team


def _hidden(rows, **thresholds):
    out = detect_deviations(
        build_log(rows),
        thresholds=RuleThresholds(**thresholds),
        rules=["hidden_objective"],
    )
    return out.select("time", "evidence", "message").rows()


def _propose(
    eid: str, day_: float, oid: str = "o1", visibility: str | None = None
) -> dict:
    attrs = {"objective_id": oid} | ({"visibility": visibility} if visibility else {})
    return {
        "id": eid,
        "act": "propose_objective",
        "day": day_,
        "org": "HI1",
        "attrs": attrs,
    }


def _agree(day_: float, *oids: str, act: str = "agree_objectives") -> dict:
    return {
        "id": f"a{day_}",
        "act": act,
        "day": day_,
        "parts": team("A", "B"),
        "attrs": {"objective_ids": list(oids)},
    }


def test_private_fires_at_the_proposal_even_if_agreed():
    assert _hidden([_propose("p", 3, visibility="private"), _agree(4, "o1")]) == [
        (day(3), ["p"], "Objective o1 proposed by HI1 on 2020-01-04 was kept private")
    ]


def test_shared_visibility_never_fires():
    assert _hidden([_propose("p", 0, visibility="shared"), _agree(900, "x")]) == []


def test_agreed_or_shared_on_the_deadline_does_not_fire():
    assert _hidden([_propose("p", 0), _agree(180, "o1")]) == []
    assert _hidden([_propose("p", 0), _agree(180, "o1", act="share_information")]) == []


def test_agreed_a_day_late_fires_at_the_deadline():
    assert _hidden([_propose("p", 0), _agree(181, "o1", "o2")]) == [
        (
            day(180),
            ["p"],
            "Objective o1 proposed by HI1 on 2020-01-01 was neither agreed nor shared within 180 days",
        )
    ]


def test_never_agreed_fires_once_as_of_reaches_the_deadline():
    assert _hidden([_propose("p", 0), _agree(179, "other")]) == []
    assert [r[:2] for r in _hidden([_propose("p", 0), _agree(180, "other")])] == [
        (day(180), ["p"])
    ]


def test_one_deviation_per_objective_the_earliest():
    rows = [
        _propose("p1", 0),
        _propose("p2", 10, visibility="private"),
        _agree(400, "x"),
    ]
    assert [r[:2] for r in _hidden(rows)] == [(day(10), ["p2"])]

from __future__ import annotations

import polars as pl

from engine import schema as s
from engine.partners import (
    ACTIVE_PARTNERS,
    active_partners_at,
    explode_appearances,
    partner_intervals,
)
from tests.unit.engine.rules.conftest import build_log, day, team


def _active(frame: pl.DataFrame, days: list[float], pid: str = "p1") -> list[list[str]]:
    at = pl.LazyFrame(
        {s.PARTNERSHIP_ID: [pid] * len(days), s.TIMESTAMP: [day(d) for d in days]}
    )
    out = active_partners_at(partner_intervals(frame.lazy()), at).collect()
    return out[ACTIVE_PARTNERS].to_list()


def test_third_party_roles_never_make_a_partner():
    frame = build_log(
        [
            {
                "id": "e1",
                "act": "initiate_partnership",
                "day": 0,
                "parts": team("A", "B"),
            },
            {
                "id": "e2",
                "act": "explore_expectations",
                "day": 1,
                "parts": [
                    ("r1", "UNI", "researcher"),
                    ("m1", "SHA", "mediator"),
                    ("f", "X", "facilitator"),
                ],
            },
        ]
    )
    assert _active(frame, [0, 5]) == [["A", "B"], ["A", "B"]]


def test_appearance_makes_active_from_then_on():
    frame = build_log(
        [
            {"id": "e1", "act": "initiate_partnership", "day": 0, "parts": team("A")},
            {"id": "e2", "act": "explore_expectations", "day": 10, "parts": team("B")},
        ]
    )
    assert _active(frame, [5, 10, 11]) == [["A"], ["A", "B"], ["A", "B"]]


def test_event_without_participants_makes_its_organization_appear():
    frame = build_log(
        [{"id": "e1", "act": "propose_idea", "day": 0, "org": "C", "actor": "c1"}]
    )
    assert _active(frame, [0]) == [["C"]]
    apps = explode_appearances(frame.lazy()).collect()
    assert apps.select(s.ORGANIZATION, s.ACTOR, "role").rows() == [("C", "c1", "other")]


def test_member_left_and_rejoined():
    frame = build_log(
        [
            {
                "id": "e1",
                "act": "initiate_partnership",
                "day": 0,
                "parts": team("A", "B"),
            },
            {"id": "e2", "act": "member_left", "day": 10, "org": "B"},
            {
                "id": "e3",
                "act": "explore_expectations",
                "day": 15,
                "parts": team("A", "B"),
            },
            {"id": "e4", "act": "member_joined", "day": 20, "org": "B"},
            {"id": "e5", "act": "member_joined", "day": 30, "org": "D"},
        ]
    )
    # B stays out after appearing again without a member_joined.
    assert _active(frame, [9, 10, 15, 20, 30]) == [
        ["A", "B"],
        ["A"],
        ["A"],
        ["A", "B"],
        ["A", "B", "D"],
    ]


def test_join_and_leave_at_the_same_instant_keeps_the_partner():
    frame = build_log(
        [
            {
                "id": "e1",
                "act": "initiate_partnership",
                "day": 0,
                "parts": team("A", "B"),
            },
            {"id": "e2", "act": "member_left", "day": 10, "org": "B"},
            {"id": "e3", "act": "member_joined", "day": 10, "org": "B"},
        ]
    )
    assert _active(frame, [10]) == [["A", "B"]]


def test_partnerships_are_separate_and_unknown_ones_have_none():
    frame = build_log(
        [
            {"id": "e1", "act": "initiate_partnership", "day": 0, "parts": team("A")},
            {
                "id": "e2",
                "pid": "p2",
                "act": "initiate_partnership",
                "day": 0,
                "parts": team("B"),
            },
        ]
    )
    assert _active(frame, [1], pid="p2") == [["B"]]
    assert _active(frame, [1], pid="nope") == [[]]


def test_a_partner_that_left_before_appearing_is_listed_but_never_active():
    frame = build_log(
        [
            {"id": "e1", "act": "initiate_partnership", "day": 0, "parts": team("A")},
            {
                "id": "e2",
                "act": "member_left",
                "day": 1,
                "org": "B",
                "parts": [("x", "B", "mediator")],
            },
            {
                "id": "e3",
                "act": "explore_expectations",
                "day": 2,
                "parts": team("A", "B"),
            },
        ]
    )
    rows = partner_intervals(frame.lazy()).collect().sort(s.ORGANIZATION)
    assert rows.select(s.ORGANIZATION, "active_from").rows() == [
        ("A", day(0)),
        ("B", None),
    ]
    assert _active(frame, [3]) == [["A"]]


def test_counts_match_the_lists():
    from engine.partners import ACTIVE_PARTNER_COUNT, count_active_partners

    frame = build_log(
        [
            {
                "id": "e1",
                "act": "initiate_partnership",
                "day": 0,
                "parts": team("A", "B"),
            },
            {"id": "e2", "act": "member_left", "day": 10, "org": "B"},
            {
                "id": "e3",
                "act": "explore_expectations",
                "day": 15,
                "parts": team("A", "C"),
            },
            {"id": "e4", "act": "member_joined", "day": 20, "org": "B"},
            {
                "id": "e5",
                "pid": "p2",
                "act": "initiate_partnership",
                "day": 3,
                "parts": team("X"),
            },
        ]
    )
    days = [-1, 0, 9, 10, 15, 19, 20, 99]
    at = pl.LazyFrame(
        {
            s.PARTNERSHIP_ID: ["p1"] * len(days) + ["p2", "p2", "p3"],
            s.TIMESTAMP: [day(d) for d in [*days, 2, 3, 3]],
        }
    )
    counted = count_active_partners(partner_intervals(frame.lazy()), at).collect()
    listed = active_partners_at(partner_intervals(frame.lazy()), at).collect()
    expected = {
        (p, t): len(a)
        for p, t, a in listed.select(
            s.PARTNERSHIP_ID, s.TIMESTAMP, ACTIVE_PARTNERS
        ).rows()
    }
    got = {
        (p, t): n
        for p, t, n in counted.select(
            s.PARTNERSHIP_ID, s.TIMESTAMP, ACTIVE_PARTNER_COUNT
        ).rows()
    }
    assert got == expected
    assert [got[("p1", day(d))] for d in days] == [0, 2, 2, 1, 2, 2, 3, 3]


def test_partner_organizations_are_the_partner_role_appearances():
    from engine.partners import IS_PARTNER_ROLE, explode_partner_organizations

    frame = build_log(
        [
            {
                "id": "e1",
                "act": "define_values",
                "day": 0,
                "parts": [
                    *team("A", "B"),
                    ("r", "UNI", "researcher"),
                    ("x", None, "manager"),
                ],
            },
            {"id": "e2", "act": "propose_idea", "day": 1, "org": "C", "actor": "c1"},
            {"id": "e3", "act": "propose_idea", "day": 2},
        ]
    )
    key = [s.EVENT_ID, s.ORGANIZATION]
    fast = explode_partner_organizations(frame.lazy()).select(key).collect().sort(key)
    slow = (
        explode_appearances(frame.lazy())
        .filter(pl.col(IS_PARTNER_ROLE))
        .select(key)
        .collect()
        .sort(key)
    )
    assert fast.rows() == slow.rows() == [("e1", "A"), ("e1", "B"), ("e2", "C")]


def test_a_membership_event_without_an_organization_applies_to_its_partner_participants():
    frame = build_log(
        [
            {
                "id": "i",
                "act": "initiate_partnership",
                "day": 0,
                "parts": team("A", "B", "C"),
            },
            {
                "id": "l",
                "act": "member_left",
                "day": 5,
                "parts": [("c1", "C", "manager"), ("m", "SHA", "mediator")],
            },
            {"id": "j", "act": "member_joined", "day": 9, "parts": team("C")},
        ]
    )
    assert [sorted(x) for x in _active(frame, [1, 6, 10])] == [
        ["A", "B", "C"],
        ["A", "B"],
        ["A", "B", "C"],
    ]

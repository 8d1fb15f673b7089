"""Active partners (lists and counts) against a naive oracle of docs/rules.md."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import schema as s
from engine.partners import (
    ACTIVE_PARTNER_COUNT,
    ACTIVE_PARTNERS,
    active_partners_at,
    count_active_partners,
    partner_intervals,
)
from tests.unit.engine.rules.conftest import build_log, day

ORGS = ["A", "B", "C", "M"]


@st.composite
def logs(draw):
    rows = []
    for i in range(draw(st.integers(1, 16))):
        kind = draw(st.sampled_from(["meet", "meet", "joined", "left", "mediate"]))
        org = draw(st.sampled_from(ORGS))
        d = draw(st.integers(0, 30))
        if kind == "meet":
            role = "mediator" if org == "M" and draw(st.booleans()) else "manager"
            rows.append(
                {
                    "id": f"e{i}",
                    "act": "feedback_meeting",
                    "day": d,
                    "parts": [(None, org, role)],
                }
            )
        elif kind == "mediate":  # recorded by its mediator, without participants
            rows.append(
                {"id": f"e{i}", "act": "mediate_conflict", "day": d, "org": org}
            )
        else:
            rows.append({"id": f"e{i}", "act": f"member_{kind}", "day": d, "org": org})
    return rows


def oracle(rows, t):
    partners = {o for r in rows for o in _appearing(r, partner_only=True)}
    active = set()
    for org in partners:
        first = min(
            (r["day"] for r in rows if org in _appearing(r, partner_only=True)),
            default=None,
        )
        joins = [
            r["day"]
            for r in rows
            if r["act"] == "member_joined" and r["org"] == org and r["day"] <= t
        ]
        leaves = [
            r["day"]
            for r in rows
            if r["act"] == "member_left" and r["org"] == org and r["day"] <= t
        ]
        entered = (first is not None and first <= t) or bool(joins)
        gone = bool(leaves) and (not joins or max(leaves) > max(joins))
        if entered and not gone:
            active.add(org)
    return sorted(active)


def _appearing(row, *, partner_only):
    own = "mediator" if row["act"] == "mediate_conflict" else "other"
    parts = row.get("parts") or [(None, row.get("org"), own)]
    return {o for _, o, role in parts if o and (not partner_only or role != "mediator")}


@settings(max_examples=60, deadline=None)
@given(rows=logs())
def test_active_partners_match_the_oracle(rows):
    frame = build_log(rows)
    times = list(range(-1, 32))
    at = pl.LazyFrame(
        {s.PARTNERSHIP_ID: ["p1"] * len(times), s.TIMESTAMP: [day(t) for t in times]}
    )
    intervals = partner_intervals(frame.lazy()).collect().lazy()
    listed = active_partners_at(intervals, at).collect()[ACTIVE_PARTNERS].to_list()
    counted = (
        count_active_partners(intervals, at)
        .sort(s.TIMESTAMP)
        .collect()[ACTIVE_PARTNER_COUNT]
        .to_list()
    )
    expected = [oracle(rows, t) for t in times]
    assert listed == expected
    assert counted == [len(e) for e in expected]

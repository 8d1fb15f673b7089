from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import schema as s
from engine.models import REFERENCE_LIFECYCLE, find_stage_violations
from engine.phases import assign_stages, discover_phase_flow, find_stage_runs
from engine.variants import order_events

T0 = datetime(2020, 1, 1, tzinfo=UTC)
STAGED = {
    "n": "initiate_partnership",
    "c": "sign_agreement",
    "e": "start_action",
    "any": "feedback_meeting",
}


def to_frame(events, *, phase=None):
    data = {
        s.PARTNERSHIP_ID: [c for c, _, _ in events],
        s.ACTIVITY: [STAGED[a] for _, a, _ in events],
        s.TIMESTAMP: [T0 + timedelta(days=d) for _, _, d in events],
    }
    schema = {
        s.PARTNERSHIP_ID: pl.String,
        s.ACTIVITY: pl.String,
        s.TIMESTAMP: pl.Datetime("us", "UTC"),
    }
    if phase is not None:
        data[s.PHASE] = phase
        schema[s.PHASE] = pl.String
    return pl.LazyFrame(data, schema=schema)


def test_cycle_back_to_negotiation_and_time_in_stage():
    events = [
        ("p", "n", 0),
        ("p", "any", 1),
        ("p", "c", 3),
        ("p", "e", 10),
        ("p", "any", 12),
        ("p", "n", 20),
        ("q", "any", 0),
        ("q", "n", 2),
    ]
    flow = discover_phase_flow(to_frame(events))
    day = 86400.0
    assert {
        (r["source"], r["target"]): (r["count"], r["mean_seconds"])
        for r in flow.dfg.to_dict()["edges"]
    } == {
        ("negotiation", "commitment"): (1, 3 * day),
        ("commitment", "execution"): (1, 7 * day),
        ("execution", "negotiation"): (1, 10 * day),
    }
    assert flow.dfg.to_dict()["start_activities"] == {"negotiation": 2}
    assert flow.dfg.to_dict()["end_activities"] == {"negotiation": 2}
    assert flow.time_in_stage.rows() == [
        ("p", "negotiation", 2, 3, 3 * day),
        ("p", "commitment", 1, 1, 7 * day),
        ("p", "execution", 1, 2, 10 * day),
        ("q", "negotiation", 1, 2, 2 * day),
    ]


def test_recorded_phase_takes_precedence_over_activity_stage():
    events = [("p", "n", 0), ("p", "any", 1)]
    flow = discover_phase_flow(to_frame(events, phase=[None, "execution"]))
    assert flow.dfg.edges.select("source", "target").rows() == [
        ("negotiation", "execution")
    ]


def test_partnership_without_staged_events_has_no_runs():
    flow = discover_phase_flow(to_frame([("p", "any", 0)]))
    assert flow.time_in_stage.height == 0
    assert flow.dfg.to_dict()["start_activities"] == {}


def test_stage_violations_against_reference_lifecycle():
    events = [
        ("p", "n", 0),
        ("p", "e", 1),
        ("q", "c", 0),
        ("q", "e", 1),
        ("r", "n", 0),
        ("r", "c", 1),
        ("r", "e", 2),
        ("r", "n", 3),
    ]
    ordered = order_events(to_frame(events))
    runs = find_stage_runs(assign_stages(ordered))
    bad = find_stage_violations(runs, model=REFERENCE_LIFECYCLE).collect()
    assert bad.select(s.PARTNERSHIP_ID, "previous_stage", "stage").rows() == [
        ("p", "negotiation", "execution"),
        ("q", None, "commitment"),
    ]


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["p", "q"]),
            st.sampled_from(list(STAGED)),
            st.integers(min_value=0, max_value=30),
        ),
        max_size=25,
    )
)
def test_stage_runs_match_naive_oracle(events):
    stage_of = {"n": "negotiation", "c": "commitment", "e": "execution", "any": None}
    expected = {}
    for case in sorted({c for c, _, _ in events}):
        trace = sorted([(d, a) for c, a, d in events if c == case], key=lambda e: e[0])
        stages = [stage_of[a] for _, a in trace]
        known = [x for x in stages if x is not None]
        if not known:
            continue
        filled, current = [], known[0]
        for x in stages:
            current = x or current
            filled.append(current)
        runs = []
        for (day, _), stage in zip(trace, filled, strict=True):
            if not runs or runs[-1][0] != stage:
                runs.append([stage, day, day])
            runs[-1][2] = day
        for i, run in enumerate(runs):
            end = runs[i + 1][1] if i + 1 < len(runs) else run[2]
            key = (case, run[0])
            expected[key] = expected.get(key, 0.0) + (end - run[1]) * 86400.0
    flow = discover_phase_flow(to_frame(events))
    got = {(c, st_): sec for c, st_, _, _, sec in flow.time_in_stage.iter_rows()}
    assert got == expected
    total_edges = sum(r["count"] for r in flow.dfg.to_dict()["edges"])
    assert total_edges == flow.time_in_stage["runs"].sum() - len(
        {c for c, _ in expected}
    )

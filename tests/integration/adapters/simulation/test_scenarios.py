"""The two seed scenarios: valid frames that show the findings of their papers."""

from __future__ import annotations

import json

import polars as pl
import pytest

from adapters.scenarios import SCENARIOS, load_scenario
from engine import schema as s
from engine.errors import NotFoundError
from engine.validation import find_invalid_rows, normalize_input_frame
from tests.integration.adapters.simulation.rule_oracle import check_rules


def _rules(frame):
    by_id = {r[s.EVENT_ID]: r for r in frame.iter_rows(named=True)}
    return [(rule, [by_id[e] for e in ev]) for _, rule, ev in check_rules(frame)]


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_scenario_is_a_valid_deterministic_input_frame(name):
    frame = load_scenario(name)
    assert frame.schema == s.INPUT_SCHEMA
    assert find_invalid_rows(normalize_input_frame(frame)).is_empty()
    assert frame.equals(load_scenario(name))
    assert frame[s.TIMESTAMP].is_sorted()
    assert frame[s.PARTNERSHIP_ID].unique().to_list() == [name]


def test_oh_collaboration_top_managers_absent_and_long_idea_to_action():
    frame = load_scenario("oh-collaboration")
    found = _rules(frame)
    meetings = [
        ev[0]
        for rule, ev in found
        if rule == "missing_top_manager_feedback"
        and ev[0][s.ACTIVITY] == "feedback_meeting"
    ]
    assert len(meetings) == 1
    roles = {(p["organization"], p["role"]) for p in meetings[0][s.PARTICIPANTS]}
    assert ("EM", "specialist") in roles
    assert ("SP", "professional") in roles
    assert not any(r == "top_manager" for _, r in roles)
    stalled = [ev for rule, ev in found if rule == "stalled_idea_to_action"]
    # Seed 000: a year from idea to pilot, measured from the proposal.
    assert [[e[s.ACTIVITY] for e in ev] for ev in stalled] == [
        ["propose_idea", "start_action"]
    ]
    assert (stalled[0][1][s.TIMESTAMP] - stalled[0][0][s.TIMESTAMP]).days > 180
    orgs = {
        p["organization"]
        for ps in frame[s.PARTICIPANTS]
        for p in ps
        if p["role"] not in s.THIRD_PARTY_ROLES
    }
    assert orgs == {"EM", "SP"}


def test_urban_health_insurer_negotiations_are_exclusive_and_hide_objectives():
    frame = load_scenario("urban-health-partnership")
    found = _rules(frame)
    exclusive = [ev[0] for rule, ev in found if rule == "exclusive_decision"]
    assert exclusive
    assert {e[s.WORKSTREAM] for e in exclusive} <= {"insurers_HI1", "insurers_HI2_HI3"}
    hidden = [ev[0] for rule, ev in found if rule == "hidden_objective"]
    owners = {e[s.ORGANIZATION] for e in hidden}
    assert {"HI2", "HI3", "HC"} <= owners
    assert all(json.loads(e[s.ATTRIBUTES])["visibility"] == "private" for e in hidden)
    # service design and the phase III consortium never decide exclusively
    decisions = frame.filter(pl.col(s.ACTIVITY).is_in(list(s.DECISION_ACTIVITIES)))
    inclusive = decisions.filter(
        pl.col(s.WORKSTREAM).is_in(["service_design", "consortium"])
    )
    assert not set(inclusive[s.EVENT_ID]) & {e[s.EVENT_ID] for e in exclusive}


def test_urban_health_cast_and_timeline_follow_the_paper():
    frame = load_scenario("urban-health-partnership")
    people = (
        frame.select(s.TIMESTAMP, s.PARTICIPANTS)
        .explode(s.PARTICIPANTS)
        .unnest(s.PARTICIPANTS)
    )
    partners = people.filter(~pl.col("role").is_in(list(s.THIRD_PARTY_ROLES)))[
        "organization"
    ].unique()
    assert partners.len() == 11
    mediator = people.filter(pl.col("role") == "mediator")
    assert mediator["organization"].unique().to_list() == ["SHA"]
    assert mediator[s.TIMESTAMP].min().year == 2017
    physicians = (
        people.filter(pl.col("organization") == "PN")
        .group_by(pl.col(s.TIMESTAMP).dt.year())
        .agg(pl.col("actor").n_unique())
        .sort(s.TIMESTAMP)
    )
    assert physicians.filter(pl.col(s.TIMESTAMP) == 2019)["actor"].item() == 61
    left = frame.filter(pl.col(s.ACTIVITY) == "member_left")
    assert left[s.ORGANIZATION].to_list() == ["HC"]
    assert (frame[s.TIMESTAMP].min().year, frame[s.TIMESTAMP].max().year) == (
        2012,
        2019,
    )
    assert set(frame[s.WORKSTREAM].drop_nulls()) == {
        "insurers_HI1",
        "insurers_HI2_HI3",
        "service_design",
        "consortium",
    }


def test_unknown_scenario_is_not_found():
    with pytest.raises(NotFoundError, match="oh-collaboration"):
        load_scenario("nope")

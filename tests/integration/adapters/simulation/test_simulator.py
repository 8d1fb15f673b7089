"""The simulator: deterministic, honours the mix, and its truth matches docs/rules.md."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime

import polars as pl
import pytest

from adapters.simulation import (
    PROFILE_RULES,
    PROFILES,
    iter_simulation,
    parse_mix,
    simulate_partnerships,
    simulator,
    write_simulation,
)
from engine import schema as s
from engine.errors import ConfigError
from engine.validation import find_invalid_rows, normalize_input_frame
from tests.integration.adapters.simulation.rule_oracle import check_rules

START = datetime(2021, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def log():
    return simulate_partnerships(partnerships=360, seed=42, start=START)


def _truth_set(log):
    return {
        (r["partnership_id"], r["rule"], tuple(r["evidence"]))
        for r in log.truth_deviations.iter_rows(named=True)
    }


def test_same_seed_gives_identical_log_and_truth(log):
    again = simulate_partnerships(partnerships=360, seed=42, start=START)
    assert again.events.equals(log.events)
    assert again.truth_deviations.equals(log.truth_deviations)
    assert again.truth_partnerships.equals(log.truth_partnerships)
    other = simulate_partnerships(partnerships=360, seed=43, start=START)
    assert not other.events[s.EVENT_ID].is_in(log.events[s.EVENT_ID].implode()).any()


def test_frame_is_a_valid_input_frame(log):
    events = log.events
    assert events.schema == s.INPUT_SCHEMA
    assert find_invalid_rows(normalize_input_frame(events)).is_empty()
    assert events[s.EVENT_ID].n_unique() == events.height
    assert events[s.TIMESTAMP].dtype.time_zone == "UTC"
    # one timeline per partnership: timestamps strictly increase in frame order
    gaps = events.select(
        pl.col(s.TIMESTAMP).diff().over(s.PARTNERSHIP_ID).dt.total_microseconds()
    ).to_series()
    assert (gaps.drop_nulls() > 0).all()
    orgs = (
        events.select(s.PARTNERSHIP_ID, s.PARTICIPANTS)
        .explode(s.PARTICIPANTS)
        .group_by(s.PARTNERSHIP_ID)
        .agg(pl.col(s.PARTICIPANTS).struct.field("organization").n_unique().alias("n"))
    )
    assert orgs["n"].min() >= 2
    assert orgs["n"].max() <= 17  # 15 partners + a mediator + a facilitation firm


def test_profile_mix_is_honoured_exactly():
    mix = parse_mix("healthy=0.5,stalled=0.25,drifting=0.25")
    log = simulate_partnerships(partnerships=10, mix=mix, seed=1, start=START)
    counts = Counter(log.truth_partnerships["profile"].to_list())
    # 5, 2.5, 2.5: the remainder goes to the earlier profile
    assert counts == {"healthy": 5, "stalled": 3, "drifting": 2}
    onsets = log.truth_partnerships.filter(pl.col("profile") == "drifting")
    assert onsets["drift_onset"].null_count() == 0
    others = log.truth_partnerships.filter(pl.col("profile") != "drifting")
    assert others["drift_onset"].null_count() == others.height


def test_truth_agrees_with_a_brute_force_reading_of_the_rules(log):
    assert check_rules(log.events) == _truth_set(log)


def test_each_profile_injects_exactly_its_rules(log):
    profile = dict(
        log.truth_partnerships.select("partnership_id", "profile").iter_rows()
    )
    rules_of = log.truth_deviations.group_by("partnership_id").agg(
        pl.col("rule").unique()
    )
    got = {pid: set(rules) for pid, rules in rules_of.iter_rows()}
    for pid, name in profile.items():
        expected = set(PROFILE_RULES[name])
        assert got.get(pid, set()) == expected, (pid, name)
    assert set(profile.values()) == set(PROFILES)


def test_healthy_partnerships_have_no_deviation_and_keep_margins(log):
    healthy = log.truth_partnerships.filter(pl.col("profile") == "healthy")[
        "partnership_id"
    ]
    assert not log.truth_deviations["partnership_id"].is_in(healthy.implode()).any()
    events = log.events.filter(pl.col(s.PARTNERSHIP_ID).is_in(healthy.implode()))
    ideas = events.filter(
        pl.col(s.ACTIVITY).is_in(["agree_action_plan", "start_action"])
    )
    proposals = events.filter(
        pl.col(s.ACTIVITY).is_in(["propose_idea", "agree_action_plan", "start_action"])
    )
    # The stall is measured from the earlier of proposal and plan (180 days).
    waits = (
        proposals.with_columns(
            idea=pl.col(s.ATTRIBUTES).str.json_path_match("$.idea_id")
        )
        .group_by(s.PARTNERSHIP_ID, "idea")
        .agg(
            (
                pl.col(s.TIMESTAMP).filter(pl.col(s.ACTIVITY) == "start_action").min()
                - pl.col(s.TIMESTAMP).filter(pl.col(s.ACTIVITY) != "start_action").min()
            ).dt.total_days()
        )
    )
    assert waits[s.TIMESTAMP].max() <= 171
    lag = (
        ideas.with_columns(idea=pl.col(s.ATTRIBUTES).str.json_path_match("$.idea_id"))
        .group_by(s.PARTNERSHIP_ID, "idea")
        .agg(
            (
                pl.col(s.TIMESTAMP).filter(pl.col(s.ACTIVITY) == "start_action").min()
                - pl.col(s.TIMESTAMP)
                .filter(pl.col(s.ACTIVITY) == "agree_action_plan")
                .min()
            ).dt.total_days()
        )
    )
    assert lag[s.TIMESTAMP].min() >= 19
    assert lag[s.TIMESTAMP].max() <= 121


def test_stalled_and_absent_top_managers_are_what_they_claim(log):
    truth = log.truth_deviations
    by_id = {r[s.EVENT_ID]: r for r in log.events.iter_rows(named=True)}
    stalled = truth.filter(pl.col("rule") == "stalled_idea_to_action")
    assert stalled.height > 0
    for evidence in stalled["evidence"]:
        anchor = by_id[evidence[0]]
        idea = json.loads(anchor[s.ATTRIBUTES])["idea_id"]
        starts = [
            e
            for e in by_id.values()
            if e[s.PARTNERSHIP_ID] == anchor[s.PARTNERSHIP_ID]
            and e[s.ACTIVITY] == "start_action"
            and json.loads(e[s.ATTRIBUTES])["idea_id"] == idea
        ]
        assert all((e[s.TIMESTAMP] - anchor[s.TIMESTAMP]).days > 220 for e in starts)
    absent = truth.filter(pl.col("rule") == "missing_top_manager_feedback")
    for evidence in absent["evidence"]:
        meeting = by_id[evidence[0]]
        assert meeting[s.ACTIVITY] == "feedback_meeting"
        assert meeting[s.PHASE] == "execution"
        assert all(p["role"] != "top_manager" for p in meeting[s.PARTICIPANTS])


def test_batches_are_independent_of_how_they_are_consumed(tmp_path, monkeypatch):
    monkeypatch.setattr(simulator, "BATCH_SIZE", 50)
    n = 123
    whole = simulate_partnerships(partnerships=n, seed=9, start=START)
    out = write_simulation(
        iter_simulation(partnerships=n, seed=9, start=START), tmp_path
    )
    assert pl.read_parquet(out / "events.parquet").equals(whole.events)
    assert pl.read_parquet(out / "truth_partnerships.parquet").equals(
        whole.truth_partnerships
    )
    assert pl.read_parquet(out / "truth_deviations.parquet").equals(
        whole.truth_deviations
    )


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("healthy=1,unknown=2", "PROFILE"),
        ("healthy=x", "not a number"),
        ("healthy=-1", ">= 0"),
        ("healthy=0", "zero"),
    ],
)
def test_bad_mix_is_a_config_error(text, reason):
    with pytest.raises(ConfigError, match=reason):
        parse_mix(text)


def test_bad_arguments_are_config_errors():
    with pytest.raises(ConfigError, match="timezone-aware"):
        simulate_partnerships(partnerships=1, seed=1, start=datetime(2020, 1, 1))
    with pytest.raises(ConfigError, match=">= 1"):
        simulate_partnerships(partnerships=0, seed=1, start=START)
    with pytest.raises(ConfigError, match="non-negative"):
        simulate_partnerships(partnerships=1, seed=-1, start=START)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_truth_agrees_with_the_oracle_on_thousands_of_partnerships(seed):
    log = simulate_partnerships(partnerships=2000, seed=seed, start=START)
    assert check_rules(log.events) == _truth_set(log)

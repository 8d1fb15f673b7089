"""The rules recover the simulator's injected deviations (docs/rules.md is the contract)."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pytest

from adapters.simulation import RULES as SIMULATED_RULES
from adapters.simulation import simulate_partnerships
from engine.rules import RULES, RuleThresholds, detect_deviations
from engine.rules.scoring import score_deviations


@pytest.fixture(scope="module")
def simulated():
    log = simulate_partnerships(
        partnerships=300, seed=2024, start=datetime(2012, 1, 1, tzinfo=UTC)
    )
    found = detect_deviations(log.events, thresholds=RuleThresholds())
    return log, found


def test_both_sides_name_the_same_rules():
    assert tuple(SIMULATED_RULES) == RULES


def test_precision_and_recall_per_rule(simulated):
    log, found = simulated
    scores = score_deviations(found, log.truth_deviations)
    assert sorted(scores["rule"]) == sorted(RULES)
    low = scores.filter((pl.col("precision") < 0.95) | (pl.col("recall") < 0.95))
    assert low.is_empty(), low


def test_healthy_partnerships_have_no_deviation(simulated):
    log, found = simulated
    healthy = log.truth_partnerships.filter(pl.col("profile") == "healthy")[
        "partnership_id"
    ]
    assert healthy.len() > 0
    assert found.filter(pl.col("partnership_id").is_in(healthy.implode())).is_empty()


def test_hash_partitions_give_the_same_deviations(simulated):
    log, found = simulated
    assert found.height > 0
    for parts in (2, 7):
        parted = detect_deviations(
            log.events, thresholds=RuleThresholds(), partitions=parts
        )
        assert parted.equals(found)

"""The seed cases of DOMAIN.md raise the deviations their papers report."""

from __future__ import annotations

import polars as pl
import pytest

from adapters.scenarios import load_scenario
from engine.rules import RuleThresholds, detect_deviations


def _deviations(name: str) -> pl.DataFrame:
    return detect_deviations(load_scenario(name), thresholds=RuleThresholds())


@pytest.fixture(scope="module")
def oh() -> pl.DataFrame:
    return _deviations("oh-collaboration")


@pytest.fixture(scope="module")
def urban() -> pl.DataFrame:
    return _deviations("urban-health-partnership")


def test_oh_final_feedback_meeting_lacks_both_top_managers(oh):
    meetings = oh.filter(
        (pl.col("rule") == "missing_top_manager_feedback")
        & pl.col("message").str.starts_with("Feedback meeting")
    )
    (message,) = meetings["message"]
    assert message.endswith("had no top manager from EM, SP")


def test_oh_idea_to_action_lag_is_long(oh):
    (message,) = oh.filter(pl.col("rule") == "stalled_idea_to_action")["message"]
    days = int(message.split(" waited ")[1].split(" days")[0])
    assert days > 180


def test_urban_insurer_negotiations_are_exclusive_and_hide_objectives(urban):
    insurers = {"HI1", "HI2", "HI3"}
    exclusive = urban.filter(pl.col("rule") == "exclusive_decision")["message"]
    bilateral = [
        m for m in exclusive if m.endswith(tuple(f"(HC, {i})" for i in insurers))
    ]
    assert len(bilateral) >= 3
    hidden = urban.filter(pl.col("rule") == "hidden_objective")["message"].to_list()
    proposers = {m.split(" proposed by ")[1].split(" ")[0] for m in hidden}
    assert {"HC"} | (insurers - {"HI1"}) <= proposers
    assert all(m.endswith("was kept private") for m in hidden)

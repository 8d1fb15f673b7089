from __future__ import annotations

import pytest

from engine.errors import ConfigError
from engine.rules import RuleThresholds, thresholds_from_toml


def test_defaults_are_the_documented_ones():
    t = RuleThresholds()
    assert (t.stall_days, t.feedback_gap_days, t.conflict_days, t.hidden_days) == (
        180,
        180,
        120,
        180,
    )
    assert (t.exclusive_share, t.exclusive_min_orgs) == (0.5, 3)
    assert (t.commitment_window_days, t.commitment_drop, t.commitment_min_actors) == (
        90,
        0.3,
        3,
    )


def test_toml_overrides_some_and_keeps_the_rest():
    t = thresholds_from_toml("[thresholds]\nstall_days = 365\nexclusive_share = 0.4\n")
    assert (t.stall_days, t.exclusive_share, t.conflict_days) == (365, 0.4, 120)
    assert thresholds_from_toml("") == RuleThresholds()


def test_thresholds_are_frozen():
    with pytest.raises(ValueError, match="frozen"):
        RuleThresholds().stall_days = 3  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("[thresholds\n", "not valid TOML"),
        ("[rules]\nx = 1\n", "unknown top-level"),
        ("thresholds = 3\n", "must be a table"),
        ("[thresholds]\nstal_days = 3\n", "thresholds.stal_days"),
        ("[thresholds]\nstall_days = '3'\n", "thresholds.stall_days"),
        ("[thresholds]\nexclusive_share = 1.5\n", "thresholds.exclusive_share"),
        ("[thresholds]\nconflict_days = 0\n", "thresholds.conflict_days"),
    ],
)
def test_bad_files_raise_config_error_naming_the_file_and_key(text, needle):
    with pytest.raises(ConfigError, match=r"my\.toml") as info:
        thresholds_from_toml(text, source="my.toml")
    assert needle in str(info.value)

"""Deviation rules: the seven rules of DOMAIN.md, exact in docs/rules.md.

Each rule is a pure function from the prepared frame of whole partnerships to
its deviations; :func:`detect_deviations` runs them all over a log.
"""

from __future__ import annotations

from engine.rules.commitment import check_commitment_loss
from engine.rules.conflicts import check_unresolved_conflicts
from engine.rules.decisions import check_exclusive_decisions
from engine.rules.detection import RULE_CHECKS, RuleCheck, detect_deviations
from engine.rules.deviation import (
    DEVIATION_SCHEMA,
    RULES,
    SEQ,
    SEVERITIES,
    empty_deviations,
    prepare_events,
)
from engine.rules.feedback import check_top_manager_feedback
from engine.rules.ideas import check_stalled_ideas
from engine.rules.objectives import check_hidden_objectives
from engine.rules.phases import check_phase_order
from engine.rules.thresholds import RuleThresholds, thresholds_from_toml

__all__ = [
    "DEVIATION_SCHEMA",
    "RULES",
    "RULE_CHECKS",
    "SEQ",
    "SEVERITIES",
    "RuleCheck",
    "RuleThresholds",
    "check_commitment_loss",
    "check_exclusive_decisions",
    "check_hidden_objectives",
    "check_phase_order",
    "check_stalled_ideas",
    "check_top_manager_feedback",
    "check_unresolved_conflicts",
    "detect_deviations",
    "empty_deviations",
    "prepare_events",
    "thresholds_from_toml",
]

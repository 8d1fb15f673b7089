"""detect_deviations equals the rules run one by one: text ids, in text order."""

from __future__ import annotations

from datetime import timedelta

import polars as pl

from engine import schema as s
from engine.partners import partner_intervals
from engine.rules import (
    DEVIATION_SCHEMA,
    RULE_CHECKS,
    RuleThresholds,
    detect_deviations,
    prepare_events,
)
from tests.unit.engine.rules.conftest import build_log, team

THRESHOLDS = RuleThresholds(feedback_gap_days=20, exclusive_min_orgs=2)


def mixed_log() -> pl.DataFrame:
    """Partnerships whose first appearance order is not their text order."""
    rows = []
    for pid in ("zeta", "alpha", "mid"):
        rows += [
            {"id": f"{pid}-i", "pid": pid, "act": "initiate_partnership", "day": 0,
             "parts": team("A", "B", "C")},
            {"id": f"{pid}-x", "pid": pid, "act": "start_action", "day": 1,
             "parts": team("A")},
            {"id": f"{pid}-m", "pid": pid, "act": "feedback_meeting", "day": 40,
             "parts": team("A", role="top_manager")},
            {"id": f"{pid}-d", "pid": pid, "act": "agree_action_plan", "day": 41,
             "parts": team("A")},
            {"id": f"{pid}-l", "pid": pid, "act": "member_left", "day": 42, "org": "C"},
        ]  # fmt: skip
    return build_log(rows)


def test_deviations_carry_text_ids_in_text_order():
    out = detect_deviations(mixed_log(), thresholds=THRESHOLDS)
    assert out.schema == DEVIATION_SCHEMA
    ids = out["partnership_id"].to_list()
    assert set(ids) == {"zeta", "alpha", "mid"}
    assert ids == sorted(ids)


def test_deviations_equal_the_rules_run_on_text_ids():
    log = mixed_log()
    events = prepare_events(log).collect()
    as_of = events[s.TIMESTAMP].max() + timedelta(days=1)
    intervals = partner_intervals(events.lazy())
    direct = pl.concat(
        check(events.lazy(), thresholds=THRESHOLDS, as_of=as_of, intervals=intervals)
        for check in RULE_CHECKS.values()
    ).collect()
    assert direct.height > 0
    out = detect_deviations(log, thresholds=THRESHOLDS, as_of=as_of)
    order = ["partnership_id", "time", "rule", "message"]
    assert out.sort(order).equals(direct.sort(order))
    partitioned = detect_deviations(
        log, thresholds=THRESHOLDS, as_of=as_of, partitions=2
    )
    assert partitioned.equals(out)

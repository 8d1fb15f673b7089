from __future__ import annotations

from datetime import UTC, datetime, timedelta
from statistics import median
from uuid import UUID

import polars as pl
import pytest

from engine.alerts import (
    AlertRules,
    ProcessDriftRule,
    ScoreDriftRule,
    StatusCrossingRule,
)
from engine.drift import (
    compute_process_distance,
    detect_drift,
    detect_process_drift,
    detect_score_drift,
    detect_status_crossings,
)
from engine.events import NewEvent, Participant, new_events_to_frame
from engine.indicators import compute_indicators
from engine.windows import RollingWindows

T0 = datetime(2020, 1, 1, tzinfo=UTC)


def series(scores, *, pid="p", statuses=None, complete=None):
    n = len(scores)
    starts = [T0 + timedelta(days=30 * i) for i in range(n)]
    return pl.LazyFrame(
        {
            "partnership_id": [pid] * n,
            "window_index": list(range(n)),
            "period": [s.date().isoformat() for s in starts],
            "window_start": starts,
            "window_end": [s + timedelta(days=90) for s in starts],
            "alignment_score": scores,
            "status": statuses or [None] * n,
            "complete": complete or [True] * n,
        },
        schema_overrides={"alignment_score": pl.Float64, "status": pl.String},
    )


def page_hinkley_oracle(xs, *, delta, threshold, min_windows, smoothing):
    """Naive Page-Hinkley on a causal running median: first index of each alarm run."""
    total, m, top, fired, before = 0.0, 0.0, float("-inf"), [], False
    smoothed = [median(xs[max(0, i - smoothing + 1) : i + 1]) for i in range(len(xs))]
    for t, x in enumerate(smoothed, start=1):
        total += x
        m += x - total / t + delta
        top = max(top, m)
        alarm = top - m > threshold and t >= min_windows
        if alarm and not before:
            fired.append(t - 1)
        before = alarm
    return fired


@pytest.mark.parametrize(
    "xs",
    [
        [0.8] * 4 + [0.3] * 4,
        [0.8, 0.7, 0.9, 0.8, 0.75, 0.85],
        [0.9, 0.9, 0.2, 0.9, 0.9, 0.9, 0.1, 0.1, 0.1, 0.1],
        [0.5, 0.4, 0.3, 0.2, 0.1, 0.0],
    ],
)
def test_score_drift_matches_naive_page_hinkley(xs):
    rule = ScoreDriftRule()
    out = detect_score_drift(series(xs), rule=rule).collect()
    expected = page_hinkley_oracle(
        xs,
        delta=rule.delta,
        threshold=rule.threshold,
        min_windows=rule.min_windows,
        smoothing=rule.smoothing_windows,
    )
    got = [(d - T0).days // 30 for d in out["window_start"]]
    assert got == expected


def test_score_drift_reports_value_and_previous_mean():
    out = detect_score_drift(
        series([0.8] * 4 + [0.3] * 3), rule=ScoreDriftRule()
    ).collect()
    assert out.height == 1
    assert out["value"].item() == pytest.approx(0.3)
    assert out["baseline"].item() == pytest.approx(0.8)
    assert out["signal"].item() == "score_drift"


def test_score_drift_skips_nulls_and_incomplete_windows():
    xs = [0.8, None, 0.8, 0.8, 0.8, 0.3, 0.3]
    complete = [True] * 6 + [False]
    assert (
        detect_score_drift(series(xs, complete=complete), rule=ScoreDriftRule())
        .collect()
        .is_empty()
    )
    assert detect_score_drift(series(xs), rule=ScoreDriftRule()).collect().height == 1


def test_score_drift_ignores_a_single_window_dip():
    xs = [0.9, 0.9, 0.9, 0.9, 0.2, 0.9, 0.9, 0.9]
    assert detect_score_drift(series(xs), rule=ScoreDriftRule()).collect().is_empty()
    unsmoothed = ScoreDriftRule(smoothing_windows=1)
    assert detect_score_drift(series(xs), rule=unsmoothed).collect().height == 1


def test_score_drift_needs_min_windows():
    assert (
        detect_score_drift(series([0.9, 0.1]), rule=ScoreDriftRule(min_windows=3))
        .collect()
        .is_empty()
    )


def test_score_drift_is_per_partnership():
    both = pl.concat(
        [series([0.8] * 4 + [0.3] * 2, pid="a"), series([0.8] * 6, pid="b")]
    )
    out = detect_score_drift(both, rule=ScoreDriftRule()).collect()
    assert out["partnership_id"].to_list() == ["a"]


def test_status_crossings_only_downwards():
    statuses = ["aligned", "at_risk", "aligned", "disorder", "disorder", "at_risk"]
    out = detect_status_crossings(
        series([0.8, 0.5, 0.8, 0.1, 0.1, 0.5], statuses=statuses),
        rule=StatusCrossingRule(smoothing_windows=1),
    ).collect()
    assert [(d - T0).days // 30 for d in out["window_start"]] == [1, 3]
    assert out["message"].to_list()[0].startswith("status fell from aligned to at_risk")
    assert out["baseline"].to_list() == pytest.approx([0.8, 0.8])


def test_status_crossing_needs_the_worse_status_to_persist():
    # one window that caught few events cannot raise a crossing; a fall that
    # holds in 2 of the last 3 windows does, once per level
    statuses = ["aligned", "aligned", "disorder", "aligned", "aligned"]
    statuses += ["at_risk", "at_risk", "disorder", "disorder"]
    scores = [0.9, 0.9, 0.1, 0.9, 0.9, 0.5, 0.5, 0.1, 0.1]
    out = detect_status_crossings(series(scores, statuses=statuses)).collect()
    assert [(d - T0).days // 30 for d in out["window_start"]] == [6, 8]
    assert out["message"].to_list()[0].startswith("status fell from aligned to at_risk")
    assert (
        out["message"].to_list()[1].startswith("status fell from at_risk to disorder")
    )


EXECUTION = ("start_action", "report_progress", "feedback_meeting")
CHANGED = ("raise_conflict", "share_information", "resolve_conflict")
NEGOTIATION = ("explore_expectations", "negotiate_terms", "share_information")


def _process_log(switch_day, days=360, every=3, before=EXECUTION, after=CHANGED):
    events = []
    for i, day in enumerate(range(0, days, every)):
        cycle = after if day >= switch_day else before
        events.append(
            NewEvent(
                event_id=UUID(int=i + 1),
                partnership_id="p",
                activity=cycle[i % 3],
                timestamp=T0 + timedelta(days=day),
                participants=(
                    Participant(actor="a", organization="A", role="manager"),
                ),
            )
        )
    return new_events_to_frame(events)


def test_process_distance_is_zero_for_a_steady_process():
    spec = RollingWindows(timedelta(days=90), timedelta(days=30))
    out = compute_process_distance(
        _process_log(10_000).lazy(), windows=spec, rule=ProcessDriftRule()
    ).collect()
    measured = out.filter(pl.col("baseline_edges") > 0)
    assert measured.height > 0
    # window edges shift by one event at most: far below the 0.5 threshold
    assert measured["distance"].max() < 0.1


def test_process_drift_fires_once_when_the_process_changes():
    spec = RollingWindows(timedelta(days=90), timedelta(days=30))
    out = detect_process_drift(
        _process_log(180).lazy(), windows=spec, rule=ProcessDriftRule()
    ).collect()
    assert out.height == 1
    start = out["window_start"].item()
    # the first window holding enough new edges after day 180
    assert T0 + timedelta(days=90) <= start <= T0 + timedelta(days=180)
    assert out["value"].item() >= 0.5


def test_process_drift_ignores_a_lifecycle_stage_change():
    # negotiation activities, then execution ones: the reference lifecycle
    # moving on (its order is the rules' business), not a process drift
    spec = RollingWindows(timedelta(days=90), timedelta(days=30))
    log = _process_log(180, before=NEGOTIATION, after=EXECUTION)
    out = detect_process_drift(log.lazy(), windows=spec, rule=ProcessDriftRule())
    assert out.collect().is_empty()


def test_process_drift_needs_a_significant_change():
    # every 30 days: a window of 3 pairs cannot differ significantly from its
    # baseline, however different its pairs look
    spec = RollingWindows(timedelta(days=90), timedelta(days=30))
    sparse = _process_log(180, every=30)
    loose = ProcessDriftRule(min_edges=1)
    out = compute_process_distance(sparse.lazy(), windows=spec, rule=loose).collect()
    assert out["distance"].max() >= 0.5
    assert (
        detect_process_drift(sparse.lazy(), windows=spec, rule=loose)
        .collect()
        .is_empty()
    )
    assert (
        detect_process_drift(
            sparse.lazy(), windows=spec, rule=ProcessDriftRule(min_edges=1, alpha=0.99)
        )
        .collect()
        .height
        >= 1
    )


def test_detect_drift_applies_cooldown_and_disabled_rules():
    frame = _process_log(180)
    spec = RollingWindows(timedelta(days=90), timedelta(days=30))
    indicators = compute_indicators(frame, windows=spec)
    rules = AlertRules.model_validate(
        {"process_drift": {"threshold": 0.05, "min_edges": 1, "cooldown_days": 0}}
    )
    many = detect_drift(indicators, frame=frame, windows=spec, rules=rules)
    quiet = AlertRules.model_validate(
        {"process_drift": {"threshold": 0.05, "min_edges": 1, "cooldown_days": 1000}}
    )
    few = detect_drift(indicators, frame=frame, windows=spec, rules=quiet)
    assert few.filter(pl.col("signal") == "process_drift").height == 1
    assert many.filter(pl.col("signal") == "process_drift").height >= 1
    off = AlertRules.model_validate(
        {
            k: {"enabled": False}
            for k in ("score_drift", "status_crossing", "process_drift")
        }
    )
    assert detect_drift(indicators, frame=frame, windows=spec, rules=off).is_empty()

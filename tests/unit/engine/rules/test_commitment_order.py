"""commitment_loss gives the same deviations whatever the log's row order.

A log grouped by partnership in time order takes the sorted-key path (every
window's participants one slice); any other order takes the hashed path. Both
must agree on random logs with partner, third-party and own appearances.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import schema as s
from engine.rules import RuleThresholds, detect_deviations, prepare_events
from engine.rules.deviation import RUN, mark_partnership_runs
from tests.unit.engine.rules.conftest import build_log

if TYPE_CHECKING:
    import polars as pl

T = RuleThresholds(commitment_window_days=30, commitment_min_actors=2)
PEOPLE = [
    ("a1", "A"),
    ("a2", "A"),
    ("b1", "B"),
    ("b2", "B"),
    ("c1", "C"),
    ("m1", "M"),
]
ROLES = ["manager", "professional", "mediator", "facilitator", None]


@st.composite
def logs(draw):
    rows = []
    for p in range(draw(st.integers(1, 4))):
        for i in range(draw(st.integers(1, 12))):
            row = {
                "id": f"p{p}-{i}",
                "pid": f"p{p}",
                "day": draw(st.integers(0, 200)),
                "act": draw(
                    st.sampled_from(
                        ["report_progress", "mediate_conflict", "member_left"]
                    )
                ),
            }
            if draw(st.booleans()):
                people = draw(st.lists(st.sampled_from(PEOPLE), max_size=4))
                row["parts"] = [(a, o, draw(st.sampled_from(ROLES))) for a, o in people]
            else:
                actor, org = draw(st.sampled_from(PEOPLE))
                row |= {"actor": actor, "org": org}
            rows.append(row)
    return rows


def _found(frame: pl.DataFrame) -> list[tuple]:
    out = detect_deviations(frame, thresholds=T, rules=["commitment_loss"])
    return sorted(out.select("partnership_id", "time", "evidence", "message").rows())


def _takes_sorted_path(frame: pl.DataFrame) -> bool:
    return RUN in mark_partnership_runs(prepare_events(frame).collect()).columns


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(logs(), st.randoms(use_true_random=False))
def test_grouped_and_shuffled_logs_give_the_same_deviations(rows, rng):
    log = build_log(rows)
    grouped = log.sort(s.PARTNERSHIP_ID, s.TIMESTAMP, s.VERSION)
    order = list(range(log.height))
    rng.shuffle(order)
    shuffled = log[order]
    assert _takes_sorted_path(grouped)
    assert _found(grouped) == _found(shuffled)


def test_interleaved_partnerships_take_the_hashed_path_with_the_same_result():
    rows = [
        {
            "id": f"{p}{i}",
            "pid": p,
            "day": 40 * i,
            "act": "report_progress",
            "parts": [(f"{p}-{k}", "A" if k % 2 else "B", "manager") for k in range(n)],
        }
        for i, n in enumerate([6, 2, 6])
        for p in ("p1", "p2")
    ]
    interleaved = build_log(rows)
    grouped = interleaved.sort(s.PARTNERSHIP_ID, s.TIMESTAMP)
    assert not _takes_sorted_path(interleaved)
    assert _takes_sorted_path(grouped)
    found = _found(interleaved)
    assert [r[:3] for r in found] == [
        ("p1", grouped[s.TIMESTAMP][1] - timedelta(days=10), ["p11"]),
        ("p2", grouped[s.TIMESTAMP][1] - timedelta(days=10), ["p21"]),
    ]
    assert found == _found(grouped)

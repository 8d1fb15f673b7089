"""Process drift from pair counts: a subset of windows measures the same."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

import polars as pl
from polars.testing import assert_frame_equal

from engine.alerts import ProcessDriftRule
from engine.drift import (
    compute_process_distance,
    count_process_lookback,
    count_stage_edges,
    measure_process_distance,
    prepare_dfg_events,
)
from engine.events import NewEvent, Participant, new_events_to_frame
from engine.windows import RollingWindows

T0 = datetime(2020, 1, 1, tzinfo=UTC)
SPEC = RollingWindows(timedelta(days=90), timedelta(days=30))
CYCLES = {
    "p": ("start_action", "report_progress", "feedback_meeting"),
    "q": ("raise_conflict", "share_information", "resolve_conflict"),
}


def _log() -> pl.DataFrame:
    events: list[NewEvent] = []
    for pid, cycle in CYCLES.items():
        for i, day in enumerate(range(0, 400, 2 if pid == "p" else 3)):
            activity = cycle[(i + day // 150) % 3]
            events.append(
                NewEvent(
                    event_id=UUID(int=len(events) + 1),
                    partnership_id=pid,
                    activity=activity,
                    timestamp=T0 + timedelta(days=day),
                    participants=(
                        Participant(actor="a", organization="A", role="manager"),
                    ),
                )
            )
    return new_events_to_frame(events)


def test_measured_windows_read_the_same_from_kept_counts() -> None:
    rule = ProcessDriftRule()
    whole = compute_process_distance(_log().lazy(), windows=SPEC, rule=rule)
    counts = count_stage_edges(
        prepare_dfg_events(_log().lazy(), windows=SPEC), windows=SPEC
    ).collect()
    first = pl.DataFrame(
        {"case:concept:name": ["p", "q"], "window_index": [7, 4]},
        schema={"case:concept:name": pl.Categorical, "window_index": pl.Int64},
    )
    lookback = count_process_lookback(SPEC, rule=rule)
    # Only the counts a window's verdict reads: from lookback windows before it.
    needed = counts.join(first, on="case:concept:name", suffix="_first").filter(
        pl.col("window_index") >= pl.col("window_index_first") - lookback + 1
    )
    part = measure_process_distance(
        needed.drop("window_index_first").lazy(),
        windows=SPEC,
        rule=rule,
        # Each partnership's windows from its first on (a range: p's 7..99).
        measured=pl.concat(
            [first, first.with_columns(pl.lit(99, pl.Int64).alias("window_index"))]
        ).lazy(),
    ).collect()
    expected = (
        whole.collect()
        .join(first, on="case:concept:name", suffix="_first")
        .filter(pl.col("window_index") >= pl.col("window_index_first"))
        .drop("window_index_first")
    )
    key = ["case:concept:name", "window_index"]
    assert part.height == expected.height > 4
    # z sums chi-square terms in hash order: equal up to rounding.
    assert_frame_equal(part.sort(key), expected.sort(key), check_exact=False)

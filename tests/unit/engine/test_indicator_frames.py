"""The frames the indicator kernels share give the same answers as the whole log."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hypothesis import given, settings
from hypothesis import strategies as st

from engine import schema as s
from engine.indicator_frames import (
    encode_window_keys,
    prepare_indicator_events,
    select_membership_columns,
)
from engine.partners import partner_intervals
from tests.unit.engine.rules.conftest import build_log

if TYPE_CHECKING:
    import polars as pl

ORGS = ["A", "B", "C", "M", None]
ROLES = ["manager", "top_manager", "mediator", "researcher", None]
ACTIVITIES = ["feedback_meeting", "member_joined", "member_left", "share_information"]


@st.composite
def logs(draw: st.DrawFn) -> pl.DataFrame:
    rows = []
    for n in range(draw(st.integers(1, 14))):
        parts = draw(
            st.lists(
                st.tuples(st.sampled_from(ORGS), st.sampled_from(ROLES)), max_size=3
            )
        )
        rows.append(
            {
                "id": f"e{n}",
                "pid": draw(st.sampled_from(["p1", "p2"])),
                "act": draw(st.sampled_from(ACTIVITIES)),
                "day": draw(st.integers(0, 20)),
                "phase": None,
                "org": draw(st.sampled_from(ORGS)),
                "parts": [(None, o, r) for o, r in parts],
            }
        )
    return build_log(rows)


def _sorted(frame: pl.LazyFrame) -> pl.DataFrame:
    cols = [s.PARTNERSHIP_ID, s.ORGANIZATION, "active_from", "active_until"]
    return frame.collect().select(cols).sort(cols, nulls_last=True)


@settings(max_examples=25, deadline=None)
@given(log=logs())
def test_reduced_membership_frame_gives_the_same_partner_intervals(log):
    whole = partner_intervals(log.lazy().drop(s.VERSION))
    events = prepare_indicator_events(log.lazy(), by=None)
    reduced = partner_intervals(select_membership_columns(events))
    assert _sorted(reduced).equals(_sorted(whole))
    # Integer partnership codes (as compute_indicators keys them) change nothing
    # but the key.
    coded = encode_window_keys(events)
    names = coded.select(s.PARTNERSHIP_ID, "_partnership_name").unique()
    by_code = (
        partner_intervals(select_membership_columns(coded))
        .join(names, on=s.PARTNERSHIP_ID)
        .drop(s.PARTNERSHIP_ID)
        .rename({"_partnership_name": s.PARTNERSHIP_ID})
    )
    assert _sorted(by_code).equals(_sorted(whole))

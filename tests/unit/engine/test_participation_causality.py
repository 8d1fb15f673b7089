"""Indicators of a window never depend on events long after it.

An organization that leaves before it first takes part, takes part while
inactive, and rejoins much later: the rejoin must not change what the earlier
windows measured (``watch`` caches complete windows on that promise).
"""

from __future__ import annotations

import polars as pl
from polars.testing import assert_frame_equal

from engine.events import NewEvent, new_events_to_frame
from engine.indicators import compute_indicators
from engine.windows import RollingWindows
from tests.conftest import make_event


def _ev(
    n: int, activity: str, day: int, *orgs: str, org: str | None = None
) -> NewEvent:
    parts = tuple((o.lower(), o, "manager") for o in orgs)
    # Without participants, recorded by a mediator: ``org`` itself takes no part.
    return make_event(
        n,
        "p",
        activity,
        day=day,
        organization=org,
        participants=parts or (("m", "M", "mediator"),),
    )


LOG = [
    _ev(1, "initiate_partnership", 0, "A", "B", "D"),
    _ev(2, "member_left", 1, org="C"),
    _ev(3, "negotiate_terms", 100, "A", "C"),
    _ev(4, "define_values", 110, "C"),
    _ev(5, "assess_needs", 150, "A", "B"),
    _ev(6, "share_information", 250, "A"),
]
LATER = [
    _ev(7, "member_joined", 400, "C", org="C"),
    _ev(8, "report_progress", 500, "C"),
]


def test_a_late_rejoin_does_not_change_earlier_windows():
    spec = RollingWindows()
    before = compute_indicators(new_events_to_frame(LOG), windows=spec)
    after = compute_indicators(new_events_to_frame(LOG + LATER), windows=spec)
    done = before.filter(pl.col("complete")).height
    assert done > 0
    assert_frame_equal(before.head(done), after.head(done))


def test_taking_part_while_inactive_counts_in_the_population():
    spec = RollingWindows()
    rows = compute_indicators(new_events_to_frame(LOG + LATER), windows=spec)
    window = rows.filter(pl.col("period") == "2020-03-31").row(0, named=True)
    # Days 90-179: A 2 events, C 2, B 1, D none (A, B, D active; C left before
    # it first took part, so it took part while inactive, and counts too):
    # Gini of [2, 2, 1, 0] over 4 organizations.
    counts = [2, 2, 1, 0]
    total, n = sum(counts), len(counts)
    gini = sum(abs(x - y) for x in counts for y in counts) / (2 * n * total)
    assert window["participation_equality"] == 1 - gini

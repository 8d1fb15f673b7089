"""DOMAIN.md's indicator definitions read literally, on hand-built logs.

* transparency: the share of *all* ``share_information`` events sent to all
  (one without ``audience`` was not), and of all ``propose_objective`` events
  proposed as shared;
* top_manager_feedback: every active partner needs a top manager of its own;
  one from an organization that has left does not count for another.
"""

from __future__ import annotations

import pytest

from engine.events import NewEvent, new_events_to_frame
from engine.indicators import compute_indicators
from engine.windows import parse_periods
from tests.conftest import make_event

PERIOD = parse_periods("all:2020-01-01..2020-12-31")


def _ev(n, activity, day, parts=(), org=None, **attributes) -> NewEvent:
    return make_event(
        n,
        "p",
        activity,
        day=day,
        participants=parts,
        organization=org,
        attributes=attributes,
    )


def _row(events: list[NewEvent]) -> dict:
    rows = compute_indicators(new_events_to_frame(events), windows=PERIOD)
    assert rows.height == 1
    return rows.row(0, named=True)


A, B = ("a", "A", "manager"), ("b", "B", "manager")


def test_transparency_counts_events_without_the_attribute_as_not_open():
    row = _row(
        [
            _ev(1, "share_information", 1, (A, B), audience="all"),
            _ev(2, "share_information", 2, (A, B)),
            _ev(3, "propose_objective", 3, (A,), objective_id="o1"),
        ]
    )
    # mean(1/2 sent to all, 0/1 proposed as shared)
    assert row["transparency"] == pytest.approx(0.25)


def test_transparency_reads_the_vocabulary_case_insensitively():
    row = _row(
        [
            _ev(1, "share_information", 1, (A, B), audience="ALL"),
            _ev(
                2, "propose_objective", 3, (A,), objective_id="o1", visibility="Shared"
            ),
        ]
    )
    assert row["transparency"] == 1.0


def test_a_departed_partners_top_manager_does_not_stand_in_for_an_active_one():
    top = lambda o: (o.lower() + "_top", o, "top_manager")  # noqa: E731
    row = _row(
        [
            _ev(1, "initiate_partnership", 0, (A, B, ("c", "C", "manager"))),
            _ev(2, "member_left", 8, (("c", "C", "manager"),), org="C"),
            # B has only a manager: C's top manager must not count for it.
            _ev(3, "feedback_meeting", 9, (top("A"), top("C"), B)),
            _ev(4, "feedback_meeting", 10, (top("A"), top("B"))),
        ]
    )
    assert row["top_manager_feedback"] == 0.5

"""Attributes are a dict of scalars (DOMAIN.md): ``objective_ids`` may be one string.

A hand-encoded log often names the agreed objectives as ``"o1"`` or
``"o1, o2"`` rather than a JSON list; rules and indicators must read all forms alike.
"""

from __future__ import annotations

from uuid import UUID

import pytest

from engine.events import NewEvent, new_events_to_frame
from engine.indicators import compute_indicators
from engine.rules import RuleThresholds, detect_deviations
from engine.windows import parse_periods
from tests.conftest import make_event

TEAM = (("a", "A", "manager"), ("b", "B", "manager"))


def _log(agreed: object) -> list[NewEvent]:
    def ev(n: int, activity: str, day: int, **attributes: object) -> NewEvent:
        return make_event(
            n, "p", activity, day=day, participants=TEAM, attributes=attributes
        )

    return [
        ev(1, "propose_objective", 0, objective_id="o1"),
        ev(2, "propose_objective", 1, objective_id="o2"),
        ev(3, "agree_objectives", 10, objective_ids=agreed),
        ev(4, "share_information", 400, audience="all"),
    ]


@pytest.mark.parametrize(
    ("agreed", "hidden", "convergence"),
    [
        (["o1", "o2"], [], 1.0),
        ("o1, o2", [], 1.0),
        ("o1,o2", [], 1.0),
        ("o1", [2], 0.5),
        (["o1"], [2], 0.5),
    ],
)
def test_objective_ids_as_list_or_comma_separated_string(agreed, hidden, convergence):
    frame = new_events_to_frame(_log(agreed))
    deviations = detect_deviations(
        frame, thresholds=RuleThresholds(), rules=["hidden_objective"]
    )
    assert deviations["evidence"].to_list() == [[str(UUID(int=n))] for n in hidden]
    periods = parse_periods("all:2020-01-01..2021-12-31")
    row = compute_indicators(frame, windows=periods).row(0, named=True)
    assert row["objective_convergence"] == convergence

"""Shared fixtures: deterministic clocks, event builders, paths to shared data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import pytest

from engine.events import NewEvent, Participant

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
LOGS = SHARED / "data" / "logs"


class TickingClock:
    """A clock that advances one second each time it is read."""

    def __init__(self, start: datetime | None = None) -> None:
        self._t = start or datetime(2030, 1, 1, tzinfo=UTC)

    def now(self) -> datetime:
        self._t += timedelta(seconds=1)
        return self._t


@pytest.fixture
def clock() -> TickingClock:
    return TickingClock()


def make_event(
    n: int,
    partnership_id: str = "p1",
    activity: str = "explore_expectations",
    *,
    day: int = 0,
    participants: tuple[tuple[str, str, str], ...] = (),
    timestamp: datetime | None = None,
    **fields: object,
) -> NewEvent:
    """Build a valid event with a deterministic id derived from ``n``."""
    return NewEvent(
        event_id=UUID(int=n),
        partnership_id=partnership_id,
        activity=activity,
        timestamp=timestamp or datetime(2020, 1, 1, tzinfo=UTC) + timedelta(days=day),
        participants=tuple(
            Participant(actor=a, organization=o, role=r)  # type: ignore[arg-type]
            for a, o, r in participants
        ),
        **fields,  # type: ignore[arg-type]
    )


@pytest.fixture
def event_factory():  # type: ignore[no-untyped-def]
    return make_event

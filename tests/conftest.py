"""Shared fixtures: deterministic clocks, event builders, paths to shared data."""

from __future__ import annotations

import sqlite3
from contextlib import closing
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


def update_behind_trigger(
    path: Path | str, trigger: str, *statements: tuple[str, tuple[object, ...]]
) -> None:
    """Tamper with a SQLite store file: run ``statements`` with ``trigger`` lifted.

    The append-only trigger is dropped, the statements run and the trigger is
    restored, all in one transaction, on one connection. Prefer no store open
    on the file: two SQLite libraries in one process (the stdlib's and the
    ADBC driver's) do not see each other's locks, and closing a second stdlib
    connection beside an open store can corrupt it.
    """
    with closing(sqlite3.connect(path, isolation_level=None)) as con:
        (ddl,) = con.execute(
            "SELECT sql FROM sqlite_master WHERE name = ?", (trigger,)
        ).fetchone()
        con.execute("BEGIN IMMEDIATE")
        con.execute(f"DROP TRIGGER {trigger}")
        for sql, parameters in statements:
            con.execute(sql, parameters)
        con.execute(ddl)
        con.execute("COMMIT")

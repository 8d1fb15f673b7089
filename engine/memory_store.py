"""The in-memory event store: the reference adapter of :class:`engine.ports.EventStore`.

Examples
--------
>>> from datetime import datetime, timezone
>>> from uuid import UUID
>>> from engine.events import NewEvent
>>> class FixedClock:
...     def now(self):
...         return datetime(2024, 1, 1, tzinfo=timezone.utc)
>>> store = MemoryEventStore(clock=FixedClock())
>>> e = NewEvent(event_id=UUID(int=1), partnership_id="p", activity="initiate_partnership",
...              timestamp=datetime(2020, 1, 1, tzinfo=timezone.utc))
>>> [r.version for r in store.append("p", [e], expected_version=0)]
[1]
>>> store.verify().ok
True
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import polars as pl

from engine import schema as s
from engine.errors import ConcurrencyError
from engine.events import frame_to_recorded_events
from engine.recording import (
    HEADS_SCHEMA,
    AppendPlan,
    order_as_batch,
    plan_append,
    prepare_frame_batch,
    prepare_stream_batch,
    verify_event_frame,
)
from engine.upcasting import upcast_event_frame

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from engine.events import NewEvent, RecordedEvent
    from engine.ports import AppendReport, Checkpoint, Clock
    from engine.recording import VerifyReport

__all__ = ["MemoryEventStore", "select_events"]


def select_events(
    frame: pl.LazyFrame,
    *,
    partnerships: Sequence[str] | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> pl.LazyFrame:
    """Return events of the given partnerships with ``start <= timestamp < end``."""
    if partnerships is not None:
        frame = frame.filter(pl.col(s.PARTNERSHIP_ID).is_in(list(partnerships)))
    if start is not None:
        frame = frame.filter(pl.col(s.TIMESTAMP) >= start)
    if end is not None:
        frame = frame.filter(pl.col(s.TIMESTAMP) < end)
    return frame


class MemoryEventStore:
    """An :class:`engine.ports.EventStore` held in one polars frame.

    Parameters
    ----------
    clock
        Supplies ``recorded_at``.
    """

    def __init__(self, *, clock: Clock) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._events = pl.DataFrame(schema=s.EVENT_SCHEMA)
        self._checkpoints: dict[str, int] = {}

    # -- writing -------------------------------------------------------------
    def append(
        self,
        partnership_id: str,
        events: Sequence[NewEvent],
        *,
        expected_version: int | None = None,
    ) -> list[RecordedEvent]:
        """Append ``events`` to one stream; see :class:`engine.ports.EventStore`."""
        batch = prepare_stream_batch(partnership_id, events)
        with self._lock:
            plan = self._plan(batch)
            if not plan.new_rows.is_empty() and expected_version is not None:
                actual = self._version_of(partnership_id)
                if actual != expected_version:
                    raise ConcurrencyError(partnership_id, expected_version, actual)
            self._events = pl.concat([self._events, plan.new_rows])
            ids = batch[s.EVENT_ID]
            stored = self._events.filter(pl.col(s.EVENT_ID).is_in(ids.implode()))
        return order_as_batch(batch, stored)

    def append_frame(
        self, frame: pl.DataFrame, *, checkpoint: Checkpoint | None = None
    ) -> AppendReport:
        """Append a frame spanning any partnerships; see :class:`engine.ports.EventStore`."""
        batch = prepare_frame_batch(frame)
        with self._lock:
            plan = self._plan(batch)
            self._events = pl.concat([self._events, plan.new_rows])
            if checkpoint is not None:
                self._checkpoints[checkpoint.name] = checkpoint.position
        return plan.report()

    def _plan(self, batch: pl.DataFrame) -> AppendPlan:
        existing = self._events.join(
            batch.select(s.EVENT_ID), on=s.EVENT_ID, how="semi"
        ).select(s.EVENT_ID, s.CONTENT_HASH)
        touched = batch[s.PARTNERSHIP_ID].unique().implode()
        heads = (
            self._events.filter(pl.col(s.PARTNERSHIP_ID).is_in(touched))
            .group_by(s.PARTNERSHIP_ID)
            .agg(pl.all().sort_by(s.VERSION).last())
            .select(HEADS_SCHEMA.names())
            .cast(HEADS_SCHEMA)
        )
        return plan_append(
            batch,
            existing=existing,
            heads=heads,
            next_position=self.head_position() + 1,
            recorded_at=self._clock.now(),
        )

    # -- reading -------------------------------------------------------------
    def _version_of(self, partnership_id: str) -> int:
        versions = self._events.filter(pl.col(s.PARTNERSHIP_ID) == partnership_id)[
            s.VERSION
        ]
        return (
            int(pl.select(versions.max()).fill_null(0).item()) if versions.len() else 0
        )

    def stream_version(self, partnership_id: str) -> int:
        """Return a partnership's current version (0 when it has none)."""
        return self._version_of(partnership_id)

    def head_position(self) -> int:
        """Return the highest global position (0 when empty)."""
        return int(self._events.select(pl.col(s.POSITION).max().fill_null(0)).item())

    def read_stream(
        self, partnership_id: str, *, from_version: int = 1
    ) -> list[RecordedEvent]:
        """Return one partnership's events from ``from_version`` on."""
        rows = self._events.filter(
            (pl.col(s.PARTNERSHIP_ID) == partnership_id)
            & (pl.col(s.VERSION) >= from_version)
        ).sort(s.VERSION)
        return frame_to_recorded_events(upcast_event_frame(rows))

    def read_all(
        self, *, from_position: int = 1, limit: int | None = None
    ) -> pl.DataFrame:
        """Return events in global order from ``from_position`` on."""
        rows = self._events.filter(pl.col(s.POSITION) >= from_position).sort(s.POSITION)
        if limit is not None:
            rows = rows.head(limit)
        return upcast_event_frame(rows)

    def to_frame(
        self,
        *,
        partnerships: Sequence[str] | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> pl.DataFrame:
        """Return the event frame of selected partnerships and time range."""
        lf = select_events(
            self._events.lazy(), partnerships=partnerships, start=start, end=end
        )
        return upcast_event_frame(lf.sort(s.POSITION).collect())

    def read_checkpoint(self, name: str) -> int:
        """Return a named checkpoint's position (0 when never stored)."""
        return self._checkpoints.get(name, 0)

    def verify(self) -> VerifyReport:
        """Return the verification of every hash chain."""
        return verify_event_frame(self._events)

    def close(self) -> None:
        """Nothing to release."""

    # -- test seam -----------------------------------------------------------
    def tamper(self, position: int, column: str, value: object) -> None:
        """Overwrite one stored field, bypassing the log's guarantees (tests only).

        The in-memory twin of editing a row with SQL behind the store's back.
        """
        self._events = self._events.with_columns(
            pl.when(pl.col(s.POSITION) == position)
            .then(pl.lit(value))
            .otherwise(pl.col(column))
            .alias(column)
        )

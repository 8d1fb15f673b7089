"""The ports (Protocols) the engine needs from the outside world.

Adapters implement them; :mod:`engine.memory_store` is the reference
in-memory :class:`EventStore`, and the default in tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime
    from pathlib import Path

    import polars as pl

    from engine.events import NewEvent, RecordedEvent
    from engine.recording import VerifyReport

__all__ = [
    "AlertSink",
    "AppendReport",
    "Checkpoint",
    "Clock",
    "ConformanceChecker",
    "EventStore",
    "ModelDiscoverer",
    "ProcessModel",
]


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A named position, stored in the same transaction as a batch.

    ``watch`` uses it to resume exactly where it stopped.
    """

    name: str
    position: int


@dataclass(frozen=True, slots=True)
class AppendReport:
    """What a bulk append did."""

    appended: int
    duplicates: int
    first_position: int | None
    last_position: int | None


class Clock(Protocol):
    """Tells the time; the engine never reads the system clock itself."""

    def now(self) -> datetime:
        """Return the current time, timezone-aware."""
        ...


@runtime_checkable
class EventStore(Protocol):
    """An append-only, hash-chained log of partnership events.

    Guarantees (tested once, for every store, in ``tests/contract``):

    * per partnership, versions are 1.. gapless; globally, positions increase
      in commit order;
    * ``append`` with an ``expected_version`` that is not the stream's current
      version raises :class:`engine.errors.ConcurrencyError` and writes nothing;
    * an event id appended again with the same content is a no-op returning the
      original; with other content, :class:`engine.errors.DuplicateEventError`;
    * a batch is written whole or not at all;
    * stored events are never updated or deleted; ``verify`` detects edits.
    """

    def append(
        self,
        partnership_id: str,
        events: Sequence[NewEvent],
        *,
        expected_version: int | None = None,
    ) -> list[RecordedEvent]:
        """Append ``events`` to one partnership's stream; return them as recorded."""
        ...

    def append_frame(
        self, frame: pl.DataFrame, *, checkpoint: Checkpoint | None = None
    ) -> AppendReport:
        """Append a validated input frame spanning any partnerships, atomically."""
        ...

    def read_stream(
        self, partnership_id: str, *, from_version: int = 1
    ) -> list[RecordedEvent]:
        """Return one partnership's events from ``from_version`` on."""
        ...

    def read_all(
        self, *, from_position: int = 1, limit: int | None = None
    ) -> pl.DataFrame:
        """Return events in global order from ``from_position`` on (event frame)."""
        ...

    def to_frame(
        self,
        *,
        partnerships: Sequence[str] | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> pl.DataFrame:
        """Return the event frame of selected partnerships and time range."""
        ...

    def stream_version(self, partnership_id: str) -> int:
        """Return a partnership's current version (0 when it has no events)."""
        ...

    def head_position(self) -> int:
        """Return the highest global position (0 when the store is empty)."""
        ...

    def read_checkpoint(self, name: str) -> int:
        """Return a named checkpoint's position (0 when never stored)."""
        ...

    def verify(self) -> VerifyReport:
        """Return the verification of every hash chain in the store."""
        ...

    def close(self) -> None:
        """Release the store's resources."""
        ...


class AlertSink(Protocol):
    """Delivers alerts somewhere (stdout, a JSON Lines file, a webhook)."""

    def deliver(self, alerts: Sequence[dict[str, object]]) -> None:
        """Deliver ``alerts``; raise :class:`engine.errors.AdapterError` on failure."""
        ...


class ProcessModel(Protocol):
    """A process model held by an adapter (Petri net, process tree, BPMN).

    The engine never looks inside; it passes models between a
    :class:`ModelDiscoverer`, a :class:`ConformanceChecker` and a writer.
    """

    @property
    def kind(self) -> str:
        """Return what the model is (``petri_net``, ``process_tree``, ``bpmn``...)."""
        ...

    def write_model(self, path: Path) -> None:
        """Write the model to ``path``; the extension picks the format."""
        ...


class ModelDiscoverer(Protocol):
    """Discovers a process model from an event frame (inductive, heuristics...)."""

    def discover_model(
        self,
        frame: pl.DataFrame,
        *,
        algorithm: str,
        noise_threshold: float | None = None,
    ) -> ProcessModel:
        """Return the model ``algorithm`` discovers from ``frame``."""
        ...


class ConformanceChecker(Protocol):
    """Replays partnerships on a model; one fitness row per partnership."""

    def check_fitness(
        self,
        frame: pl.DataFrame,
        *,
        model: ProcessModel | None = None,
        method: str = "token",
    ) -> pl.DataFrame:
        """Return ``case:concept:name``, ``variant_id``, ``fitness``, ``is_fit``, ..."""
        ...

"""Session fixtures of the store benchmarks: seeded input frames by size.

Sizes are parametrize ids (``1e5``, ``1e6``); the largest is marked slow, so
``make bench`` runs 1e5 and ``-m slow`` (or ``-m "slow or not slow"``) adds 1e6.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from adapters.clock import SystemClock
from adapters.storage.sqlite import SqliteEventStore
from benchmarks.data import generate_input_frame

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    import polars as pl

SIZES = [
    pytest.param(100_000, id="1e5"),
    pytest.param(1_000_000, id="1e6", marks=pytest.mark.slow),
]
EVENTS_PER_PARTNERSHIP = 500

_FRAMES: dict[int, pl.DataFrame] = {}


def input_frame_of(n_events: int) -> pl.DataFrame:
    """Return the (cached) synthetic input frame of ``n_events`` events."""
    if n_events not in _FRAMES:
        _FRAMES[n_events] = generate_input_frame(
            n_events=n_events,
            n_partnerships=max(1, n_events // EVENTS_PER_PARTNERSHIP),
            seed=42,
        )
    return _FRAMES[n_events]


@pytest.fixture(scope="session", params=SIZES)
def input_frame(request: pytest.FixtureRequest) -> pl.DataFrame:
    return input_frame_of(request.param)


def new_sqlite_store(folder: Path) -> SqliteEventStore:
    return SqliteEventStore(folder / "store.db", clock=SystemClock(), create=True)


@pytest.fixture(scope="session")
def filled_sqlite(
    input_frame: pl.DataFrame, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SqliteEventStore]:
    """A SQLite store holding ``input_frame``, shared by the read benchmarks."""
    store = new_sqlite_store(tmp_path_factory.mktemp("filled"))
    store.append_frame(input_frame)
    yield store
    store.close()

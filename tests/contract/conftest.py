"""One parametrized fixture gives the contract suite every store adapter.

Each entry builds a :class:`StoreHarness`: the store, plus the raw back doors a
contract test needs (editing a row behind the store's back, trying an UPDATE).
Add a store by adding one factory to ``_FACTORIES``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

from engine.memory_store import MemoryEventStore
from tests.conftest import TickingClock

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from engine.ports import EventStore


@dataclass
class StoreHarness:
    store: EventStore
    # Overwrite one stored column of the event at `position`, bypassing guards.
    tamper: Callable[[int, str, Any], None]
    # Try a plain UPDATE through the backend; must raise. None: not applicable.
    raw_update: Callable[[int], None] | None
    # Open a second, independent handle on the same store (None: in-process only).
    reopen: Callable[[], EventStore] | None


def _memory(tmp_path: Path) -> Iterator[StoreHarness]:
    store = MemoryEventStore(clock=TickingClock())
    yield StoreHarness(store=store, tamper=store.tamper, raw_update=None, reopen=None)


_FACTORIES: dict[str, Callable[[Path], Iterator[StoreHarness]]] = {
    "memory": _memory,
}


@pytest.fixture(params=sorted(_FACTORIES))
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreHarness]:
    gen = _FACTORIES[request.param](tmp_path)
    h = next(gen)
    try:
        yield h
    finally:
        h.store.close()
        next(gen, None)

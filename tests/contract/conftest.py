"""One parametrized fixture gives the contract suite every store adapter.

Each entry builds a :class:`StoreHarness`: the store, plus the raw back doors a
contract test needs (editing a row behind the store's back, trying an UPDATE).
Add a store by adding one factory to ``_FACTORIES``.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

from engine import schema as s
from engine.memory_store import MemoryEventStore
from tests.conftest import TickingClock, update_behind_trigger

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


POSTGRES_ENV = "PARTNERMINE_TEST_POSTGRES"
POSTGRES_HINT = (
    f"PostgreSQL tests skipped: set {POSTGRES_ENV}=postgresql://... "
    "or run `bash .ci/postgres.sh` (then `set -a; . .ci/postgres.env; set +a`)"
)


def postgres_schema_url(base: str, schema: str) -> str:
    """A URL whose connections use ``schema`` (libpq `options`)."""
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{schema}"


@contextlib.contextmanager
def fresh_postgres_schema() -> Iterator[str]:
    """Yield the URL of a new, empty schema; drop it afterwards (skip without a server)."""
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(POSTGRES_HINT)
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield postgres_schema_url(base, schema)
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


def _postgres(tmp_path: Path) -> Iterator[StoreHarness]:
    import psycopg

    from adapters.storage.postgres import DB_COLUMNS, PostgresEventStore

    with fresh_postgres_schema() as url:
        store = PostgresEventStore(url, clock=TickingClock(), create=True)

        def tamper(position: int, column: str, value: Any) -> None:
            raw = value.encode() if isinstance(value, str) else value
            with psycopg.connect(url, autocommit=True) as conn, conn.transaction():
                conn.execute("ALTER TABLE pm_events DISABLE TRIGGER USER")
                conn.execute(
                    f"UPDATE pm_events SET {DB_COLUMNS[column]} = %s "
                    "WHERE position = %s",
                    (raw, position),
                )
                conn.execute("ALTER TABLE pm_events ENABLE TRIGGER USER")

        def raw_update(position: int) -> None:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(
                    "UPDATE pm_events SET version = version WHERE position = %s",
                    (position,),
                )

        def reopen() -> EventStore:
            return PostgresEventStore(url, clock=TickingClock())

        yield StoreHarness(
            store=store, tamper=tamper, raw_update=raw_update, reopen=reopen
        )


def _sqlite(tmp_path: Path) -> Iterator[StoreHarness]:
    import sqlite3

    from adapters.storage.sqlite import SqliteEventStore

    path = tmp_path / "store.db"
    store = SqliteEventStore(path, clock=TickingClock(), create=True)

    def tamper(position: int, column: str, value: Any) -> None:
        # Behind the store's back: lift the append-only trigger, edit, restore.
        coded = {s.ACTIVITY: "activity", s.PHASE: "phase", s.ACTOR: "actor"}
        if column in coded:
            update_behind_trigger(
                path,
                "events_no_update",
                ("INSERT OR IGNORE INTO terms (text) VALUES (?)", (value,)),
                (
                    f"UPDATE events SET {coded[column]} = "
                    "(SELECT id FROM terms WHERE text = ?) WHERE position = ?",
                    (value, position),
                ),
            )
        else:
            update_behind_trigger(
                path,
                "events_no_update",
                (
                    f"UPDATE events SET {column} = ? WHERE position = ?",
                    (value, position),
                ),
            )

    def raw_update(position: int) -> None:
        con = sqlite3.connect(path)
        try:
            con.execute(
                "UPDATE events SET attributes = '{}' WHERE position = ?", (position,)
            )
            con.commit()
        finally:
            con.close()

    def reopen() -> EventStore:
        return SqliteEventStore(path, clock=TickingClock())

    yield StoreHarness(store=store, tamper=tamper, raw_update=raw_update, reopen=reopen)


def _sqlite_segments(tmp_path: Path) -> Iterator[StoreHarness]:
    # Every batch of 2+ events goes to a columnar segment, single events are
    # sealed in pairs: the contract then runs on the segment path.
    import sqlite3

    import polars as pl

    from adapters.storage._sqlite_segments import decode_segment, encode_segment
    from adapters.storage.sqlite import SqliteEventStore

    path = tmp_path / "store.db"
    store = SqliteEventStore(path, clock=TickingClock(), create=True, seal_events=2)

    def tamper(position: int, column: str, value: Any) -> None:
        # Behind the store's back: rewrite the segment holding `position`. It
        # is read and rewritten on one connection: closing a second stdlib
        # connection while the store is open can corrupt the file.
        con = sqlite3.connect(path, isolation_level=None)
        try:
            found = con.execute(
                "SELECT first_position, data FROM segments "
                "WHERE ? BETWEEN first_position AND last_position",
                (position,),
            ).fetchone()
            assert found is not None, f"position {position} is not in a segment"
            first, data = found
            frame = decode_segment(data)
            edited = frame.with_columns(
                pl.when(pl.col(s.POSITION) == position)
                .then(pl.lit(value, frame.schema[column]))
                .otherwise(pl.col(column))
                .alias(column)
            )
            (trigger,) = con.execute(
                "SELECT sql FROM sqlite_master WHERE name = 'segments_no_update'"
            ).fetchone()
            con.execute("BEGIN IMMEDIATE")
            con.execute("DROP TRIGGER segments_no_update")
            con.execute(
                "UPDATE segments SET data = ? WHERE first_position = ?",
                (encode_segment(edited), first),
            )
            con.execute(trigger)
            con.execute("COMMIT")
        finally:
            con.close()

    def raw_update(position: int) -> None:
        # The event is a segment's or (not yet sealed) a row's: try both.
        con = sqlite3.connect(path)
        try:
            con.execute(
                "UPDATE segments SET format = format "
                "WHERE ? BETWEEN first_position AND last_position",
                (position,),
            )
            con.execute(
                "UPDATE events SET attributes = '{}' WHERE position = ?", (position,)
            )
            con.commit()
        finally:
            con.close()

    def reopen() -> EventStore:
        return SqliteEventStore(path, clock=TickingClock(), seal_events=2)

    yield StoreHarness(store=store, tamper=tamper, raw_update=raw_update, reopen=reopen)


_FACTORIES: dict[str, Callable[[Path], Iterator[StoreHarness]]] = {
    "memory": _memory,
    "postgres": _postgres,
    "sqlite": _sqlite,
    "sqlite-segments": _sqlite_segments,
}


_MARKS = {"postgres": [pytest.mark.postgres]}


@pytest.fixture(
    params=[
        pytest.param(name, marks=_MARKS.get(name, [])) for name in sorted(_FACTORIES)
    ]
)
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreHarness]:
    gen = _FACTORIES[request.param](tmp_path)
    h = next(gen)
    try:
        yield h
    finally:
        h.store.close()
        next(gen, None)

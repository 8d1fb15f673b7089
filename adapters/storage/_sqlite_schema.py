"""The SQLite event store's tables, triggers and connection settings.

Layout (chosen for bulk speed, see ``adapters/storage/sqlite.py``):

* ``events``: the log itself, one row per event, ``position`` its INTEGER
  PRIMARY KEY (the global order, so new rows are always appended at the end of
  the table's B-tree); strings are integer ids into ``partnerships`` and
  ``terms``; timestamps are UTC microseconds plus the offset in seconds; event
  ids and hashes are raw bytes (16 and 32);
* ``event_ids``: event id -> (position, content hash), the UNIQUE key that
  makes appends idempotent;
* ``streams``: (partnership, version) -> (position, chain hash), the UNIQUE
  key behind optimistic concurrency; its last row per partnership is the head
  a new event chains from;
* ``segments``: runs of consecutive positions as Arrow IPC (see
  ``adapters/storage/_sqlite_segments.py``). Bulk batches are stored there
  only; small appends are rows of ``events`` until sealed into a segment.

The two keys are clustered ``WITHOUT ROWID`` tables rather than indexes of
``events`` so that a batch can insert into each in its own key order: random
UUIDs inserted in position order would touch a random B-tree page per event.

Triggers make all four tables append-only.
"""

from __future__ import annotations

from typing import Final

__all__ = ["APPEND_ONLY_TABLES", "PRAGMAS", "SCHEMA", "STORE_FORMAT"]

STORE_FORMAT: Final = "2"

APPEND_ONLY_TABLES: Final = ("events", "event_ids", "streams", "segments")

_TABLES: Final = (
    """CREATE TABLE IF NOT EXISTS meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS partnerships (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE
    )""",
    """CREATE TABLE IF NOT EXISTS terms (
        id INTEGER PRIMARY KEY,
        text TEXT NOT NULL UNIQUE
    )""",
    """CREATE TABLE IF NOT EXISTS events (
        position INTEGER PRIMARY KEY,
        event_id BLOB NOT NULL,
        partnership INTEGER NOT NULL,
        version INTEGER NOT NULL,
        activity INTEGER NOT NULL,
        timestamp_us INTEGER NOT NULL,
        tz_offset_s INTEGER NOT NULL,
        phase INTEGER,
        actor INTEGER,
        organization INTEGER,
        participants TEXT,
        workstream INTEGER,
        attributes TEXT,
        schema_version INTEGER NOT NULL,
        recorded_at_us INTEGER NOT NULL,
        content_hash BLOB NOT NULL,
        hash BLOB NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS event_ids (
        event_id BLOB PRIMARY KEY,
        position INTEGER NOT NULL,
        content_hash BLOB NOT NULL
    ) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS streams (
        partnership INTEGER NOT NULL,
        version INTEGER NOT NULL,
        position INTEGER NOT NULL,
        hash BLOB NOT NULL,
        PRIMARY KEY (partnership, version)
    ) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS segments (
        first_position INTEGER PRIMARY KEY,
        last_position INTEGER NOT NULL,
        events INTEGER NOT NULL,
        min_timestamp_us INTEGER NOT NULL,
        max_timestamp_us INTEGER NOT NULL,
        format TEXT NOT NULL,
        data BLOB NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS checkpoints (
        name TEXT PRIMARY KEY,
        position INTEGER NOT NULL
    )""",
)


def _append_only_triggers(table: str) -> tuple[str, ...]:
    return tuple(
        f"""CREATE TRIGGER IF NOT EXISTS {table}_no_{verb.lower()}
        BEFORE {verb} ON {table}
        BEGIN
            SELECT RAISE(ABORT, '{table} is append-only: {verb} is not allowed');
        END"""
        for verb in ("UPDATE", "DELETE")
    )


SCHEMA: Final = (
    *_TABLES,
    *(ddl for table in APPEND_ONLY_TABLES for ddl in _append_only_triggers(table)),
    f"INSERT OR IGNORE INTO meta (key, value) VALUES ('store_format', '{STORE_FORMAT}')",
)

# Per-connection settings. WAL lets readers run beside the one writer;
# synchronous=FULL makes a commit durable once it returns; the busy timeout
# makes a second writer wait for BEGIN IMMEDIATE instead of failing at once;
# the memory map makes whole-log reads about a quarter faster.
PRAGMAS: Final = (
    "PRAGMA busy_timeout = 30000",
    "PRAGMA journal_mode = WAL",
    "PRAGMA synchronous = FULL",
    "PRAGMA cache_size = -131072",
    "PRAGMA temp_store = MEMORY",
    # Pages are read through a memory map (SQLite's default upper bound, ~2 GiB):
    # a segment BLOB is then copied out of the map, not read() page by page.
    "PRAGMA mmap_size = 2147418112",
)

"""The SQLite event store: one file, WAL, append-only, hash-chained.

Same semantics as the reference :class:`engine.memory_store.MemoryEventStore`:
every write runs :func:`engine.recording.plan_append` inside one
``BEGIN IMMEDIATE`` transaction with what it read of the current state, and
writes the rows the plan returns. Reads come back through Arrow (ADBC) and are
decoded with polars expressions, then upcast (:mod:`engine.upcasting`).

The table layout is in :mod:`adapters.storage._sqlite_schema`; bulk writes
bulk-load the encoded frame through ADBC (in C, no Python object per row)
into the three tables, each sorted by its own key first.

Performance notes (2 shared cores, ``benchmarks/store_ratios.py``): a
``sqlite3.executemany`` of the 17 columns costs about 9 us per event before any
index (Python binds each value), several times the ADBC ingest; inserting
random UUIDs into an index in position order costs more than the table itself,
hence the separately sorted ``event_ids``/``streams`` tables. What remains is
the per-event SHA-256 work of :func:`engine.recording.plan_append` (about 40%
of an ingest), SQLite's own row encoding, and the WAL fsync. Reads are bound by
SQLite decoding one value at a time (about 0.1-0.2 us per value, 17 per event)
and by building the event frame's strings (UUIDs, hex hashes).

Examples
--------
>>> import tempfile
>>> from datetime import datetime, timezone
>>> from pathlib import Path
>>> from uuid import UUID
>>> from engine.events import NewEvent
>>> class FixedClock:
...     def now(self):
...         return datetime(2024, 1, 1, tzinfo=timezone.utc)
>>> folder = tempfile.TemporaryDirectory()
>>> store = SqliteEventStore(Path(folder.name) / "log.db", clock=FixedClock(), create=True)
>>> e = NewEvent(event_id=UUID(int=1), partnership_id="p", activity="propose_idea",
...              timestamp=datetime(2020, 1, 1, tzinfo=timezone.utc))
>>> [r.version for r in store.append("p", [e], expected_version=0)]
[1]
>>> store.read_stream("p")[0].phase
'commitment'
>>> store.close(); folder.cleanup()
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from adapters.storage._sqlite_codec import (
    STORED_COLUMNS,
    collect_term_ids,
    collect_terms,
    decode_event_ids,
    decode_event_rows,
    encode_event_ids,
    encode_event_rows,
    explode_participants,
    hex_from_bytes,
    split_participants,
)
from adapters.storage._sqlite_connection import SqliteConnection
from adapters.storage._sqlite_schema import PRAGMAS, SCHEMA
from engine import schema as s
from engine.errors import ConcurrencyError, NotFoundError
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

    from engine.events import NewEvent, RecordedEvent
    from engine.ports import AppendReport, Checkpoint, Clock
    from engine.recording import VerifyReport

__all__ = ["SqliteEventStore"]

_EXISTING_SCHEMA = pl.Schema(
    {s.EVENT_ID: pl.String, s.CONTENT_HASH: pl.String, s.POSITION: pl.Int64}
)
_SELECT = f"SELECT {', '.join(f'e.{c}' for c in STORED_COLUMNS)} FROM events e"
_IN_JSON = "IN (SELECT value FROM json_each(?))"
# Up to this many ids are looked up with bound parameters; more go through a
# temporary table.
_MAX_BOUND_IDS = 200
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _epoch_us(moment: datetime) -> int:
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return (aware - _EPOCH) // timedelta(microseconds=1)


def _json_list(values: pl.Series) -> str:
    return json.dumps(values.to_list())


class SqliteEventStore:
    """An :class:`engine.ports.EventStore` in one SQLite file.

    Parameters
    ----------
    path
        The database file.
    clock
        Supplies ``recorded_at``.
    create
        Create the file and its tables when missing (idempotent).

    Raises
    ------
    NotFoundError
        Without ``create``: the file does not exist or holds no event store.
    StoreError
        The file cannot be opened as a SQLite database.
    """

    def __init__(self, path: str | Path, *, clock: Clock, create: bool = False) -> None:
        self._path = Path(path)
        self._clock = clock
        self._lock = threading.RLock()
        if not create and not self._path.exists():
            msg = f"no store at {self._path}: run `partnermine init` first"
            raise NotFoundError(msg)
        self._conn = SqliteConnection(self._path, pragmas=PRAGMAS)
        if create:
            with self._conn.transaction():
                for ddl in SCHEMA:
                    self._conn.execute(ddl)
        elif not self._conn.fetch_rows(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'events'"
        ):
            self._conn.close()
            msg = (
                f"{self._path} is not a partnermine event store (no events table): "
                "run `partnermine init` to create one"
            )
            raise NotFoundError(msg)

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
        expected = (
            None if expected_version is None else (partnership_id, expected_version)
        )
        plan, existing = self._record(batch, expected=expected, checkpoint=None)
        recorded = plan.new_rows
        if not existing.is_empty():  # idempotent retries return the originals
            originals = self._read_raw(
                f"WHERE e.position {_IN_JSON}", (_json_list(existing[s.POSITION]),)
            )
            recorded = pl.concat([recorded, originals])
        return order_as_batch(batch, recorded)

    def append_frame(
        self, frame: pl.DataFrame, *, checkpoint: Checkpoint | None = None
    ) -> AppendReport:
        """Append a frame spanning any partnerships; see :class:`engine.ports.EventStore`."""
        batch = prepare_frame_batch(frame)
        plan, _ = self._record(batch, expected=None, checkpoint=checkpoint)
        return plan.report()

    def _record(
        self,
        batch: pl.DataFrame,
        *,
        expected: tuple[str, int] | None,
        checkpoint: Checkpoint | None,
    ) -> tuple[AppendPlan, pl.DataFrame]:
        with self._lock, self._conn.transaction():
            next_position = self._head_position() + 1
            existing = (
                self._existing(batch)
                if next_position > 1 and not batch.is_empty()
                else pl.DataFrame(schema=_EXISTING_SCHEMA)
            )
            heads = self._heads(batch)
            plan = plan_append(
                batch,
                existing=existing.select(s.EVENT_ID, s.CONTENT_HASH),
                heads=heads,
                next_position=next_position,
                recorded_at=self._clock.now(),
            )
            if expected is not None and not plan.new_rows.is_empty():
                stream, version = expected
                current = heads.filter(pl.col(s.PARTNERSHIP_ID) == stream)[s.VERSION]
                actual = int(current.item()) if current.len() else 0
                if actual != version:
                    raise ConcurrencyError(stream, version, actual)
            if not plan.new_rows.is_empty():
                self._insert(plan.new_rows)
            if checkpoint is not None:
                self._conn.execute(
                    "INSERT INTO checkpoints (name, position) VALUES (?, ?) "
                    "ON CONFLICT (name) DO UPDATE SET position = excluded.position",
                    (checkpoint.name, checkpoint.position),
                )
        return plan, existing

    def _existing(self, batch: pl.DataFrame) -> pl.DataFrame:
        """Return ``(event_id, content_hash, position)`` of batch ids already stored."""
        ids = batch.select(encode_event_ids(s.EVENT_ID).alias("event_id"))
        joined = "JOIN events e ON e.position = i.position"
        if ids.height <= _MAX_BOUND_IDS:
            marks = ", ".join("?" * ids.height)
            raw = self._conn.fetch_frame(
                f"SELECT i.event_id, e.content_hash, e.position FROM event_ids i "
                f"{joined} WHERE i.event_id IN ({marks})",
                tuple(ids["event_id"].to_list()),
            )
        else:
            self._conn.ingest("batch_ids", ids, temporary=True)
            raw = self._conn.fetch_frame(
                "SELECT b.event_id, e.content_hash, e.position FROM temp.batch_ids b "
                f"JOIN event_ids i ON i.event_id = b.event_id {joined}"
            )
            self._conn.execute("DROP TABLE temp.batch_ids")
        if raw.is_empty():
            return pl.DataFrame(schema=_EXISTING_SCHEMA)
        return raw.select(
            decode_event_ids("event_id").alias(s.EVENT_ID),
            hex_from_bytes("content_hash").alias(s.CONTENT_HASH),
            pl.col("position").alias(s.POSITION),
        ).cast(_EXISTING_SCHEMA)

    def _heads(self, batch: pl.DataFrame) -> pl.DataFrame:
        """Return ``(partnership, version, hash)`` of each touched stream's last event."""
        heads = self._conn.fetch_frame(
            "SELECT p.name, s.version, lower(hex(e.hash)) AS hash "
            "FROM partnerships p JOIN streams s ON s.partnership = p.id "
            "AND s.version = (SELECT max(version) FROM streams m "
            "WHERE m.partnership = p.id) "
            f"JOIN events e ON e.position = s.position WHERE p.name {_IN_JSON}",
            (_json_list(batch[s.PARTNERSHIP_ID].unique()),),
        )
        if heads.is_empty():
            return pl.DataFrame(schema=HEADS_SCHEMA)
        return heads.rename({"name": s.PARTNERSHIP_ID}).cast(HEADS_SCHEMA)

    def _ids_of(self, table: str, column: str, values: pl.Series) -> pl.DataFrame:
        """Return ``(column, id)`` of ``values`` in a dictionary table, adding any missing."""
        listed = _json_list(values)
        self._conn.execute(
            f"INSERT OR IGNORE INTO {table} ({column}) SELECT value FROM json_each(?)",
            (listed,),
        )
        found = self._conn.fetch_frame(
            f"SELECT {column}, id FROM {table} WHERE {column} {_IN_JSON}", (listed,)
        )
        return found.cast({column: pl.String, "id": pl.Int64})

    def _insert(self, rows: pl.DataFrame) -> None:
        partnerships = self._ids_of(
            "partnerships", "name", rows[s.PARTNERSHIP_ID].unique()
        )
        people = explode_participants(rows)
        terms = self._ids_of("terms", "text", collect_terms(rows, people))
        stored = encode_event_rows(
            rows, people=people, partnerships=partnerships, terms=terms
        )
        # Each table is filled in its own key order, so every insert lands at
        # the end of its B-tree.
        self._conn.ingest("events", stored, temporary=False)
        self._conn.ingest(
            "event_ids",
            stored.select("event_id", "position").sort("event_id"),
            temporary=False,
        )
        self._conn.ingest(
            "streams",
            stored.select("partnership", "version", "position").sort(
                "partnership", "version"
            ),
            temporary=False,
        )

    # -- reading -------------------------------------------------------------
    def _read_raw(
        self, where: str = "", parameters: tuple[Any, ...] = (), *, limit: int = -1
    ) -> pl.DataFrame:
        """Return stored events (not upcast) in position order."""
        with self._lock:
            raw = self._conn.fetch_frame(
                f"{_SELECT} {where} ORDER BY e.position LIMIT ?", (*parameters, limit)
            )
            if raw.is_empty():
                return pl.DataFrame(schema=s.EVENT_SCHEMA)
            partnerships = self._conn.fetch_frame(
                f"SELECT id, name FROM partnerships WHERE id {_IN_JSON}",
                (_json_list(raw["partnership"].unique()),),
            )
            people = split_participants(raw)
            terms = self._conn.fetch_frame(
                f"SELECT id, text FROM terms WHERE id {_IN_JSON}",
                (_json_list(collect_term_ids(raw, people)),),
            )
        return decode_event_rows(
            raw,
            people=people,
            partnerships=partnerships.cast({"id": pl.Int64, "name": pl.String}),
            terms=terms.cast({"id": pl.Int64, "text": pl.String}),
        )

    def _head_position(self) -> int:
        [(head,)] = self._conn.fetch_rows(
            "SELECT coalesce(max(position), 0) FROM events"
        )
        return int(head)

    def head_position(self) -> int:
        """Return the highest global position (0 when empty)."""
        with self._lock:
            return self._head_position()

    def stream_version(self, partnership_id: str) -> int:
        """Return a partnership's current version (0 when it has none)."""
        with self._lock:
            [(version,)] = self._conn.fetch_rows(
                "SELECT coalesce(max(s.version), 0) FROM streams s "
                "JOIN partnerships p ON p.id = s.partnership WHERE p.name = ?",
                (partnership_id,),
            )
        return int(version)

    def read_stream(
        self, partnership_id: str, *, from_version: int = 1
    ) -> list[RecordedEvent]:
        """Return one partnership's events from ``from_version`` on."""
        rows = self._read_raw(
            "WHERE e.position IN (SELECT s.position FROM streams s "
            "JOIN partnerships p ON p.id = s.partnership "
            "WHERE p.name = ? AND s.version >= ?)",
            (partnership_id, from_version),
        )
        return frame_to_recorded_events(upcast_event_frame(rows))

    def read_all(
        self, *, from_position: int = 1, limit: int | None = None
    ) -> pl.DataFrame:
        """Return events in global order from ``from_position`` on."""
        rows = self._read_raw(
            "WHERE e.position >= ?",
            (from_position,),
            limit=-1 if limit is None else limit,
        )
        return upcast_event_frame(rows)

    def to_frame(
        self,
        *,
        partnerships: Sequence[str] | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> pl.DataFrame:
        """Return the event frame of selected partnerships and time range."""
        clauses: list[str] = []
        parameters: list[Any] = []
        if partnerships is not None:
            clauses.append(
                f"e.partnership IN (SELECT id FROM partnerships WHERE name {_IN_JSON})"
            )
            parameters.append(json.dumps(list(partnerships)))
        if start is not None:
            clauses.append("e.timestamp_us >= ?")
            parameters.append(_epoch_us(start))
        if end is not None:
            clauses.append("e.timestamp_us < ?")
            parameters.append(_epoch_us(end))
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        return upcast_event_frame(self._read_raw(where, tuple(parameters)))

    def read_checkpoint(self, name: str) -> int:
        """Return a named checkpoint's position (0 when never stored)."""
        with self._lock:
            rows = self._conn.fetch_rows(
                "SELECT position FROM checkpoints WHERE name = ?", (name,)
            )
        return int(rows[0][0]) if rows else 0

    def verify(self) -> VerifyReport:
        """Return the verification of every hash chain, from the stored rows."""
        return verify_event_frame(self._read_raw())

    def settings(self) -> dict[str, object]:
        """Return the connection's durability settings (journal, sync, timeout)."""
        with self._lock:
            return {
                name: self._conn.fetch_rows(f"PRAGMA {name}")[0][0]
                for name in ("journal_mode", "synchronous", "busy_timeout")
            }

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._conn.close()

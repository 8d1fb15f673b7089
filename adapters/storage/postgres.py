"""The PostgreSQL event store: :class:`engine.ports.EventStore` over psycopg 3.

Writes go through psycopg; every appending transaction first takes
``LOCK TABLE pm_events IN EXCLUSIVE MODE`` (as the eventsourcing library's
PostgreSQL recorder does), so that appends are serialized and global positions
become visible in commit order: a reader following ``read_all`` never sees a
lower position appear after it has passed a higher one. Reads are not blocked
(``EXCLUSIVE`` does not conflict with the ``ACCESS SHARE`` lock of a SELECT).
Inside the lock the store reads what it needs and calls
:func:`engine.recording.plan_append`, so it enforces exactly the rules of the
in-memory reference store; the planned rows are written with one ``COPY``.

Reads go through the ADBC PostgreSQL driver into Arrow, then polars; the
columns are decoded with polars expressions, never row by row.

Layout: integer keys (``pm_partnerships.id``), ``bytea`` event ids and hashes,
and ``bytea`` UTF-8 for every free-text field, because PostgreSQL ``text``
cannot hold a NUL character and partnership ids, activities or actors may.
UPDATE, DELETE and TRUNCATE on ``pm_events`` raise an "append-only" error.
"""

from __future__ import annotations

import contextlib
import threading
from typing import TYPE_CHECKING, Any

import polars as pl
import psycopg
from adbc_driver_postgresql import dbapi as adbc
from psycopg import errors as pg_errors

from adapters.storage._postgres_codec import (
    decode_event_rows,
    decode_text,
    decode_uuid,
    encode_copy_rows,
    epoch_us,
    hex_list,
)
from adapters.storage._postgres_schema import (
    BYTEA_ARRAY,
    COPY_SQL,
    DB_COLUMNS,
    DDL,
    DDL_LOCK,
    DIGEST_ARRAY,
    SELECT_EVENTS,
)
from engine import schema as s
from engine.errors import (
    ConcurrencyError,
    IntegrityError,
    NotFoundError,
    StoreError,
    ValidationError,
)
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
    from collections.abc import Iterator, Sequence
    from datetime import datetime

    from engine.events import NewEvent, RecordedEvent
    from engine.ports import AppendReport, Checkpoint, Clock
    from engine.recording import VerifyReport

__all__ = [
    "DB_COLUMNS",
    "PostgresEventStore",
    "check_expected_version",
    "decode_event_rows",
    "describe_postgres_url",
    "encode_copy_rows",
]


def describe_postgres_url(url: str) -> str:
    """Return ``host:port/dbname`` of a connection URL, never its password.

    Examples
    --------
    >>> describe_postgres_url("postgresql://u:secret@127.0.0.1:5433/db")
    '127.0.0.1:5433/db'
    """
    try:
        parts = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "<unparseable PostgreSQL URL>"
    host = parts.get("host", "localhost")
    return f"{host}:{parts.get('port', 5432)}/{parts.get('dbname', '')}"


def check_expected_version(
    heads: pl.DataFrame, partnership_id: str, expected_version: int | None
) -> None:
    """Raise :class:`ConcurrencyError` when a stream head is not the expected one.

    ``heads`` is the frame of :data:`engine.recording.HEADS_SCHEMA` read inside
    the write transaction; a partnership absent from it is at version 0.
    """
    if expected_version is None:
        return
    versions = heads.filter(pl.col(s.PARTNERSHIP_ID) == partnership_id)[s.VERSION]
    actual = int(versions.item()) if versions.len() else 0
    if actual != expected_version:
        raise ConcurrencyError(partnership_id, expected_version, actual)


class PostgresEventStore:
    """An :class:`engine.ports.EventStore` in a PostgreSQL database.

    Parameters
    ----------
    url
        A ``postgresql://`` connection URL (libpq syntax, so ``?options=...``
        such as ``-csearch_path=...`` works).
    clock
        Supplies ``recorded_at``.
    create
        Create the tables (idempotent) instead of requiring them.

    Raises
    ------
    StoreError
        The server cannot be reached.
    NotFoundError
        The database has no partnermine tables and ``create`` is false.
    """

    def __init__(self, url: str, *, clock: Clock, create: bool = False) -> None:
        self._url = url
        self._where = describe_postgres_url(url)
        self._clock = clock
        self._lock = threading.Lock()
        self._reader: Any = None
        with self._translate_errors():
            self._conn = psycopg.connect(url, autocommit=True)
        try:
            self._prepare(create=create)
        except BaseException:
            self._conn.close()
            raise

    def _prepare(self, *, create: bool) -> None:
        with self._translate_errors(), self._conn.transaction():
            if create:
                self._conn.execute("SELECT pg_advisory_xact_lock(%s)", (DDL_LOCK,))
                self._conn.execute(DDL)
            found = self._conn.execute(
                "SELECT to_regclass('pm_events') IS NOT NULL"
            ).fetchone()
        if not (found and found[0]):
            msg = (
                f"no partnermine store in PostgreSQL at {self._where}: run "
                "`partnermine init --store postgresql://...` first"
            )
            raise NotFoundError(msg)

    @contextlib.contextmanager
    def _translate_errors(self) -> Iterator[None]:
        try:
            yield
        except pg_errors.RaiseException as e:
            msg = f"PostgreSQL store {self._where}: {e.diag.message_primary or e}"
            raise IntegrityError(msg) from e
        except pg_errors.UniqueViolation as e:
            # Cannot happen under the table lock unless someone writes around it.
            msg = f"PostgreSQL store {self._where}: concurrent write detected: {e}"
            raise StoreError(msg) from e
        except psycopg.OperationalError as e:
            msg = f"cannot use PostgreSQL at {self._where}: {e}".strip()
            raise StoreError(msg) from e
        except psycopg.Error as e:
            msg = f"PostgreSQL store {self._where} failed: {e}"
            raise StoreError(msg) from e
        except adbc.Error as e:
            msg = f"PostgreSQL store {self._where}: reading failed: {e}"
            raise StoreError(msg) from e

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
        plan = self._write(
            batch,
            expected=(partnership_id, expected_version),
            checkpoint=None,
        )
        stored = plan.new_rows
        if plan.duplicate_ids.len():
            stored = pl.concat([stored, self._read_ids(plan.duplicate_ids)])
        return order_as_batch(batch, stored)

    def append_frame(
        self, frame: pl.DataFrame, *, checkpoint: Checkpoint | None = None
    ) -> AppendReport:
        """Append a frame spanning any partnerships; see :class:`engine.ports.EventStore`."""
        batch = prepare_frame_batch(frame)
        plan = self._write(batch, expected=None, checkpoint=checkpoint)
        return plan.report()

    def _write(
        self,
        batch: pl.DataFrame,
        *,
        expected: tuple[str, int | None] | None,
        checkpoint: Checkpoint | None,
    ) -> AppendPlan:
        with self._lock, self._translate_errors(), self._conn.transaction():
            cur = self._conn.cursor()
            cur.execute("LOCK TABLE pm_events IN EXCLUSIVE MODE")
            existing = self._existing_ids(cur, batch[s.EVENT_ID])
            heads, keys = self._heads(cur, batch[s.PARTNERSHIP_ID])
            if expected is not None and existing.is_empty() and batch.height:
                # Fail fast, before hashing: with no stored id in the batch,
                # every event is new, so the plan would not change the outcome.
                check_expected_version(heads, *expected)
            head = cur.execute("SELECT coalesce(max(position), 0) FROM pm_events")
            (last,) = head.fetchone() or (0,)
            plan = plan_append(
                batch,
                existing=existing,
                heads=heads,
                next_position=int(last) + 1,
                recorded_at=self._clock.now(),
            )
            if expected is not None and not plan.new_rows.is_empty():
                check_expected_version(heads, *expected)
            if not plan.new_rows.is_empty():
                new_names = plan.new_rows[s.PARTNERSHIP_ID]
                if not new_names.is_in(keys[s.PARTNERSHIP_ID].implode()).all():
                    keys = self._insert_partnerships(cur, new_names)
                with cur.copy(COPY_SQL) as copy:
                    copy.write(encode_copy_rows(plan.new_rows, keys))
            if checkpoint is not None:
                cur.execute(
                    "INSERT INTO pm_checkpoints (name, position) VALUES (%s, %s) "
                    "ON CONFLICT (name) DO UPDATE SET position = EXCLUDED.position",
                    (checkpoint.name, checkpoint.position),
                )
        return plan

    @staticmethod
    def _existing_ids(cur: psycopg.Cursor[Any], event_ids: pl.Series) -> pl.DataFrame:
        cur.execute(
            f"SELECT event_id, content_hash FROM pm_events WHERE event_id = ANY({BYTEA_ARRAY})",
            (event_ids.str.replace_all("-", "").str.join(",").item(),),
        )
        return pl.DataFrame(
            cur.fetchall(),
            schema={"event_id": pl.Binary, "content_hash": pl.Binary},
            orient="row",
        ).select(
            decode_uuid("event_id").alias(s.EVENT_ID),
            pl.col("content_hash").bin.encode("hex").alias(s.CONTENT_HASH),
        )

    @staticmethod
    def _heads(
        cur: psycopg.Cursor[Any], partnership_ids: pl.Series
    ) -> tuple[pl.DataFrame, pl.DataFrame]:
        """Return (heads, integer keys) of the touched partnerships that exist."""
        cur.execute(
            "SELECT p.name, h.version, h.hash, p.id FROM pm_partnerships p "
            "JOIN LATERAL (SELECT version, hash FROM pm_events e "
            "WHERE e.partnership = p.id ORDER BY version DESC LIMIT 1) h ON true "
            f"WHERE sha256(p.name) = ANY({DIGEST_ARRAY})",
            (hex_list(partnership_ids),),
        )
        rows = pl.DataFrame(
            cur.fetchall(),
            schema={
                "name": pl.Binary,
                "version": pl.Int64,
                "hash": pl.Binary,
                "_pid_key": pl.Int32,
            },
            orient="row",
        ).with_columns(
            decode_text("name").alias(s.PARTNERSHIP_ID),
            pl.col("version").alias(s.VERSION),
            pl.col("hash").bin.encode("hex").alias(s.HASH),
        )
        heads = rows.select(HEADS_SCHEMA.names()).cast(HEADS_SCHEMA)
        return heads, rows.select(s.PARTNERSHIP_ID, "_pid_key")

    @staticmethod
    def _insert_partnerships(
        cur: psycopg.Cursor[Any], names: pl.Series
    ) -> pl.DataFrame:
        raw = hex_list(names)
        cur.execute(
            f"INSERT INTO pm_partnerships (name) SELECT unnest({BYTEA_ARRAY}) "
            "ON CONFLICT (sha256(name)) DO NOTHING",
            (raw,),
        )
        cur.execute(
            f"SELECT name, id FROM pm_partnerships WHERE sha256(name) = ANY({DIGEST_ARRAY})",
            (raw,),
        )
        return pl.DataFrame(
            cur.fetchall(),
            schema={"name": pl.Binary, "_pid_key": pl.Int32},
            orient="row",
        ).select(decode_text("name").alias(s.PARTNERSHIP_ID), "_pid_key")

    # -- reading -------------------------------------------------------------
    def _read_raw(self, where: str, params: tuple[object, ...] = ()) -> pl.DataFrame:
        """Return the raw event frame of ``SELECT_EVENTS`` + ``where`` via ADBC/Arrow."""
        with self._lock, self._translate_errors():
            if self._reader is None:
                self._reader = adbc.connect(self._url, autocommit=True)
            with self._reader.cursor() as cur:
                cur.execute(SELECT_EVENTS + where, parameters=params or None)
                table = cur.fetch_arrow_table()
        raw = pl.from_arrow(table)
        if not isinstance(raw, pl.DataFrame):  # pragma: no cover - arrow tables
            msg = "ADBC returned no table"
            raise StoreError(msg)
        return decode_event_rows(raw)

    def _read_ids(self, event_ids: pl.Series) -> pl.DataFrame:
        # ids come from a validated frame: 32 hex digits each, safe to inline.
        hex_ids = event_ids.str.replace_all("-", "")
        if not hex_ids.str.contains(r"^[0-9a-f]{32}$").all():
            msg = "event ids must be UUIDs"
            raise ValidationError(msg, field=s.EVENT_ID)
        literal = ",".join(f"'\\x{h}'::bytea" for h in hex_ids)
        return self._read_raw(f"WHERE e.event_id IN ({literal})")

    def _partnership_key(self, partnership_id: str) -> int | None:
        with self._lock, self._translate_errors():
            row = self._conn.execute(
                "SELECT id FROM pm_partnerships WHERE sha256(name) = sha256(%s)",
                (partnership_id.encode(),),
            ).fetchone()
        return int(row[0]) if row else None

    def read_stream(
        self, partnership_id: str, *, from_version: int = 1
    ) -> list[RecordedEvent]:
        """Return one partnership's events from ``from_version`` on."""
        key = self._partnership_key(partnership_id)
        if key is None:
            return []
        rows = self._read_raw(
            f"WHERE e.partnership = {key:d} AND e.version >= $1 ORDER BY e.version",
            (from_version,),
        )
        return frame_to_recorded_events(upcast_event_frame(rows))

    def read_all(
        self, *, from_position: int = 1, limit: int | None = None
    ) -> pl.DataFrame:
        """Return events in global order from ``from_position`` on."""
        where = "WHERE e.position >= $1 ORDER BY e.position"
        if limit is not None:
            return upcast_event_frame(
                self._read_raw(where + " LIMIT $2", (from_position, limit))
            )
        return upcast_event_frame(self._read_raw(where, (from_position,)))

    def to_frame(
        self,
        *,
        partnerships: Sequence[str] | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> pl.DataFrame:
        """Return the event frame of selected partnerships and time range."""
        clauses: list[str] = []
        if partnerships is not None:
            keys = [k for p in partnerships if (k := self._partnership_key(p))]
            clauses.append(f"e.partnership IN ({','.join(map(str, keys)) or 'NULL'})")
        params: list[object] = []
        for bound, op in ((start, ">="), (end, "<")):
            if bound is not None:
                params.append(epoch_us(bound))
                clauses.append(
                    f"e.ts {op} timestamptz 'epoch' + ${len(params)} "
                    "* interval '1 microsecond'"
                )
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        return upcast_event_frame(
            self._read_raw(f"{where} ORDER BY e.position", tuple(params))
        )

    def stream_version(self, partnership_id: str) -> int:
        """Return a partnership's current version (0 when it has none)."""
        with self._lock, self._translate_errors():
            row = self._conn.execute(
                "SELECT coalesce(max(e.version), 0) FROM pm_events e "
                "JOIN pm_partnerships p ON p.id = e.partnership WHERE sha256(p.name) = sha256(%s)",
                (partnership_id.encode(),),
            ).fetchone()
        return int(row[0]) if row else 0

    def head_position(self) -> int:
        """Return the highest global position (0 when empty)."""
        with self._lock, self._translate_errors():
            row = self._conn.execute(
                "SELECT coalesce(max(position), 0) FROM pm_events"
            ).fetchone()
        return int(row[0]) if row else 0

    def read_checkpoint(self, name: str) -> int:
        """Return a named checkpoint's position (0 when never stored)."""
        with self._lock, self._translate_errors():
            row = self._conn.execute(
                "SELECT position FROM pm_checkpoints WHERE name = %s", (name,)
            ).fetchone()
        return int(row[0]) if row else 0

    def verify(self) -> VerifyReport:
        """Return the verification of every hash chain (raw rows, not upcast)."""
        return verify_event_frame(self._read_raw("ORDER BY e.position"))

    def close(self) -> None:
        """Close both connections."""
        with self._lock:
            if self._reader is not None:
                self._reader.close()
                self._reader = None
            self._conn.close()

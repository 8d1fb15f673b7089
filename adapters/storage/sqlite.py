"""The SQLite event store: one file, WAL, append-only, hash-chained.

Same semantics as the reference :class:`engine.memory_store.MemoryEventStore`:
every write runs the two halves of :func:`engine.recording.plan_append`
(``number_batch``, ``chain_batch``) inside one ``BEGIN IMMEDIATE`` transaction
with what it read of the current state, and writes the rows the plan returns.
Reads come back through Arrow (ADBC) and are decoded with polars expressions,
then upcast (:mod:`engine.upcasting`).

The table layout is in :mod:`adapters.storage._sqlite_schema`, the write steps
in :mod:`adapters.storage._sqlite_writes`. Every event gets key rows
(``event_ids``, ``streams``: uniqueness, heads, hashes), each bulk-loaded
through ADBC (in C, no Python object per row) sorted by its own key. Its
payload goes to columnar segments for batches of ``seal_events`` or more
(:mod:`adapters.storage._sqlite_segments`), else to rows of ``events`` until
sealed. A read is the segments it needs, decoded as Arrow buffers and filtered
in polars, plus the rows past the last segment
(:mod:`adapters.storage._sqlite_selection`), in one read transaction.

Performance notes (2 cores, ``benchmarks/store_ratios.py``): a row read is
bound by SQLite decoding one value at a time (17 per event) and by rebuilding
strings, hence the segments; a segment read is bound by copying the BLOB out of
SQLite's pages and by zstd. An ingest is bound by the per-event SHA-256 work of
:func:`engine.recording.number_batch` and :func:`engine.recording.chain_batch`
(content and chain hashes), the key-table loads (beside the hashing and
encoding), and the WAL commit and checkpoint (every byte is written twice,
hence zstd).

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

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from adapters.storage._sqlite_audit import audit_copies, first_broken_link
from adapters.storage._sqlite_codec import (
    STORED_COLUMNS,
    collect_term_ids,
    decode_event_ids,
    decode_event_rows,
    hex_from_bytes,
    split_participants,
)
from adapters.storage._sqlite_connection import IN_JSON, SqliteConnection, json_list
from adapters.storage._sqlite_schema import PRAGMAS, SCHEMA, STORE_FORMAT
from adapters.storage._sqlite_segments import (
    SEAL_EVENTS,
    SegmentCache,
    decode_segment,
)
from adapters.storage._sqlite_selection import (
    Selection,
    select_events,
    select_positions,
    select_range,
    select_stream,
)
from adapters.storage._sqlite_writes import (
    EXISTING_SCHEMA,
    existing_events,
    ids_of,
    ingest_event_ids,
    ingest_streams,
    insert_rows,
    stream_heads,
    write_bulk,
    write_segments,
)
from engine import schema as s
from engine.errors import ConcurrencyError, IntegrityError, NotFoundError, StoreError
from engine.events import frame_to_recorded_events
from engine.recording import (
    AppendPlan,
    NumberedBatch,
    VerifyReport,
    chain_batch,
    number_batch,
    order_as_batch,
    prepare_frame_batch,
    prepare_stream_batch,
    verify_event_frame,
)
from engine.upcasting import upcast_event_frame

if TYPE_CHECKING:
    from collections.abc import Sequence

    from engine.events import NewEvent, RecordedEvent
    from engine.ports import AppendReport, Checkpoint, Clock

__all__ = ["SqliteEventStore"]

_KEYS = (s.EVENT_ID, s.PARTNERSHIP_ID, s.VERSION, s.CONTENT_HASH, s.HASH)
_SELECT = f"SELECT {', '.join(f'e.{c}' for c in STORED_COLUMNS)} FROM events e"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _epoch_us(moment: datetime) -> int:
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return (aware - _EPOCH) // timedelta(microseconds=1)


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
    seal_events
        Batches of at least this many events are stored as columnar segments;
        smaller ones as rows, sealed into a segment once this many have
        accumulated (see ``adapters/storage/_sqlite_segments.py``).

    Raises
    ------
    NotFoundError
        Without ``create``: the file does not exist or holds no event store.
    StoreError
        The file cannot be opened as a SQLite database, or holds a store
        format this version does not read.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        clock: Clock,
        create: bool = False,
        seal_events: int = SEAL_EVENTS,
    ) -> None:
        if seal_events < 1:
            msg = f"seal_events must be at least 1, got {seal_events}"
            raise ValueError(msg)
        self._seal_events = seal_events
        self._cache = SegmentCache()
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
        self._check_format()

    def _check_format(self) -> None:
        rows = self._conn.fetch_rows(
            "SELECT value FROM meta WHERE key = 'store_format'"
        )
        found = rows[0][0] if rows else "?"
        if found != STORE_FORMAT:
            self._conn.close()
            msg = (
                f"{self._path} has store format {found}; this version reads "
                f"format {STORE_FORMAT}: export the log with the version that "
                "wrote it and ingest it into a new store"
            )
            raise StoreError(msg)

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
            originals = self._read(select_positions(existing[s.POSITION].to_list()))
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
                existing_events(self._conn, batch)
                if next_position > 1 and not batch.is_empty()
                else pl.DataFrame(schema=EXISTING_SCHEMA)
            )
            heads = stream_heads(self._conn, batch)
            numbered = number_batch(
                batch,
                existing=existing.select(s.EVENT_ID, s.CONTENT_HASH),
                heads=heads,
                next_position=next_position,
                recorded_at=self._clock.now(),
            )
            if expected is not None and not numbered.rows.is_empty():
                stream, version = expected
                current = heads.filter(pl.col(s.PARTNERSHIP_ID) == stream)[s.VERSION]
                actual = int(current.item()) if current.len() else 0
                if actual != version:
                    raise ConcurrencyError(stream, version, actual)
            if numbered.rows.height >= self._seal_events:
                plan = self._insert_bulk(numbered, heads)
            else:
                plan = chain_batch(numbered, heads=heads)
                if not plan.new_rows.is_empty():
                    self._insert_rows_and_seal(plan)
            if checkpoint is not None:
                self._conn.execute(
                    "INSERT INTO checkpoints (name, position) VALUES (?, ?) "
                    "ON CONFLICT (name) DO UPDATE SET position = excluded.position",
                    (checkpoint.name, checkpoint.position),
                )
        return plan, existing

    def _partnership_ids(self, rows: pl.DataFrame) -> pl.DataFrame:
        return ids_of(
            self._conn, "partnerships", "name", rows[s.PARTNERSHIP_ID].unique()
        )

    def _insert_rows_and_seal(self, plan: AppendPlan) -> None:
        """Write a small plan's new rows: key rows, then payload rows (sealed when due)."""
        rows = plan.new_rows
        partnerships = self._partnership_ids(rows)
        sealed = self._sealed()
        ingest_event_ids(self._conn, rows, plan.digests[s.CONTENT_HASH])
        ingest_streams(self._conn, plan, partnerships)
        insert_rows(self._conn, rows, partnerships)
        if int(rows[s.POSITION][-1]) - sealed >= self._seal_events:
            write_segments(self._conn, self._rows_after(sealed))

    def _insert_bulk(self, numbered: NumberedBatch, heads: pl.DataFrame) -> AppendPlan:
        """Chain and write a bulk batch (:func:`adapters.storage._sqlite_writes.write_bulk`).

        The rows past the last segment are sealed with it.
        """
        partnerships = self._partnership_ids(numbered.rows)
        sealed = self._sealed()
        first = int(numbered.rows[s.POSITION][0])
        return write_bulk(
            self._conn,
            numbered,
            heads=heads,
            partnerships=partnerships,
            unsealed=self._rows_after(sealed) if first > sealed + 1 else None,
        )

    # -- reading -------------------------------------------------------------
    def _sealed(self) -> int:
        """Return the last position covered by segments (0 when none)."""
        [(sealed,)] = self._conn.fetch_rows(
            "SELECT coalesce(max(last_position), 0) FROM segments"
        )
        return int(sealed)

    def _rows_after(
        self, sealed: int, where: str = "", parameters: tuple[Any, ...] = ()
    ) -> pl.DataFrame:
        """Return row-stored events past ``sealed`` (not upcast), in position order."""
        clause = f"WHERE e.position > ? {f'AND {where}' if where else ''}"
        raw = self._conn.fetch_frame(
            f"{_SELECT} {clause} ORDER BY e.position", (sealed, *parameters)
        )
        if raw.is_empty():
            return pl.DataFrame(schema=s.EVENT_SCHEMA)
        partnerships = self._conn.fetch_frame(
            f"SELECT id, name FROM partnerships WHERE id {IN_JSON}",
            (json_list(raw["partnership"].unique()),),
        )
        people = split_participants(raw)
        terms = self._conn.fetch_frame(
            f"SELECT id, text FROM terms WHERE id {IN_JSON}",
            (json_list(collect_term_ids(raw, people)),),
        )
        return decode_event_rows(
            raw,
            people=people,
            partnerships=partnerships.cast({"id": pl.Int64, "name": pl.String}),
            terms=terms.cast({"id": pl.Int64, "text": pl.String}),
        )

    def _segments(
        self, where: str = "", parameters: tuple[Any, ...] = (), *, cached: bool = True
    ) -> list[pl.DataFrame]:
        """Return the decoded segments selected by ``where``, in position order.

        With ``cached``, decoded segments come from and go to the handle's
        :class:`SegmentCache`; without, every one is read from the file.
        """
        firsts = self._conn.fetch_rows(
            f"SELECT g.first_position FROM segments g "
            f"{f'WHERE {where}' if where else ''} ORDER BY g.first_position",
            parameters,
        )
        frames = []
        for (first,) in firsts:
            frame = self._cache.get(first) if cached else None
            if frame is None:
                data = self._conn.fetch_blob(
                    "SELECT data FROM segments WHERE first_position = ?", (first,)
                )
                frame = decode_segment(data)
                if cached:
                    self._cache.put(first, frame)
            frames.append(frame)
        return frames

    def _read(self, selection: Selection) -> pl.DataFrame:
        """Return the stored events (not upcast) a selection picks, in position order."""
        with self._lock, self._conn.snapshot():
            sealed = self._sealed()
            parts = (
                self._segments(selection.segments_sql, selection.parameters)
                if sealed
                else []
            )
            tail = self._rows_after(sealed, selection.rows_sql, selection.parameters)
        if parts and selection.keep is not None:
            parts = [part.filter(selection.keep) for part in parts]
        frame = pl.concat([*parts, tail]) if parts else tail
        return frame if selection.limit is None else frame.head(selection.limit)

    def _head_position(self) -> int:
        [(head,)] = self._conn.fetch_rows(
            "SELECT max((SELECT coalesce(max(last_position), 0) FROM segments), "
            "(SELECT coalesce(max(position), 0) FROM events))"
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
        rows = self._read(select_stream(partnership_id, from_version))
        return frame_to_recorded_events(upcast_event_frame(rows))

    def read_all(
        self, *, from_position: int = 1, limit: int | None = None
    ) -> pl.DataFrame:
        """Return events in global order from ``from_position`` on."""
        return upcast_event_frame(self._read(select_range(from_position, limit)))

    def to_frame(
        self,
        *,
        partnerships: Sequence[str] | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> pl.DataFrame:
        """Return the event frame of selected partnerships and time range."""
        selection = select_events(
            partnerships=partnerships,
            start_us=None if start is None else _epoch_us(start),
            end_us=None if end is None else _epoch_us(end),
        )
        return upcast_event_frame(self._read(selection))

    def read_checkpoint(self, name: str) -> int:
        """Return a named checkpoint's position (0 when never stored)."""
        with self._lock:
            rows = self._conn.fetch_rows(
                "SELECT position FROM checkpoints WHERE name = ?", (name,)
            )
        return int(rows[0][0]) if rows else 0

    def verify(self) -> VerifyReport:
        """Return the verification of every hash chain and of every stored copy.

        The chains are recomputed on the log as reads return it (segments,
        then rows past them); :func:`adapters.storage._sqlite_audit.audit_copies`
        then checks that sealed rows and key rows agree with it.
        """
        with self._lock, self._conn.snapshot():
            sealed = self._sealed()
            bounds = self._conn.fetch_frame(
                "SELECT first_position, last_position, events FROM segments "
                "ORDER BY first_position"
            ).cast(pl.Int64)
            try:
                parts = [
                    part.with_columns(pl.lit(index, pl.UInt32).alias("_segment"))
                    for index, part in enumerate(self._segments(cached=False))
                ]
            except (pl.exceptions.PolarsError, OSError) as e:
                msg = f"{self._path}: a segment cannot be decoded: {e}"
                raise IntegrityError(msg) from e
            tail = self._rows_after(sealed).with_columns(
                pl.lit(None, pl.UInt32).alias("_segment")
            )
            sealed_rows = self._rows_after(0, "e.position <= ?", (sealed,))
            keys = self._keys()
        log = pl.concat([*parts, tail])
        report = verify_event_frame(log.drop("_segment"))
        broken = first_broken_link(
            [
                report.first_broken,
                audit_copies(
                    log=log, bounds=bounds, sealed_rows=sealed_rows, keys=keys
                ),
            ]
        )
        return VerifyReport(
            events_checked=report.events_checked,
            partnerships_checked=report.partnerships_checked,
            first_broken=broken,
        )

    def _keys(self) -> pl.DataFrame:
        """Return every key row, decoded to the event frame's column types."""
        ids = self._conn.fetch_frame(
            "SELECT position, event_id, content_hash FROM event_ids"
        )
        streams = self._conn.fetch_frame(
            "SELECT p.name, s.version, s.position, s.hash FROM streams s "
            "JOIN partnerships p ON p.id = s.partnership"
        )
        if ids.is_empty() and streams.is_empty():
            return pl.DataFrame(
                schema={c: s.EVENT_SCHEMA[c] for c in (s.POSITION, *_KEYS)}
            )
        return ids.select(
            pl.col("position").cast(pl.Int64).alias(s.POSITION),
            decode_event_ids("event_id").alias(s.EVENT_ID),
            hex_from_bytes("content_hash").alias(s.CONTENT_HASH),
        ).join(
            streams.select(
                pl.col("position").cast(pl.Int64).alias(s.POSITION),
                pl.col("name").cast(pl.String).alias(s.PARTNERSHIP_ID),
                pl.col("version").cast(pl.Int64).alias(s.VERSION),
                hex_from_bytes("hash").alias(s.HASH),
            ),
            on=s.POSITION,
            how="full",
            coalesce=True,
        )

    @property
    def path(self) -> Path:
        """Return the store's file."""
        return self._path

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

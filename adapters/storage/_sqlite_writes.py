"""The SQLite store's write steps, each a function of the open connection.

Every function here runs inside the store's write transaction
(:class:`adapters.storage.sqlite.SqliteEventStore` opens it and holds its
lock). An event gets key rows (``event_ids``: id, position, content hash;
``streams``: partnership, version, position, chain hash), each bulk-loaded
through ADBC sorted by its own key so that every insert lands at the end of
its B-tree; its payload goes to rows of ``events`` (small batches) or to
columnar segments (:mod:`adapters.storage._sqlite_segments`).

:func:`write_bulk` writes a large batch with one worker thread beside the
CPU work: the ``event_ids`` rows need no chain hash, so the worker inserts
them while the chain is computed; then it inserts the ``streams`` rows and
each segment as soon as it is encoded. The driver's inserts and the
compression run without the GIL, so the two cores share the work.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Final

import polars as pl

from adapters.storage._sqlite_codec import (
    collect_terms,
    decode_event_ids,
    encode_event_ids,
    encode_event_rows,
    explode_participants,
    hex_from_bytes,
)
from adapters.storage._sqlite_connection import IN_JSON, SqliteConnection, json_list
from adapters.storage._sqlite_segments import (
    SEGMENT_FORMAT,
    encode_segment,
    split_into_segments,
)
from engine import schema as s
from engine.recording import HEADS_SCHEMA, AppendPlan, NumberedBatch, chain_batch

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = [
    "EXISTING_SCHEMA",
    "SerialWrites",
    "existing_events",
    "ids_of",
    "ingest_event_ids",
    "ingest_streams",
    "insert_rows",
    "stream_heads",
    "write_bulk",
    "write_segment",
    "write_segments",
]

EXISTING_SCHEMA: Final = pl.Schema(
    {s.EVENT_ID: pl.String, s.CONTENT_HASH: pl.String, s.POSITION: pl.Int64}
)
# Up to this many ids are looked up with bound parameters; more go through a
# temporary table.
_MAX_BOUND_IDS: Final = 200


def existing_events(conn: SqliteConnection, batch: pl.DataFrame) -> pl.DataFrame:
    """Return ``(event_id, content_hash, position)`` of batch ids already stored."""
    ids = batch.select(encode_event_ids(s.EVENT_ID).alias("event_id"))
    if ids.height <= _MAX_BOUND_IDS:
        marks = ", ".join("?" * ids.height)
        raw = conn.fetch_frame(
            "SELECT event_id, content_hash, position FROM event_ids "
            f"WHERE event_id IN ({marks})",
            tuple(ids["event_id"].to_list()),
        )
    else:
        conn.ingest("batch_ids", ids, temporary=True)
        raw = conn.fetch_frame(
            "SELECT b.event_id, i.content_hash, i.position FROM temp.batch_ids b "
            "JOIN event_ids i ON i.event_id = b.event_id"
        )
        conn.execute("DROP TABLE temp.batch_ids")
    if raw.is_empty():
        return pl.DataFrame(schema=EXISTING_SCHEMA)
    return raw.select(
        decode_event_ids("event_id").alias(s.EVENT_ID),
        hex_from_bytes("content_hash").alias(s.CONTENT_HASH),
        pl.col("position").alias(s.POSITION),
    ).cast(EXISTING_SCHEMA)


def stream_heads(conn: SqliteConnection, batch: pl.DataFrame) -> pl.DataFrame:
    """Return ``(partnership, version, hash)`` of each touched stream's last event."""
    heads = conn.fetch_frame(
        "SELECT p.name, s.version, lower(hex(s.hash)) AS hash "
        "FROM partnerships p JOIN streams s ON s.partnership = p.id "
        "AND s.version = (SELECT max(version) FROM streams m "
        f"WHERE m.partnership = p.id) WHERE p.name {IN_JSON}",
        (json_list(batch[s.PARTNERSHIP_ID].unique()),),
    )
    if heads.is_empty():
        return pl.DataFrame(schema=HEADS_SCHEMA)
    return heads.rename({"name": s.PARTNERSHIP_ID}).cast(HEADS_SCHEMA)


def ids_of(
    conn: SqliteConnection, table: str, column: str, values: pl.Series
) -> pl.DataFrame:
    """Return ``(column, id)`` of ``values`` in a dictionary table, adding any missing."""
    listed = json_list(values)
    conn.execute(
        f"INSERT OR IGNORE INTO {table} ({column}) SELECT value FROM json_each(?)",
        (listed,),
    )
    found = conn.fetch_frame(
        f"SELECT {column}, id FROM {table} WHERE {column} {IN_JSON}", (listed,)
    )
    return found.cast({column: pl.String, "id": pl.Int64})


def ingest_event_ids(
    conn: SqliteConnection, rows: pl.DataFrame, content_digests: pl.Series
) -> None:
    """Insert the ``event_ids`` rows of new events (their id, position, content hash).

    ``content_digests`` are the rows' content hashes as raw bytes, row by row.
    """
    keys = rows.select(
        encode_event_ids(s.EVENT_ID).alias("event_id"),
        pl.col(s.POSITION).alias("position"),
        pl.lit(content_digests).alias("content_hash"),
    )
    # In the B-tree's (memcmp) order, sorted as two big-endian integers: 4x
    # faster than comparing the 16-byte strings.
    halves = (
        pl.col("event_id")
        .bin.slice(start, 8)
        .bin.reinterpret(dtype=pl.UInt64, endianness="big")
        for start in (0, 8)
    )
    conn.ingest("event_ids", keys.sort(*halves), temporary=False)


def ingest_streams(
    conn: SqliteConnection, plan: AppendPlan, partnerships: pl.DataFrame
) -> None:
    """Insert the ``streams`` rows of a plan's events (partnership, version, chain hash)."""
    keys = plan.new_rows.select(
        pl.col(s.PARTNERSHIP_ID)
        .replace_strict(partnerships["name"], partnerships["id"], return_dtype=pl.Int64)
        .alias("partnership"),
        pl.col(s.VERSION).alias("version"),
        pl.col(s.POSITION).alias("position"),
        pl.lit(plan.digests[s.HASH]).alias("hash"),
    )
    conn.ingest("streams", keys.sort("partnership", "version"), temporary=False)


def insert_rows(
    conn: SqliteConnection, rows: pl.DataFrame, partnerships: pl.DataFrame
) -> None:
    """Insert the payload of new events as rows of ``events``."""
    people = explode_participants(rows)
    terms = ids_of(conn, "terms", "text", collect_terms(rows, people))
    stored = encode_event_rows(
        rows, people=people, partnerships=partnerships, terms=terms
    )
    conn.ingest("events", stored, temporary=False)


def write_segments(conn: SqliteConnection, frame: pl.DataFrame) -> None:
    """Insert position-ordered ``frame`` as segments, encoding each in turn."""
    for run in split_into_segments(frame):
        write_segment(conn, run, encode_segment(run))


def write_segment(conn: SqliteConnection, run: pl.DataFrame, payload: bytes) -> None:
    """Insert one segment: a run of consecutive events and its IPC bytes."""
    stamps = run[s.TIMESTAMP].dt.epoch("us")
    conn.execute(
        "INSERT INTO segments (first_position, last_position, events, "
        "min_timestamp_us, max_timestamp_us, format, data) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            int(run[s.POSITION][0]),
            int(run[s.POSITION][-1]),
            run.height,
            stamps.min(),
            stamps.max(),
            SEGMENT_FORMAT,
            payload,
        ),
    )


def write_bulk(
    conn: SqliteConnection,
    numbered: NumberedBatch,
    *,
    heads: pl.DataFrame,
    partnerships: pl.DataFrame,
    unsealed: pl.DataFrame | None,
) -> AppendPlan:
    """Chain a bulk batch and write it, each database write beside the CPU work.

    Only the worker uses the connection until it is done; an error on either
    side surfaces after both have finished, so the caller's transaction then
    leaves nothing behind.

    Parameters
    ----------
    conn
        The connection, inside a write transaction; not used by the caller
        until this returns.
    numbered
        The batch, numbered (:func:`engine.recording.number_batch`).
    heads
        The stream heads it was numbered against.
    partnerships
        ``(name, id)`` of every partnership of the batch.
    unsealed
        Row-stored events past the last segment, sealed with the batch.
    """
    with ThreadPoolExecutor(max_workers=1) as pool:
        writes = SerialWrites(pool)
        writes.submit(ingest_event_ids, conn, numbered.rows, numbered.content_digests)
        try:
            plan = chain_batch(numbered, heads=heads)
            writes.submit(ingest_streams, conn, plan, partnerships)
            frame = (
                plan.new_rows
                if unsealed is None
                else pl.concat([unsealed, plan.new_rows])
            )
            for run in split_into_segments(frame):
                if writes.failed:
                    break  # the append fails anyway: stop encoding
                writes.submit(write_segment, conn, run, encode_segment(run))
        finally:
            writes.wait()  # re-raises the first writer error
    return plan


class SerialWrites:
    """Database writes run in order on one worker thread, skipped after a failure.

    After a failed write nothing more may reach the connection: SQLite rolls
    a transaction back by itself on some errors (disk full, I/O error, out of
    memory), and a later write would then run, and commit, on its own.
    """

    def __init__(self, pool: ThreadPoolExecutor) -> None:
        self._pool = pool
        self._futures: list[Future[None]] = []
        self._failed = threading.Event()

    @property
    def failed(self) -> bool:
        """Return whether a write has failed."""
        return self._failed.is_set()

    def submit(self, write: Callable[..., None], *args: Any) -> None:
        """Queue ``write(*args)`` after the writes already queued."""
        self._futures.append(self._pool.submit(self._run, write, *args))

    def _run(self, write: Callable[..., None], *args: Any) -> None:
        if self._failed.is_set():
            return
        try:
            write(*args)
        except BaseException:
            self._failed.set()
            raise

    def wait(self) -> None:
        """Wait for every queued write, then raise the first error among them."""
        errors = [e for e in (f.exception() for f in self._futures) if e is not None]
        if errors:
            raise errors[0]

"""One ADBC connection to a SQLite file: queries to Arrow, ingest, transactions.

The store talks to SQLite only through here, so that driver errors are
translated to engine errors in one place (eventsourcing maps PEP 249 the same
way). ADBC moves whole columns between SQLite and Arrow in C: no Python object
is built per row, in either direction.
"""

from __future__ import annotations

import json
from contextlib import closing, contextmanager, suppress
from typing import TYPE_CHECKING, Any

import adbc_driver_manager
import adbc_driver_sqlite.dbapi as adbc_sqlite
import polars as pl

from engine.errors import (
    ConcurrencyError,
    DuplicateEventError,
    IntegrityError,
    StoreError,
)

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    import pyarrow as pa

__all__ = ["IN_JSON", "SqliteConnection", "json_list", "translate_driver_errors"]

# The driver infers each column's Arrow type from the first batch; a column
# that is NULL throughout that batch and text later fails the read. One batch
# as large as any result makes inference see every row.
_BATCH_ROWS = str(1 << 30)
# A condition on one bound JSON array (json_list): any number of values, one parameter.
IN_JSON = "IN (SELECT value FROM json_each(?))"


def json_list(values: pl.Series) -> str:
    """Return ``values`` as the JSON array text :data:`IN_JSON` binds."""
    return json.dumps(values.to_list())


@contextmanager
def translate_driver_errors(path: Path) -> Iterator[None]:
    """Turn ADBC/SQLite errors raised inside the block into engine errors."""
    try:
        yield
    except (adbc_driver_manager.Error, OSError) as e:
        # The driver reports constraint failures as IntegrityError from a
        # statement but as InternalError from a bulk ingest: read the text.
        text = str(e)
        if "append-only" in text:
            raise IntegrityError(text) from e
        if "UNIQUE constraint failed: event_ids" in text:
            which = "of this batch"
            raise DuplicateEventError(which, reason="another writer's content") from e
        if "UNIQUE constraint failed: streams" in text:
            # Only a writer that bypassed BEGIN IMMEDIATE can get here.
            stream = "<written concurrently>"
            raise ConcurrencyError(stream, -1, -1) from e
        msg = f"{path}: {text}"
        raise StoreError(msg) from e


class SqliteConnection:
    """A thin wrapper over one ADBC SQLite connection in autocommit mode.

    Transactions are explicit (:meth:`transaction` issues ``BEGIN IMMEDIATE``),
    because the DB-API's implicit ``BEGIN`` is deferred and would let two
    writers read the same stream version.
    """

    def __init__(self, path: Path, *, pragmas: tuple[str, ...]) -> None:
        self.path = path
        with translate_driver_errors(path):
            self._conn = adbc_sqlite.connect(str(path), autocommit=True)
        try:
            for pragma in pragmas:
                self.fetch_rows(pragma)
        except StoreError:
            self.close()
            raise

    def execute(self, sql: str, parameters: tuple[Any, ...] = ()) -> None:
        """Run one statement that returns no rows."""
        with translate_driver_errors(self.path), closing(self._conn.cursor()) as cur:
            cur.execute(sql, parameters or None)

    def fetch_rows(self, sql: str, parameters: tuple[Any, ...] = ()) -> list[Any]:
        """Return the rows of a small query as tuples."""
        with translate_driver_errors(self.path), closing(self._conn.cursor()) as cur:
            cur.execute(sql, parameters or None)
            return list(cur.fetchall())

    def fetch_frame(self, sql: str, parameters: tuple[Any, ...] = ()) -> pl.DataFrame:
        """Return the result of a query as a polars frame, through Arrow."""
        with translate_driver_errors(self.path), closing(self._conn.cursor()) as cur:
            cur.adbc_statement.set_options(
                **{"adbc.sqlite.query.batch_rows": _BATCH_ROWS}
            )
            cur.execute(sql, parameters or None)
            table = cur.fetch_arrow_table()
        frame = pl.from_arrow(table)
        if not isinstance(
            frame, pl.DataFrame
        ):  # pragma: no cover - Table gives a frame
            msg = "expected a table from the driver"
            raise StoreError(msg)
        return frame

    def fetch_blob(self, sql: str, parameters: tuple[Any, ...]) -> pa.Buffer:
        """Return the one BLOB a query selects, as an Arrow buffer (no Python copy)."""
        with translate_driver_errors(self.path), closing(self._conn.cursor()) as cur:
            cur.execute(sql, parameters or None)
            column = cur.fetch_arrow_table().column(0)
        if len(column) != 1:
            msg = f"{self.path}: expected one BLOB, got {len(column)} rows"
            raise StoreError(msg)
        buffer: pa.Buffer = column[0].as_buffer()
        return buffer

    def ingest(self, table: str, frame: pl.DataFrame, *, temporary: bool) -> None:
        """Load ``frame`` into ``table``: a new temporary one, or append to it."""
        data = frame.to_arrow(compat_level=pl.CompatLevel.oldest())
        with translate_driver_errors(self.path), closing(self._conn.cursor()) as cur:
            if temporary:
                cur.adbc_ingest(table, data, mode="replace", temporary=True)
            else:
                cur.adbc_ingest(table, data, mode="append")

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Run the block in one ``BEGIN IMMEDIATE`` write transaction."""
        self.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            # SQLite rolls back by itself on some errors (disk full, I/O
            # error): then ROLLBACK fails, and the first error is the one to report.
            with suppress(StoreError):
                self.execute("ROLLBACK")
            raise
        self.execute("COMMIT")

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Run the block's reads in one read transaction: one consistent snapshot."""
        self.execute("BEGIN")
        try:
            yield
        finally:
            self.execute("COMMIT")

    def close(self) -> None:
        """Close the connection."""
        with translate_driver_errors(self.path):
            self._conn.close()

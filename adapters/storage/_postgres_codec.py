"""Frames to and from the PostgreSQL store's rows, as polars expressions.

Writing: :func:`encode_copy_rows` turns planned event rows into the CSV payload
of one ``COPY`` (integers, timestamps and bytea hex only: nothing to quote).
Reading: :func:`decode_event_rows` turns the Arrow rows ADBC returns into the
event frame (bytea -> text, UUID and hex, participants JSON -> list of structs).
"""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Final

import polars as pl

from adapters.storage._postgres_schema import DB_COLUMNS
from engine import schema as s

__all__ = [
    "decode_event_rows",
    "decode_text",
    "decode_uuid",
    "encode_copy_rows",
    "epoch_us",
    "hex_list",
]

_TEXT_COLUMNS: Final = (
    s.ACTIVITY,
    s.PHASE,
    s.ACTOR,
    s.ORGANIZATION,
    s.WORKSTREAM,
    s.ATTRIBUTES,
)
_PARTICIPANTS_JSON: Final = pl.Struct({"p": pl.List(s.PARTICIPANT_DTYPE)})
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_TS_FORMAT: Final = "%Y-%m-%d %H:%M:%S%.6f+00"


def epoch_us(moment: datetime) -> int:
    """Return microseconds since the Unix epoch (a naive moment is read as UTC)."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return (aware - _EPOCH) // timedelta(microseconds=1)


def decode_text(column: str) -> pl.Expr:
    """Return a bytea (UTF-8) column as text."""
    return pl.col(column).cast(pl.String)


def decode_uuid(column: str) -> pl.Expr:
    """Return a 16-byte bytea column as canonical UUID text."""
    h = pl.col(column).bin.encode("hex")
    return pl.concat_str(
        [
            h.str.slice(0, 8),
            h.str.slice(8, 4),
            h.str.slice(12, 4),
            h.str.slice(16, 4),
            h.str.slice(20, 12),
        ],
        separator="-",
    )


def decode_event_rows(raw: pl.DataFrame) -> pl.DataFrame:
    """Return the raw (not upcast) event frame of rows read by ``_SELECT``."""
    return (
        raw.select(
            pl.col("position"),
            decode_text("pid").alias(s.PARTNERSHIP_ID),
            pl.col("version"),
            decode_uuid("event_id").alias(s.EVENT_ID),
            *[decode_text(DB_COLUMNS[c]).alias(c) for c in _TEXT_COLUMNS],
            pl.col("ts").alias(s.TIMESTAMP),
            pl.col("tz_offset_s").alias(s.TZ_OFFSET),
            decode_text("participants")
            .str.json_decode(_PARTICIPANTS_JSON)
            .struct.field("p")
            .alias(s.PARTICIPANTS),
            pl.col("schema_version").alias(s.SCHEMA_VERSION),
            pl.col("recorded_at").alias(s.RECORDED_AT),
            pl.col("content_hash").bin.encode("hex").alias(s.CONTENT_HASH),
            pl.col("hash").bin.encode("hex").alias(s.HASH),
        )
        .select(s.EVENT_COLUMNS)
        .cast(s.EVENT_SCHEMA)
    )


def hex_list(texts: pl.Series) -> str:
    """Return the distinct texts as comma-separated hex of their UTF-8 (one parameter).

    One text parameter instead of a ``bytea[]`` list: psycopg dumps arrays
    element by element in Python, this is one polars string kernel.
    """
    return texts.unique().str.encode("hex").str.join(",").item() or ""


def _hex_literal(expr: pl.Expr) -> pl.Expr:
    # bytea hex input format; nulls stay null (an empty CSV field is NULL).
    return pl.concat_str([pl.lit("\\x"), expr])


def encode_copy_rows(rows: pl.DataFrame, partnership_ids: pl.DataFrame) -> bytes:
    """Return the CSV payload of ``COPY pm_events FROM STDIN (FORMAT csv)``.

    Every field is an integer, a timestamp or bytea hex, so nothing needs
    quoting or escaping.
    """
    joined = rows.join(partnership_ids, on=s.PARTNERSHIP_ID, how="left")
    out = joined.select(
        pl.col(s.POSITION),
        pl.col("_pid_key").alias("partnership"),
        pl.col(s.VERSION),
        _hex_literal(pl.col(s.EVENT_ID).str.replace_all("-", "")).alias("event_id"),
        *[
            _hex_literal(pl.col(c).str.encode("hex")).alias(DB_COLUMNS[c])
            for c in _TEXT_COLUMNS
        ],
        pl.col(s.TIMESTAMP).dt.to_string(_TS_FORMAT).alias("ts"),
        pl.col(s.TZ_OFFSET).alias("tz_offset_s"),
        _hex_literal(
            pl.struct(pl.col(s.PARTICIPANTS).alias("p"))
            .struct.json_encode()
            .str.encode("hex")
        ).alias("participants"),
        pl.col(s.SCHEMA_VERSION).alias("schema_version"),
        pl.col(s.RECORDED_AT).dt.to_string(_TS_FORMAT).alias("recorded_at"),
        _hex_literal(pl.col(s.CONTENT_HASH)).alias("content_hash"),
        _hex_literal(pl.col(s.HASH)).alias("hash"),
    )
    buffer = io.BytesIO()
    out.write_csv(buffer, include_header=False, quote_style="never", null_value="")
    return buffer.getvalue()

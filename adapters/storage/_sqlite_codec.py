"""Columnar conversion between the event frame and the SQLite row layout.

Everything here is a polars expression over whole frames; no Python runs per
event. Strings are dictionary-coded: the store's ``partnerships`` and ``terms``
tables map them to integer ids, passed in here as two-column frames.

Participants are kept inline as text of term ids, ``"a:o:r;a:o:r"`` (actor,
organization, role; an empty field is null), NULL for a null list and ``""``
for an empty one. Decoding that is a split and a regroup, several times faster
than parsing JSON per row, and no user text can collide with the separators.
"""

from __future__ import annotations

import polars as pl

from engine import schema as s

__all__ = [
    "DIMENSIONS",
    "STORED_COLUMNS",
    "collect_term_ids",
    "collect_terms",
    "decode_event_ids",
    "decode_event_rows",
    "encode_event_ids",
    "encode_event_rows",
    "hex_from_bytes",
]

# Event columns stored as ids into ``terms``.
DIMENSIONS = (s.ACTIVITY, s.PHASE, s.ACTOR, s.ORGANIZATION, s.WORKSTREAM)
_STORED = {
    s.ACTIVITY: "activity",
    s.PHASE: "phase",
    s.ACTOR: "actor",
    s.ORGANIZATION: "organization",
    s.WORKSTREAM: "workstream",
}
STORED_COLUMNS = (
    "position",
    "event_id",
    "partnership",
    "version",
    "activity",
    "timestamp_us",
    "tz_offset_s",
    "phase",
    "actor",
    "organization",
    "participants",
    "workstream",
    "attributes",
    "schema_version",
    "recorded_at_us",
    "content_hash",
    "hash",
)
_FIELDS = ("actor", "organization", "role")
_UUID_PARTS = ((0, 8), (8, 4), (12, 4), (16, 4), (20, 12))


def encode_event_ids(column: str) -> pl.Expr:
    """Return the 16 raw bytes of each UUID string of ``column``."""
    return pl.col(column).str.replace_all("-", "", literal=True).str.decode("hex")


def hex_from_bytes(column: str) -> pl.Expr:
    """Return each byte string of ``column`` as lowercase hex."""
    return pl.col(column).bin.encode("hex")


def decode_event_ids(column: str) -> pl.Expr:
    """Return each 16-byte id of ``column`` as a canonical UUID string."""
    hexed = pl.col(column).bin.encode("hex")
    return pl.concat_str([hexed.str.slice(a, b) for a, b in _UUID_PARTS], separator="-")


def _exploded_participants(frame: pl.DataFrame) -> pl.DataFrame:
    """Return one row per participant: ``_row`` and its three text fields."""
    return (
        frame.select(pl.int_range(pl.len()).alias("_row"), s.PARTICIPANTS)
        .filter(pl.col(s.PARTICIPANTS).list.len() > 0)
        .explode(s.PARTICIPANTS)
        .select(
            "_row",
            *(pl.col(s.PARTICIPANTS).struct.field(f).alias(f"_{f}") for f in _FIELDS),
        )
    )


def collect_terms(frame: pl.DataFrame) -> pl.Series:
    """Return the distinct strings of ``frame`` that ``terms`` must hold."""
    people = _exploded_participants(frame)
    parts = [frame[c].drop_nulls().unique() for c in DIMENSIONS]
    parts += [people[f"_{f}"].drop_nulls().unique() for f in _FIELDS]
    return pl.concat([p.alias("text") for p in parts]).unique(maintain_order=True)


def _to_ids(column: str, terms: pl.DataFrame) -> pl.Expr:
    return pl.col(column).replace_strict(
        terms["text"], terms["id"], default=None, return_dtype=pl.Int64
    )


def _encode_participants(frame: pl.DataFrame, terms: pl.DataFrame) -> pl.Series:
    code = pl.concat_str(
        [_to_ids(f"_{f}", terms).cast(pl.String).fill_null("") for f in _FIELDS],
        separator=":",
    )
    joined = (
        _exploded_participants(frame)
        .group_by("_row", maintain_order=True)
        .agg(code.str.join(";").alias("_code"))
    )
    lengths = frame.select(
        pl.int_range(pl.len()).alias("_row"),
        pl.col(s.PARTICIPANTS).list.len().alias("_n"),
    )
    return (
        lengths.join(joined, on="_row", how="left", maintain_order="left")
        .select(
            pl.when(pl.col("_n") == 0)
            .then(pl.lit(""))
            .otherwise(pl.col("_code"))
            .alias("participants")
        )
        .to_series()
    )


def encode_event_rows(
    rows: pl.DataFrame, *, partnerships: pl.DataFrame, terms: pl.DataFrame
) -> pl.DataFrame:
    """Return event-frame ``rows`` in the ``events`` table layout.

    Parameters
    ----------
    rows
        Recorded events (:data:`engine.schema.EVENT_SCHEMA`).
    partnerships
        ``(name, id)`` of every partnership in ``rows``.
    terms
        ``(text, id)`` of every string in :func:`collect_terms` of ``rows``.
    """
    participants = _encode_participants(rows, terms)
    return rows.select(
        pl.col(s.POSITION).alias("position"),
        encode_event_ids(s.EVENT_ID).alias("event_id"),
        pl.col(s.PARTNERSHIP_ID)
        .replace_strict(partnerships["name"], partnerships["id"], return_dtype=pl.Int64)
        .alias("partnership"),
        pl.col(s.VERSION).alias("version"),
        *(_to_ids(c, terms).alias(_STORED[c]) for c in DIMENSIONS),
        pl.col(s.TIMESTAMP).dt.epoch("us").alias("timestamp_us"),
        pl.col(s.TZ_OFFSET).cast(pl.Int64).alias("tz_offset_s"),
        participants.alias("participants"),
        pl.col(s.ATTRIBUTES).alias("attributes"),
        pl.col(s.SCHEMA_VERSION).cast(pl.Int64).alias("schema_version"),
        pl.col(s.RECORDED_AT).dt.epoch("us").alias("recorded_at_us"),
        pl.col(s.CONTENT_HASH).str.decode("hex").alias("content_hash"),
        pl.col(s.HASH).str.decode("hex").alias("hash"),
    ).select(STORED_COLUMNS)


def _participant_ids(raw: pl.DataFrame) -> pl.DataFrame:
    """Return one row per stored participant: ``_row`` and three term ids."""
    return (
        raw.select(
            pl.int_range(pl.len()).alias("_row"),
            pl.col("participants").cast(pl.String).str.split(";").alias("_p"),
        )
        .filter(pl.col("_p").list.first().str.len_bytes() > 0)
        .explode("_p")
        .select(
            "_row",
            pl.col("_p")
            .str.split_exact(":", 2)
            .struct.rename_fields([f"_{f}" for f in _FIELDS])
            .alias("_s"),
        )
        .unnest("_s")
        .with_columns(pl.col(f"_{f}").cast(pl.Int64, strict=False) for f in _FIELDS)
    )


def collect_term_ids(raw: pl.DataFrame) -> pl.Series:
    """Return the distinct term ids a stored frame refers to."""
    people = _participant_ids(raw)
    parts = [raw[_STORED[c]].cast(pl.Int64) for c in DIMENSIONS]
    parts += [people[f"_{f}"] for f in _FIELDS]
    return pl.concat([p.alias("id") for p in parts]).drop_nulls().unique()


def _to_text(column: str, terms: pl.DataFrame) -> pl.Expr:
    return (
        pl.col(column)
        .cast(pl.Int64)
        .replace_strict(
            terms["id"], terms["text"], default=None, return_dtype=pl.String
        )
    )


def _decode_participants(raw: pl.DataFrame, terms: pl.DataFrame) -> pl.Series:
    people = (
        _participant_ids(raw)
        .group_by("_row", maintain_order=True)
        .agg(
            pl.struct(*(_to_text(f"_{f}", terms).alias(f) for f in _FIELDS)).alias(
                "_list"
            )
        )
    )
    empty = pl.Series([[]], dtype=pl.List(s.PARTICIPANT_DTYPE))
    return (
        raw.select(
            pl.int_range(pl.len()).alias("_row"),
            pl.col("participants").cast(pl.String).alias("_code"),
        )
        .join(people, on="_row", how="left", maintain_order="left")
        .select(
            pl.when(pl.col("_code") == "")
            .then(pl.lit(empty).first())
            .otherwise(pl.col("_list"))
            .cast(pl.List(s.PARTICIPANT_DTYPE))
            .alias(s.PARTICIPANTS)
        )
        .to_series()
    )


def decode_event_rows(
    raw: pl.DataFrame, *, partnerships: pl.DataFrame, terms: pl.DataFrame
) -> pl.DataFrame:
    """Return stored rows (``events`` layout) as a raw event frame.

    Parameters
    ----------
    raw
        Rows as read from ``events`` (columns :data:`STORED_COLUMNS`).
    partnerships
        ``(id, name)`` of every partnership ``raw`` refers to.
    terms
        ``(id, text)`` of every id in :func:`collect_term_ids` of ``raw``.
    """
    if raw.is_empty():
        return pl.DataFrame(schema=s.EVENT_SCHEMA)
    participants = _decode_participants(raw, terms)
    utc = pl.Datetime("us", "UTC")
    return raw.select(
        pl.col("position").alias(s.POSITION),
        pl.col("partnership")
        .replace_strict(
            partnerships["id"], partnerships["name"], return_dtype=pl.String
        )
        .alias(s.PARTNERSHIP_ID),
        pl.col("version").alias(s.VERSION),
        decode_event_ids("event_id").alias(s.EVENT_ID),
        _to_text("activity", terms).alias(s.ACTIVITY),
        pl.col("timestamp_us").cast(utc).alias(s.TIMESTAMP),
        pl.col("tz_offset_s").alias(s.TZ_OFFSET),
        _to_text("phase", terms).alias(s.PHASE),
        _to_text("actor", terms).alias(s.ACTOR),
        _to_text("organization", terms).alias(s.ORGANIZATION),
        participants,
        _to_text("workstream", terms).alias(s.WORKSTREAM),
        pl.col("attributes").cast(pl.String).alias(s.ATTRIBUTES),
        pl.col("schema_version").alias(s.SCHEMA_VERSION),
        pl.col("recorded_at_us").cast(utc).alias(s.RECORDED_AT),
        hex_from_bytes("content_hash").alias(s.CONTENT_HASH),
        hex_from_bytes("hash").alias(s.HASH),
    ).cast(s.EVENT_SCHEMA)

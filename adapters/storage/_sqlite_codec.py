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
import pyarrow as pa

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
    "explode_participants",
    "hex_from_bytes",
    "split_participants",
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


def explode_participants(frame: pl.DataFrame) -> pl.DataFrame:
    """Return one row per participant of an event frame: its three text fields."""
    return (
        frame.select(s.PARTICIPANTS)
        .filter(pl.col(s.PARTICIPANTS).list.len() > 0)
        .explode(s.PARTICIPANTS)
        .select(pl.col(s.PARTICIPANTS).struct.field(f).alias(f"_{f}") for f in _FIELDS)
    )


def collect_terms(frame: pl.DataFrame, people: pl.DataFrame) -> pl.Series:
    """Return the distinct strings of ``frame`` that ``terms`` must hold.

    ``people`` is :func:`explode_participants` of ``frame``.
    """
    parts = [frame[c].drop_nulls().unique() for c in DIMENSIONS]
    parts += [people[f"_{f}"].drop_nulls().unique() for f in _FIELDS]
    return pl.concat([p.alias("text") for p in parts]).unique(maintain_order=True)


def _to_ids(column: str, terms: pl.DataFrame) -> pl.Expr:
    return pl.col(column).replace_strict(
        terms["text"], terms["id"], default=None, return_dtype=pl.Int64
    )


def _offsets(lengths: pl.Series) -> pa.Array:
    ends = lengths.fill_null(0).cast(pl.Int64).cum_sum()
    return pa.concat_arrays(
        [pa.array([0], pa.int64()), ends.to_arrow().cast(pa.int64())]
    )


def _group_by_lengths(values: pl.Series, lengths: pl.Series) -> pl.Series:
    """Return consecutive runs of ``values`` as lists of the given lengths.

    A null length gives a null list. Built from Arrow offsets: no group-by.
    """
    array = pa.LargeListArray.from_arrays(
        _offsets(lengths),
        values.to_arrow(compat_level=pl.CompatLevel.oldest()),
        mask=lengths.is_null().to_arrow(),
    )
    return pl.Series(values.name, array)


def _encode_participants(
    frame: pl.DataFrame, people: pl.DataFrame, terms: pl.DataFrame
) -> pl.Series:
    codes = people.select(
        pl.concat_str(
            [_to_ids(f"_{f}", terms).cast(pl.String).fill_null("") for f in _FIELDS],
            separator=":",
        ).alias("participants")
    ).to_series()
    lengths = frame[s.PARTICIPANTS].list.len()
    return _group_by_lengths(codes, lengths).list.join(";")


def encode_event_rows(
    rows: pl.DataFrame,
    *,
    people: pl.DataFrame,
    partnerships: pl.DataFrame,
    terms: pl.DataFrame,
) -> pl.DataFrame:
    """Return event-frame ``rows`` in the ``events`` table layout.

    Parameters
    ----------
    rows
        Recorded events (:data:`engine.schema.EVENT_SCHEMA`).
    people
        :func:`explode_participants` of ``rows``.
    partnerships
        ``(name, id)`` of every partnership in ``rows``.
    terms
        ``(text, id)`` of every string in :func:`collect_terms` of ``rows``.
    """
    participants = _encode_participants(rows, people, terms)
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


def _participant_lengths(raw: pl.DataFrame) -> pl.Series:
    code = pl.col("participants").cast(pl.String)
    return raw.select(
        pl.when(code == "")
        .then(pl.lit(0, pl.UInt32))
        .otherwise(code.str.count_matches(";", literal=True) + 1)
        .alias("_n")
    ).to_series()


def split_participants(raw: pl.DataFrame) -> pl.DataFrame:
    """Return one row per stored participant: its three term ids, in order."""
    return (
        raw.select(pl.col("participants").cast(pl.String))
        .filter(pl.col("participants").str.len_bytes() > 0)
        .select(pl.col("participants").str.split(";"))
        .explode("participants")
        .select(
            pl.col("participants")
            .str.split_exact(":", 2)
            .struct.rename_fields([f"_{f}" for f in _FIELDS])
            .alias("_s")
        )
        .unnest("_s")
        .with_columns(pl.col(f"_{f}").cast(pl.Int64, strict=False) for f in _FIELDS)
    )


def collect_term_ids(raw: pl.DataFrame, people: pl.DataFrame) -> pl.Series:
    """Return the distinct term ids a stored frame refers to.

    ``people`` is :func:`split_participants` of ``raw``.
    """
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


def _decode_participants(
    raw: pl.DataFrame, people: pl.DataFrame, terms: pl.DataFrame
) -> pl.Series:
    structs = people.select(
        pl.struct(*(_to_text(f"_{f}", terms).alias(f) for f in _FIELDS)).alias(
            s.PARTICIPANTS
        )
    ).to_series()
    lists = _group_by_lengths(structs, _participant_lengths(raw))
    return lists.cast(pl.List(s.PARTICIPANT_DTYPE))


def decode_event_rows(
    raw: pl.DataFrame,
    *,
    people: pl.DataFrame,
    partnerships: pl.DataFrame,
    terms: pl.DataFrame,
) -> pl.DataFrame:
    """Return stored rows (``events`` layout) as a raw event frame.

    Parameters
    ----------
    raw
        Rows as read from ``events`` (columns :data:`STORED_COLUMNS`).
    people
        :func:`split_participants` of ``raw``.
    partnerships
        ``(id, name)`` of every partnership ``raw`` refers to.
    terms
        ``(id, text)`` of every id in :func:`collect_term_ids` of ``raw``.
    """
    if raw.is_empty():
        return pl.DataFrame(schema=s.EVENT_SCHEMA)
    participants = _decode_participants(raw, people, terms)
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

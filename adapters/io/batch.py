"""The common end of every importer: ids, mapping, normalization, problems.

An importer builds a raw frame with input column names (timestamps already
parsed by :mod:`adapters.io.timestamps`), the row or line number of each row in
the source, and the problems it found itself (bad timestamps, wrong types);
:func:`finish_batch` turns that into an :class:`ImportedBatch`.

Events without an id get a deterministic UUID (version 5) over their content
and their occurrence number among identical events, so importing the same file
twice is a no-op in the store.

Examples
--------
>>> import uuid
>>> content_uuid_series(pl.Series(["a"])).item() == str(uuid.uuid5(IMPORT_NAMESPACE, "a"))
True
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from operator import methodcaller
from typing import TYPE_CHECKING, Literal

import numpy as np
import polars as pl
import pyarrow as pa

from engine import schema as s
from engine.errors import ValidationError
from engine.validation import (
    apply_activity_mapping,
    find_invalid_rows,
    normalize_input_frame,
    raise_first_invalid,
    split_valid_rows,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "IMPORT_NAMESPACE",
    "ImportedBatch",
    "content_ids",
    "content_keys",
    "content_uuid_series",
    "finish_batch",
    "first_occurrence_ids",
]

# 16 ASCII bytes, so the uuid5 prefix can be joined to the names as text.
IMPORT_NAMESPACE = uuid.UUID(bytes=b"partnermine:evts")
PROBLEM_SCHEMA = pl.Schema({"row": pl.Int64, "field": pl.String, "reason": pl.String})
Unit = Literal["row", "line"]
_digest = methodcaller("digest")
_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_HEX_AT = np.array([i for i in range(36) if i not in (8, 13, 18, 23)])


def content_uuid_series(names: pl.Series) -> pl.Series:
    """Return ``uuid5(IMPORT_NAMESPACE, name)`` text for every name.

    Only the SHA-1 itself runs per value (hashlib, in C, via ``map``); the
    version bits and the hex layout are numpy operations on all digests.
    """
    n = names.len()
    prefixed = (
        names.to_frame("n")
        .select(pl.concat_str([pl.lit(IMPORT_NAMESPACE.bytes.decode()), pl.col("n")]))
        .to_series()
        .cast(pl.Binary)
    )
    digests = b"".join(map(_digest, map(hashlib.sha1, prefixed.to_list())))
    raw = np.frombuffer(digests, dtype=np.uint8).reshape(n, 20)[:, :16].copy()
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x50  # version 5
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80  # RFC 4122 variant
    text = np.full((n, 36), ord("-"), dtype=np.uint8)
    text[:, _HEX_AT[0::2]] = _HEX[raw >> 4]
    text[:, _HEX_AT[1::2]] = _HEX[raw & 0x0F]
    offsets = np.arange(0, 36 * (n + 1), 36, dtype=np.int64)
    array = pa.LargeStringArray.from_buffers(
        n, pa.py_buffer(offsets), pa.py_buffer(text.ravel())
    )
    return pl.Series(s.EVENT_ID, pl.from_arrow(array), dtype=pl.String)


def content_keys(frame: pl.DataFrame) -> pl.Series:
    """Return what each event of a raw frame is: its uuid5 name, less the occurrence.

    Partnership, activity, timestamp, actor and organization (those the frame
    has), joined; an importer that reads in blocks may take the keys (and
    :func:`first_occurrence_ids`) block by block.
    """
    parts = [s.PARTNERSHIP_ID, s.ACTIVITY, s.TIMESTAMP, s.ACTOR, s.ORGANIZATION]
    fields = [
        (pl.col(p).dt.epoch("us") if p == s.TIMESTAMP else pl.col(p))
        .cast(pl.String)
        .fill_null("~")
        for p in parts
        if p in frame.columns
    ]
    return frame.select(
        pl.concat_str(fields, separator="\x1f").alias("key")
    ).to_series()


def first_occurrence_ids(keys: pl.Series) -> pl.Series:
    """Return the id each event gets when no other event has its key."""
    names = keys.to_frame("key").select(
        pl.concat_str([pl.col("key"), pl.lit("0")], separator="\x1f")
    )
    return content_uuid_series(names.to_series())


def content_ids(keys: pl.Series, *, provisional: pl.Series | None = None) -> pl.Series:
    """Return the content-derived id of every event of a source, from its key.

    Events with the same key (equal in partnership, activity, timestamp,
    actor and organization) are told apart by their occurrence number in the
    source (file order): the name is the key, a unit separator, the occurrence.

    Parameters
    ----------
    keys
        :func:`content_keys` of the whole source, in its order.
    provisional
        :func:`first_occurrence_ids` of ``keys`` when the importer has them:
        then only the repeated events are hashed here.
    """
    ids = provisional if provisional is not None else first_occurrence_ids(keys)
    keyed = keys.to_frame("key")
    # Equal keys hash alike: the strings are compared only where hashes repeat.
    candidates = keyed.select(pl.col("key").hash().is_duplicated().arg_true())
    repeated = candidates.to_series().filter(
        keyed["key"].gather(candidates.to_series()).is_duplicated()
    )
    if repeated.is_empty():
        return ids.alias(s.EVENT_ID)
    # Only the repeated events are numbered (a window over them alone).
    names = keyed[repeated].select(
        pl.concat_str(
            [pl.col("key"), pl.int_range(pl.len()).over("key").cast(pl.String)],
            separator="\x1f",
        )
    )
    return (
        ids.clone()
        .scatter(repeated, content_uuid_series(names.to_series()))
        .alias(s.EVENT_ID)
    )


def _fill_event_ids(frame: pl.DataFrame, generated: pl.Series | None) -> pl.DataFrame:
    if generated is None:
        generated = content_ids(content_keys(frame))
    if s.EVENT_ID not in frame.columns:
        return frame.with_columns(generated)
    return frame.with_columns(
        pl.coalesce(pl.col(s.EVENT_ID).cast(pl.String), generated).alias(s.EVENT_ID)
    )


@dataclass(frozen=True)
class ImportedBatch:
    """Events read from one source, normalized, with every problem found.

    Attributes
    ----------
    frame
        All rows, cast to :data:`engine.schema.INPUT_SCHEMA`.
    source_rows
        For each frame row, its row (1-based data row) or line in the source.
    problems
        ``(row, field, reason)`` per problem; ``row`` is the 0-based frame row.
    source
        The file the events came from.
    unit
        ``"row"`` or ``"line"``: what ``source_rows`` counts.
    original
        The source values of each frame row (as text), for reject files.
    labels
        Event column -> the source's name for it, used in messages.
    """

    frame: pl.DataFrame
    source_rows: pl.Series
    problems: pl.DataFrame
    source: str
    unit: Unit
    original: pl.DataFrame
    labels: Mapping[str, str] = field(default_factory=dict)

    def raise_if_invalid(self) -> None:
        """Raise a :class:`ValidationError` naming the first problem, if any."""
        if self.problems.is_empty():
            return
        labelled = self.problems.with_columns(
            pl.col("field").replace(dict(self.labels))
        )
        if self.unit == "row":
            raise_first_invalid(
                labelled, source=self.source, row_numbers=self.source_rows
            )
        row, name, reason = labelled.row(0)
        line = int(self.source_rows[row])
        raise ValidationError(reason, source=self.source, line=line, field=name)

    def split_valid(self) -> tuple[pl.DataFrame, pl.DataFrame]:
        """Return ``(valid rows, rejects)``; rejects hold row/line, field, reason.

        The rejects frame has one row per problem, then the original values.
        """
        valid, _ = split_valid_rows(self.frame, self.problems)
        numbers = pl.DataFrame(
            {
                "_i": pl.int_range(0, self.frame.height, eager=True).cast(pl.Int64),
                self.unit: self.source_rows,
            }
        )
        located = (
            self.problems.rename({"row": "_i"})
            .join(numbers, on="_i", how="left", maintain_order="left")
            .with_columns(pl.col("field").replace(dict(self.labels)))
        )
        originals = self.original.with_row_index("_i").with_columns(
            pl.col("_i").cast(pl.Int64)
        )
        rejects = located.join(
            originals, on="_i", how="left", maintain_order="left", suffix="_source"
        ).select(self.unit, "field", "reason", *self.original.columns)
        return valid, rejects

    @property
    def partnerships(self) -> int:
        """Return the number of distinct partnerships in the batch."""
        return int(self.frame[s.PARTNERSHIP_ID].n_unique())


def _merge_problems(found: pl.DataFrame, own: pl.DataFrame | None) -> pl.DataFrame:
    if own is None or own.is_empty():
        return found
    own = own.cast(dict(PROBLEM_SCHEMA))  # type: ignore[arg-type]
    merged = pl.concat(
        [
            own.with_columns(pl.lit(0).alias("o")),
            found.with_columns(pl.lit(1).alias("o")),
        ]
    )
    return (
        merged.sort("row", "o", maintain_order=True)
        .unique(subset=["row", "field"], keep="first", maintain_order=True)
        .drop("o")
    )


def finish_batch(
    raw: pl.DataFrame,
    *,
    source: str,
    source_rows: pl.Series,
    unit: Unit,
    problems: pl.DataFrame | None = None,
    mapping: Mapping[str, str] | None = None,
    original: pl.DataFrame | None = None,
    labels: Mapping[str, str] | None = None,
    generated_ids: pl.Series | None = None,
) -> ImportedBatch:
    """Return the :class:`ImportedBatch` of a raw importer frame.

    Parameters
    ----------
    raw
        Columns named as :data:`engine.schema.INPUT_SCHEMA` (a subset).
    source
        The file name, for error messages.
    source_rows
        Row or line number in the source of each raw row.
    unit
        What ``source_rows`` counts.
    problems
        Problems the importer found itself (0-based rows).
    mapping
        Activity renames applied after ids are assigned.
    original
        Source values per row, kept for reject files (default: ``raw``).
    labels
        Event column -> the source's name for it (for messages).
    generated_ids
        :func:`content_ids` of ``raw``, when the importer computed them (block
        by block); they fill the rows without an event id.

    Raises
    ------
    ValidationError
        A required column is missing, or a column cannot take its type.
    """
    with_ids = _fill_event_ids(raw, generated_ids)
    mapped = apply_activity_mapping(with_ids, mapping or {})
    frame = normalize_input_frame(mapped, source=source)
    merged = _merge_problems(find_invalid_rows(frame), problems)
    return ImportedBatch(
        frame=frame,
        source_rows=source_rows.cast(pl.Int64).alias(unit),
        problems=merged,
        source=source,
        unit=unit,
        original=original if original is not None else raw,
        labels=dict(labels or {}),
    )

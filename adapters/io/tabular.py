"""Import CSV and Parquet event tables through a column mapping (like pm4py format_dataframe).

The mapped columns become the event fields; every other column goes to the
``attributes`` JSON (typed: numbers stay numbers). Defaults are pm4py's column
names, so a frame exported by pm4py or by ``partnermine export`` reads back
without options.

Examples
--------
>>> ColumnMapping(case="ticket").case
'ticket'
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from adapters.io.batch import ImportedBatch, finish_batch
from adapters.io.jsontext import attributes_from_columns_expr
from adapters.io.timestamps import parse_timestamps, timestamp_problems
from engine import schema as s
from engine.errors import ValidationError

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "ColumnMapping",
    "read_csv_events",
    "read_parquet_events",
    "read_table_events",
]

# mapping field -> (event column, CLI option)
_TARGETS = {
    "case": (s.PARTNERSHIP_ID, "--case"),
    "activity": (s.ACTIVITY, "--activity"),
    "timestamp": (s.TIMESTAMP, "--timestamp"),
    "resource": (s.ACTOR, "--resource"),
    "organization": (s.ORGANIZATION, "--organization"),
    "event_id": (s.EVENT_ID, "--event-id"),
    "phase": (s.PHASE, "--phase"),
    "workstream": (s.WORKSTREAM, "--workstream"),
}
_REQUIRED = ("case", "activity", "timestamp")
# Columns ``partnermine export`` writes that are not user attributes.
_STORE_COLUMNS = frozenset(
    {
        s.TZ_OFFSET,
        s.VERSION,
        s.POSITION,
        s.RECORDED_AT,
        s.CONTENT_HASH,
        s.HASH,
        s.SCHEMA_VERSION,
        s.ATTRIBUTES,
        s.PARTICIPANTS,
    }
)


@dataclass(frozen=True)
class ColumnMapping:
    """Which source column holds which event field (None: absent or default).

    Optional fields default to the pm4py / partnermine column name when the
    source has it (``org:resource``, ``organization``, ``event_id``, ...).
    """

    case: str = s.PARTNERSHIP_ID
    activity: str = s.ACTIVITY
    timestamp: str = s.TIMESTAMP
    resource: str | None = None
    organization: str | None = None
    event_id: str | None = None
    phase: str | None = None
    workstream: str | None = None
    timestamp_format: str | None = None

    def resolve(self, columns: list[str], *, source: str) -> dict[str, str]:
        """Return ``{field: source column}`` for the fields present in ``columns``.

        Raises
        ------
        ValidationError
            A required or explicitly named column is missing.
        """
        resolved: dict[str, str] = {}
        for f in fields(self):
            if f.name not in _TARGETS:
                continue
            given = getattr(self, f.name)
            target, option = _TARGETS[f.name]
            name = given if given is not None else target
            if name in columns:
                resolved[f.name] = name
            elif given is not None and (f.name in _REQUIRED or given != target):
                msg = f"missing column {name!r} (mapped with {option}); columns are: {', '.join(columns)}"
                raise ValidationError(msg, source=source, field=name)
        return resolved


def _check_scalar(frame: pl.DataFrame, used: dict[str, str], source: str) -> None:
    for name in used.values():
        dtype = frame.schema[name]
        if dtype.is_nested():
            msg = f"wrong type: {dtype} (expected text)"
            raise ValidationError(msg, source=source, field=name)


def _originals(frame: pl.DataFrame) -> pl.DataFrame:
    exprs = []
    for name, dtype in frame.schema.items():
        col = pl.col(name)
        if dtype.is_nested():
            encoded = pl.struct(col.alias("v")).struct.json_encode()
            exprs.append(encoded.str.slice(5, encoded.str.len_chars() - 6).alias(name))
        else:
            exprs.append(col.cast(pl.String).alias(name))
    return frame.select(exprs)


def _offsets(frame: pl.DataFrame, times: pl.DataFrame) -> pl.Series:
    # A UTC datetime column loses the original offset; an exported table
    # carries it in tz_offset_s.
    if s.TZ_OFFSET in frame.columns and frame.schema[s.TZ_OFFSET].is_integer():
        return frame[s.TZ_OFFSET].cast(pl.Int32).fill_null(times[s.TZ_OFFSET])
    return times[s.TZ_OFFSET]


def _participants(frame: pl.DataFrame) -> pl.Series:
    dtype = pl.List(s.PARTICIPANT_DTYPE)
    if s.PARTICIPANTS not in frame.columns:
        return pl.Series(s.PARTICIPANTS, [None] * frame.height, dtype=dtype)
    column = frame[s.PARTICIPANTS]
    if column.dtype == pl.String:
        try:
            return column.str.json_decode(dtype)
        except pl.exceptions.PolarsError as e:
            msg = f"not a JSON list of {{actor, organization, role}}: {e}".splitlines()[
                0
            ]
            raise ValidationError(msg, field=s.PARTICIPANTS) from e
    return column.cast(dtype)


def _attributes(frame: pl.DataFrame, rest: dict[str, pl.DataType]) -> pl.Series:
    built = frame.select(
        attributes_from_columns_expr(rest)
        if rest
        else pl.repeat(None, frame.height, dtype=pl.String).alias(s.ATTRIBUTES)
    ).to_series()
    if s.ATTRIBUTES not in frame.columns:
        return built
    given = frame[s.ATTRIBUTES].cast(pl.String)
    if not rest:
        return given
    # Both: merge the extra columns into the given JSON object.
    merged = pl.DataFrame({"g": given, "b": built}).select(
        pl.when(pl.col("g").is_null())
        .then(pl.col("b"))
        .when(pl.col("b").is_null())
        .then(pl.col("g"))
        .otherwise(
            pl.concat_str(
                [
                    pl.col("g").str.strip_suffix("}"),
                    pl.lit(","),
                    pl.col("b").str.strip_prefix("{"),
                ]
            )
        )
    )
    return merged.to_series()


def read_table_events(
    frame: pl.DataFrame,
    *,
    source: str,
    columns: ColumnMapping | None = None,
    timezone: str | None = None,
    mapping: Mapping[str, str] | None = None,
) -> ImportedBatch:
    """Return the events of an already-read table as an :class:`ImportedBatch`.

    Rows are numbered from 1 (the header is not a row).

    Raises
    ------
    ValidationError
        A mapped column is missing or has a nested type.
    """
    columns = columns or ColumnMapping()
    used = columns.resolve(frame.columns, source=source)
    _check_scalar(frame, used, source)
    times = parse_timestamps(
        frame[used["timestamp"]], timezone=timezone, fmt=columns.timestamp_format
    )
    mapped = {
        _TARGETS[f][0]: frame[col].cast(pl.String)
        for f, col in used.items()
        if f != "timestamp"
    }
    rest = {
        n: d
        for n, d in frame.schema.items()
        if n not in used.values() and n not in _STORE_COLUMNS
    }
    raw = pl.DataFrame(
        {
            **mapped,
            s.TIMESTAMP: times[s.TIMESTAMP],
            s.TZ_OFFSET: _offsets(frame, times),
            s.PARTICIPANTS: _participants(frame),
            s.ATTRIBUTES: _attributes(frame, rest),
        }
    )
    problems = timestamp_problems(times)
    return finish_batch(
        raw,
        source=source,
        source_rows=pl.int_range(1, frame.height + 1, eager=True),
        unit="row",
        problems=problems,
        mapping=mapping,
        original=_originals(frame),
        labels={_TARGETS[f][0]: col for f, col in used.items()},
    )


def read_csv_events(
    path: Path | str,
    *,
    columns: ColumnMapping | None = None,
    timezone: str | None = None,
    mapping: Mapping[str, str] | None = None,
    separator: str = ",",
) -> ImportedBatch:
    """Return the events of a CSV file (every column read as text).

    Raises
    ------
    ValidationError
        The file is not readable as CSV (ragged rows, bad quoting, not UTF-8),
        or a mapped column is missing.
    """
    path = Path(path)
    try:
        frame = pl.scan_csv(path, infer_schema=False, separator=separator).collect()
    except (pl.exceptions.ComputeError, pl.exceptions.NoDataError) as e:
        msg = f"not a readable CSV file: {e}".splitlines()[0]
        raise ValidationError(msg, source=str(path)) from e
    return read_table_events(
        frame, source=str(path), columns=columns, timezone=timezone, mapping=mapping
    )


def read_parquet_events(
    path: Path | str,
    *,
    columns: ColumnMapping | None = None,
    timezone: str | None = None,
    mapping: Mapping[str, str] | None = None,
) -> ImportedBatch:
    """Return the events of a Parquet file (column types kept).

    Raises
    ------
    ValidationError
        The file is not Parquet, or a mapped column is missing or nested.
    """
    path = Path(path)
    try:
        frame = pl.scan_parquet(path).collect()
    except (pl.exceptions.ComputeError, OSError) as e:
        msg = f"not a readable Parquet file: {e}".splitlines()[0]
        raise ValidationError(msg, source=str(path)) from e
    return read_table_events(
        frame, source=str(path), columns=columns, timezone=timezone, mapping=mapping
    )

"""Write an event frame to XES, Parquet, CSV or JSON Lines.

Every writer takes a frame with the columns of
:data:`engine.schema.INPUT_SCHEMA` (an event frame from ``store.to_frame``
works too) and builds the output text with polars expressions over the whole
frame; only whole traces or blocks of lines are handed to the file.

Each format reads back with the matching importer: XES through
:func:`adapters.io.xes.read_xes` (and ``pm4py.read_xes``), Parquet and CSV
through :mod:`adapters.io.tabular` with the default column mapping, JSON Lines
through :func:`adapters.io.jsonl.read_jsonl`.
"""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import IO, TYPE_CHECKING, Literal

import polars as pl

from adapters.io.timestamps import format_timestamp_expr
from engine import schema as s
from engine.errors import ValidationError

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = [
    "EXPORT_FORMATS",
    "write_csv",
    "write_events",
    "write_jsonl",
    "write_parquet",
    "write_xes",
]

ExportFormat = Literal["xes", "parquet", "csv", "jsonl"]
EXPORT_FORMATS: tuple[ExportFormat, ...] = ("xes", "parquet", "csv", "jsonl")
_KEY_RE = r'"((?:[^"\\]|\\.)*)"\s*:'
_XES_HEADER = """<?xml version="1.0" encoding="UTF-8"?>
<log xes.version="1849-2016" xes.features="nested-attributes" xmlns="http://www.xes-standard.org/">
\t<extension name="Concept" prefix="concept" uri="http://www.xes-standard.org/concept.xesext"/>
\t<extension name="Time" prefix="time" uri="http://www.xes-standard.org/time.xesext"/>
\t<extension name="Organizational" prefix="org" uri="http://www.xes-standard.org/org.xesext"/>
\t<extension name="Lifecycle" prefix="lifecycle" uri="http://www.xes-standard.org/lifecycle.xesext"/>
\t<extension name="Identity" prefix="identity" uri="http://www.xes-standard.org/identity.xesext"/>
"""
_LINES_PER_WRITE = 20_000


def _xml_escape(expr: pl.Expr) -> pl.Expr:
    return expr.str.replace_many(
        ["&", "<", ">", '"', "\n", "\r", "\t"],
        ["&amp;", "&lt;", "&gt;", "&quot;", "&#10;", "&#13;", "&#9;"],
    )


def _xes_attr(kind: str, key: str, value: pl.Expr, indent: str) -> pl.Expr:
    return pl.when(value.is_not_null()).then(
        pl.concat_str(
            [
                pl.lit(f'{indent}<{kind} key="{key}" value="'),
                _xml_escape(value.cast(pl.String)),
                pl.lit('"/>\n'),
            ]
        )
    )


def _decode_attributes(frame: pl.DataFrame) -> pl.DataFrame:
    """Return one column per attribute key (typed when the JSON allows it)."""
    text = frame[s.ATTRIBUTES]
    if text.null_count() == text.len():
        return pl.DataFrame()
    try:
        decoded = text.str.json_decode(infer_schema_length=None)
    except pl.exceptions.PolarsError:
        keys = text.str.extract_all(_KEY_RE).explode().drop_nulls().unique().sort()
        names = [k[1:].rsplit('"', 1)[0] for k in keys.to_list()]
        decoded = text.str.json_decode(pl.Struct(dict.fromkeys(names, pl.String())))
    if not isinstance(decoded.dtype, pl.Struct):
        return pl.DataFrame()
    return decoded.struct.unnest()


def _xes_kind(dtype: pl.DataType) -> str:
    if dtype == pl.Boolean:
        return "boolean"
    if dtype.is_integer():
        return "int"
    if dtype.is_float():
        return "float"
    return "string"


def _attribute_exprs(
    attrs: pl.DataFrame, *, trace_level: bool, indent: str
) -> list[pl.Expr]:
    exprs = []
    for name, dtype in attrs.schema.items():
        if name.startswith("case:") != trace_level:
            continue
        key = name.removeprefix("case:") if trace_level else name
        col = pl.col(name)
        if dtype.is_nested():
            encoded = pl.struct(col.alias("v")).struct.json_encode()
            col = pl.when(col.is_not_null()).then(
                encoded.str.slice(5, encoded.str.len_chars() - 6)
            )
        value = col.cast(pl.String)
        if dtype == pl.Boolean:
            value = (
                pl.when(col).then(pl.lit("true")).when(col.not_()).then(pl.lit("false"))
            )
        escaped_key = (
            key.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
        )
        exprs.append(_xes_attr(_xes_kind(dtype), escaped_key, value, indent))
    return exprs


def _event_xml(frame: pl.DataFrame, attrs: pl.DataFrame) -> pl.Expr:
    i3 = "\t\t\t"
    participants = pl.struct(pl.col(s.PARTICIPANTS).alias("v")).struct.json_encode()
    parts = [
        pl.lit("\t\t<event>\n"),
        _xes_attr("id", "identity:id", pl.col(s.EVENT_ID), i3),
        _xes_attr("string", "concept:name", pl.col(s.ACTIVITY), i3),
        _xes_attr("date", "time:timestamp", format_timestamp_expr(), i3),
        _xes_attr("string", "org:resource", pl.col(s.ACTOR), i3),
        _xes_attr("string", "org:group", pl.col(s.ORGANIZATION), i3),
        _xes_attr("string", "phase", pl.col(s.PHASE), i3),
        _xes_attr("string", "workstream", pl.col(s.WORKSTREAM), i3),
        _xes_attr(
            "string",
            "participants",
            pl.when(pl.col(s.PARTICIPANTS).list.len() > 0).then(
                participants.str.slice(5, participants.str.len_chars() - 6)
            ),
            i3,
        ),
        *_attribute_exprs(attrs, trace_level=False, indent=i3),
        pl.lit("\t\t</event>\n"),
    ]
    del frame
    return pl.concat_str(parts, ignore_nulls=True)


def _open_text(path: Path) -> IO[str]:
    if path.name.endswith(".gz"):
        return gzip.open(path, "wt", encoding="utf-8", compresslevel=6)
    return path.open("w", encoding="utf-8")


def _write_chunks(handle: IO[str], texts: pl.Series) -> None:
    for start in range(0, texts.len(), _LINES_PER_WRITE):
        handle.write("".join(texts.slice(start, _LINES_PER_WRITE).to_list()))


def write_xes(frame: pl.DataFrame, path: Path | str) -> int:
    """Write ``frame`` as XES (gzip when the name ends in ``.gz``); return the events written.

    Traces are partnerships in order of first appearance; events keep frame
    order. ``attributes`` keys become typed XES attributes (``case:<key>`` ones
    go to the trace); the event id is written as ``identity:id``.
    """
    path = Path(path)
    attrs = _decode_attributes(frame)
    wide = pl.concat([frame, attrs], how="horizontal") if attrs.width else frame
    i2 = "\t\t"
    events = wide.select(
        pl.col(s.PARTNERSHIP_ID).alias("case"),
        _event_xml(frame, attrs).alias("xml"),
        *[pl.col(c) for c in attrs.columns if c.startswith("case:")],
    )
    trace_attrs = _attribute_exprs(attrs, trace_level=True, indent=i2)
    traces = (
        events.group_by("case", maintain_order=True)
        .agg(
            pl.col("xml"),
            *[
                pl.col(c).drop_nulls().first()
                for c in attrs.columns
                if c.startswith("case:")
            ],
        )
        .select(
            pl.concat_str(
                [
                    pl.lit("\t<trace>\n"),
                    _xes_attr("string", "concept:name", pl.col("case"), i2),
                    *trace_attrs,
                    pl.col("xml").list.join(""),
                    pl.lit("\t</trace>\n"),
                ],
                ignore_nulls=True,
            )
        )
        .to_series()
    )
    with _open_text(path) as handle:
        handle.write(_XES_HEADER)
        _write_chunks(handle, traces)
        handle.write("</log>\n")
    return frame.height


def _jsonl_lines(frame: pl.DataFrame) -> pl.Series:
    fields = pl.struct(
        pl.col(s.EVENT_ID).alias("event_id"),
        pl.col(s.PARTNERSHIP_ID).alias("partnership_id"),
        pl.col(s.ACTIVITY).alias("activity"),
        format_timestamp_expr().alias("timestamp"),
        pl.col(s.PHASE).alias("phase"),
        pl.col(s.ACTOR).alias("actor"),
        pl.col(s.ORGANIZATION).alias("organization"),
        pl.col(s.PARTICIPANTS).alias("participants"),
        pl.col(s.WORKSTREAM).alias("workstream"),
    ).struct.json_encode()
    return frame.select(
        pl.concat_str(
            [
                fields.str.strip_suffix("}"),
                pl.lit(',"attributes":'),
                pl.col(s.ATTRIBUTES).fill_null("null"),
                pl.lit("}\n"),
            ]
        )
    ).to_series()


def write_jsonl(frame: pl.DataFrame, path: Path | str) -> int:
    """Write ``frame`` as JSON Lines in the DOMAIN.md layout; return the events written."""
    path = Path(path)
    with _open_text(path) as handle:
        _write_chunks(handle, _jsonl_lines(frame))
    return frame.height


def _flat_columns(frame: pl.DataFrame) -> Iterable[pl.Expr]:
    participants = pl.struct(pl.col(s.PARTICIPANTS).alias("v")).struct.json_encode()
    for name in s.INPUT_COLUMNS:
        if name == s.TIMESTAMP:
            yield format_timestamp_expr()
        elif name == s.PARTICIPANTS:
            yield (
                pl.when(pl.col(name).list.len() > 0)
                .then(participants.str.slice(5, participants.str.len_chars() - 6))
                .alias(name)
            )
        elif name in frame.columns:
            yield pl.col(name)


def write_csv(frame: pl.DataFrame, path: Path | str) -> int:
    """Write ``frame`` as CSV (timestamps ISO 8601 with their offset, JSON text for lists)."""
    frame.select(_flat_columns(frame)).write_csv(Path(path))
    return frame.height


def write_parquet(frame: pl.DataFrame, path: Path | str) -> int:
    """Write ``frame`` as Parquet, column types kept (timestamps UTC plus ``tz_offset_s``)."""
    frame.select([c for c in s.INPUT_COLUMNS if c in frame.columns]).write_parquet(
        Path(path)
    )
    return frame.height


def write_events(frame: pl.DataFrame, path: Path | str, *, fmt: str) -> int:
    """Write ``frame`` to ``path`` in format ``fmt`` (xes, parquet, csv, jsonl).

    Raises
    ------
    ValidationError
        ``fmt`` is not one of :data:`EXPORT_FORMATS`.
    """
    writers = {
        "xes": write_xes,
        "parquet": write_parquet,
        "csv": write_csv,
        "jsonl": write_jsonl,
    }
    writer = writers.get(fmt)
    if writer is None:
        msg = f"unknown export format {fmt!r} (one of {', '.join(EXPORT_FORMATS)})"
        raise ValidationError(msg, field="format")
    return writer(frame, path)

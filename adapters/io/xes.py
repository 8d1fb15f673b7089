"""Import XES logs (``.xes``, ``.xes.gz``) as an :class:`ImportedBatch`.

Mapping (as pm4py): trace ``concept:name`` -> partnership, event
``concept:name`` -> activity, ``time:timestamp`` -> timestamp, ``org:resource``
-> actor, ``org:group`` -> organization; every other event attribute (with
``lifecycle:transition``) and every other trace attribute (as ``case:<key>``)
goes to the ``attributes`` JSON. With ``lifecycle_classifier`` the activity is
``concept:name+lifecycle:transition`` (BPIC 2013 needs it).

The fast path is :mod:`adapters.io.xes_stream` (vectorized); unusual or
malformed files go through lxml ``iterparse`` with element clearing, which
names the line of any syntax error.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import polars as pl

from adapters.io.batch import ImportedBatch, finish_batch
from adapters.io.jsontext import attributes_from_long
from adapters.io.timestamps import parse_timestamps, timestamp_problems
from adapters.io.xes_stream import DEFAULT_BLOCK_BYTES, iter_xes_parts, open_xes_binary
from adapters.io.xes_text import ATTRIBUTE_KINDS, UnusualLayout, XesParts
from engine import schema as s
from engine.errors import ValidationError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

__all__ = ["read_xes", "read_xes_parts_lxml"]

_SPECIAL = {
    "concept:name": s.ACTIVITY,
    "time:timestamp": s.TIMESTAMP,
    "org:resource": s.ACTOR,
    "org:group": s.ORGANIZATION,
}
_LIFECYCLE = "lifecycle:transition"
_IDENTITY = "identity:id"
_UUID_RE = r"(?i)^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
_EXTRACTED = [*_SPECIAL, _LIFECYCLE, _IDENTITY]
_EVENTS_SCHEMA = {"event_idx": pl.Int64, "trace_idx": pl.Int64, "line": pl.Int64}
_EVENT_ATTR_SCHEMA = {
    "event_idx": pl.Int64,
    "key": pl.String,
    "kind": pl.String,
    "value": pl.String,
    "line": pl.Int64,
}
_TRACE_ATTR_SCHEMA = {
    "trace_idx": pl.Int64,
    "key": pl.String,
    "kind": pl.String,
    "value": pl.String,
}


def _localname(tag: Any) -> str:
    text = str(tag)
    return text.rsplit("}", 1)[-1]


class _LxmlCollector:
    """Collects the long form while lxml streams (one Python step per element)."""

    def __init__(self) -> None:
        self.events: list[tuple[int, int, int]] = []
        self.event_attrs: list[tuple[int, str, str, str, int]] = []
        self.trace_attrs: list[tuple[int, str, str, str]] = []
        self.traces = 0

    def take_event(self, elem: Any) -> None:
        idx = len(self.events)
        self.events.append((idx, self.traces, int(elem.sourceline or 0)))
        for child in elem:
            kind = _localname(child.tag)
            if kind in ATTRIBUTE_KINDS and child.get("key") is not None:
                self.event_attrs.append(
                    (
                        idx,
                        child.get("key"),
                        kind,
                        child.get("value"),
                        int(child.sourceline or 0),
                    )
                )

    def take_trace_attr(self, elem: Any) -> None:
        self.trace_attrs.append(
            (self.traces, elem.get("key"), _localname(elem.tag), elem.get("value"))
        )

    def to_parts(self) -> XesParts:
        return XesParts(
            events=[pl.DataFrame(self.events, schema=_EVENTS_SCHEMA, orient="row")],
            event_attrs=[
                pl.DataFrame(self.event_attrs, schema=_EVENT_ATTR_SCHEMA, orient="row")
            ],
            trace_attrs=[
                pl.DataFrame(self.trace_attrs, schema=_TRACE_ATTR_SCHEMA, orient="row")
            ],
        )


def _iterparse_xes(stream: Any, source: str) -> XesParts:
    from lxml import etree

    collector = _LxmlCollector()
    depth = 0
    for action, elem in etree.iterparse(
        stream, events=("start", "end"), huge_tree=True
    ):
        name = _localname(elem.tag)
        if action == "start":
            if depth == 0 and name != "log":
                msg = f"not an XES file: the root element is <{name}>, not <log>"
                raise ValidationError(
                    msg, source=source, line=elem.sourceline, field="log"
                )
            depth += 1
            continue
        depth -= 1
        parent = elem.getparent()
        parent_name = _localname(parent.tag) if parent is not None else ""
        if name == "event" and parent_name == "trace":
            collector.take_event(elem)
            elem.clear()
        elif name in ATTRIBUTE_KINDS and parent_name == "trace":
            collector.take_trace_attr(elem)
        elif name == "trace":
            collector.traces += 1
            elem.clear()
            while elem.getprevious() is not None:
                del parent[0]
    return collector.to_parts()


def read_xes_parts_lxml(path: Path) -> XesParts:
    """Return the long form of an XES file with lxml's streaming parser.

    Raises
    ------
    ValidationError
        The file is not well-formed XML (naming the line), or not XES.
    """
    from lxml import etree

    stream, raw = open_xes_binary(path)
    try:
        return _iterparse_xes(stream, str(path))
    except etree.XMLSyntaxError as e:
        line = e.position[0] if e.position else None
        msg = f"not well-formed XML (truncated or not XES?): {e.msg}"
        raise ValidationError(msg, source=str(path), line=line) from e
    except (EOFError, OSError) as e:
        msg = f"truncated or corrupt compressed file: {e}"
        raise ValidationError(msg, source=str(path)) from e
    finally:
        stream.close()
        raw.close()


def _attribute_rows(parts: XesParts, events: pl.DataFrame) -> pl.DataFrame:
    event_attrs = pl.concat(parts.event_attrs).cast(_EVENT_ATTR_SCHEMA)  # type: ignore[arg-type]
    trace_attrs = pl.concat(parts.trace_attrs).cast(_TRACE_ATTR_SCHEMA)  # type: ignore[arg-type]
    own = event_attrs.filter(~pl.col("key").is_in(list(_SPECIAL)))
    if own.select((pl.col("key") == _IDENTITY).any()).item():
        # identity:id becomes the event id when it is a UUID; else an attribute.
        own = own.filter(
            (pl.col("key") != _IDENTITY) | ~pl.col("value").str.contains(_UUID_RE)
        )
    own = own.select("event_idx", "key", "kind", "value")
    inherited = (
        trace_attrs.filter(pl.col("key") != "concept:name")
        .unique(subset=["trace_idx", "key"], keep="last", maintain_order=True)
        .join(events.select("event_idx", "trace_idx"), on="trace_idx")
        .select(
            "event_idx",
            pl.concat_str([pl.lit("case:"), pl.col("key")]).alias("key"),
            "kind",
            "value",
        )
    )
    return pl.concat([own, inherited]).filter(pl.col("value").is_not_null())


def _attributes_json(parts: XesParts, events: pl.DataFrame) -> pl.DataFrame:
    return attributes_from_long(_attribute_rows(parts, events), index="event_idx")


def _special_columns(parts: XesParts, events: pl.DataFrame) -> pl.DataFrame:
    """Return ``event_idx`` and the last value of each extracted key per event.

    Events and their attributes come in file order (ascending ``event_idx``),
    so each key's values land in place by position (a scatter), the last of
    a repeated key winning; no join or group-by.
    """
    event_attrs = pl.concat(parts.event_attrs).cast(_EVENT_ATTR_SCHEMA)  # type: ignore[arg-type]
    index = events.get_column("event_idx")
    columns = [index]
    for key in _EXTRACTED:
        rows = event_attrs.filter(pl.col("key") == key).select("event_idx", "value")
        later = pl.col("event_idx") == pl.col("event_idx").shift(-1)
        if rows.select(later.any()).item():
            rows = rows.filter(~later.fill_null(value=False))
        if rows.height == index.len():  # every event has the key, once
            columns.append(rows.get_column("value").alias(key))
            continue
        column = pl.repeat(None, index.len(), dtype=pl.String, eager=True).alias(key)
        at = index.search_sorted(rows["event_idx"])
        columns.append(column.scatter(at, rows["value"]))
    return pl.DataFrame(columns)


def _assemble(parts: XesParts, *, lifecycle_classifier: bool) -> pl.DataFrame:
    events = pl.concat(parts.events).cast(_EVENTS_SCHEMA)  # type: ignore[arg-type]
    trace_attrs = pl.concat(parts.trace_attrs).cast(_TRACE_ATTR_SCHEMA)  # type: ignore[arg-type]
    cases = (
        trace_attrs.filter(pl.col("key") == "concept:name")
        .group_by("trace_idx")
        .agg(pl.col("value").last().alias(s.PARTNERSHIP_ID))
    )
    frame = (
        events.join(cases, on="trace_idx", how="left")
        .join(_special_columns(parts, events), on="event_idx", how="left")
        .join(_attributes_json(parts, events), on="event_idx", how="left")
        .sort("event_idx")
    )
    activity = pl.col("concept:name")
    if lifecycle_classifier:
        activity = (
            pl.when(pl.col(_LIFECYCLE).is_not_null())
            .then(pl.concat_str([activity, pl.lit("+"), pl.col(_LIFECYCLE)]))
            .otherwise(activity)
        )
    return frame.select(
        "line",
        pl.when(pl.col(_IDENTITY).str.contains(_UUID_RE))
        .then(pl.col(_IDENTITY))
        .alias(s.EVENT_ID),
        s.PARTNERSHIP_ID,
        activity.alias("activity"),
        pl.col("time:timestamp").alias("timestamp_text"),
        pl.col("org:resource").alias("actor"),
        pl.col("org:group").alias("organization_text"),
        s.ATTRIBUTES,
    )


def _assemble_file(
    path: Path,
    *,
    lifecycle_classifier: bool,
    on_progress: Callable[[int], None] | None,
    parser: str,
    block_bytes: int,
) -> pl.DataFrame:
    """Return the flat events of the whole file, assembled block by block."""
    if parser != "lxml":
        try:
            blocks = iter_xes_parts(
                path,
                block_bytes=block_bytes,
                on_progress=on_progress,
                use_bytes=parser == "auto",
            )
            flats, last = [], None
            for parts in blocks:
                last = parts
                if any(frame.height for frame in parts.events):
                    flats.append(
                        _assemble(parts, lifecycle_classifier=lifecycle_classifier)
                    )
            if not flats and last is not None:  # a log without events
                flats.append(_assemble(last, lifecycle_classifier=lifecycle_classifier))
            return pl.concat(flats)
        except UnusualLayout:
            pass
    parts = read_xes_parts_lxml(path)
    return _assemble(parts, lifecycle_classifier=lifecycle_classifier)


def read_xes(
    path: Path | str,
    *,
    lifecycle_classifier: bool = False,
    timezone: str | None = None,
    mapping: Mapping[str, str] | None = None,
    on_progress: Callable[[int], None] | None = None,
    parser: Literal["auto", "text", "lxml"] = "auto",
    block_bytes: int = DEFAULT_BLOCK_BYTES,
) -> ImportedBatch:
    """Return the events of an XES file (plain or gzip) as an :class:`ImportedBatch`.

    Parameters
    ----------
    path
        The ``.xes`` or ``.xes.gz`` file.
    lifecycle_classifier
        Use ``concept:name+lifecycle:transition`` as the activity.
    timezone
        Default IANA zone for timestamps without an offset.
    mapping
        Activity renames (``[activities]`` of a mapping TOML).
    on_progress
        Called with the number of (compressed) bytes read so far.
    parser
        ``auto``: the numpy scanner for canonical blocks, the polars tag
        reader for other blocks, lxml for what neither handles; ``text``:
        the same without the numpy scanner; ``lxml``: always lxml.
    block_bytes
        Decompressed bytes read (and assembled) at a time: bounds memory.

    Raises
    ------
    ValidationError
        Not XES, truncated, or malformed (naming the line).
    """
    path = Path(path)
    flat = _assemble_file(
        path,
        lifecycle_classifier=lifecycle_classifier,
        on_progress=on_progress,
        parser=parser,
        block_bytes=block_bytes,
    )
    times = parse_timestamps(flat["timestamp_text"], timezone=timezone)
    raw = pl.DataFrame(
        {
            s.EVENT_ID: flat[s.EVENT_ID],
            s.PARTNERSHIP_ID: flat[s.PARTNERSHIP_ID],
            s.ACTIVITY: flat["activity"],
            s.TIMESTAMP: times[s.TIMESTAMP],
            s.TZ_OFFSET: times[s.TZ_OFFSET],
            s.ACTOR: flat["actor"],
            s.ORGANIZATION: flat["organization_text"],
            s.ATTRIBUTES: flat[s.ATTRIBUTES],
        }
    )
    problems = timestamp_problems(times)
    return finish_batch(
        raw,
        source=str(path),
        source_rows=flat["line"],
        unit="line",
        problems=problems,
        mapping=mapping,
        original=flat.select(
            pl.col(s.PARTNERSHIP_ID).alias("case"),
            "activity",
            pl.col("timestamp_text").alias("timestamp"),
            "actor",
            pl.col("organization_text").alias("organization"),
        ),
    )

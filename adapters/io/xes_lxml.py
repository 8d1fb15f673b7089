"""Read any XES with lxml's streaming parser: the general (slower) path.

Used for files the vectorized readers of :mod:`adapters.io.xes_stream` do not
handle (nested or list attributes, comments or CDATA inside traces, other
encodings, ...) and to name the line of any XML syntax error. One Python
step runs per element; elements are cleared as soon as they are read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import polars as pl

from adapters.io.xes_stream import open_xes_binary
from adapters.io.xes_text import ATTRIBUTE_KINDS, XesParts
from engine.errors import ValidationError

if TYPE_CHECKING:
    from pathlib import Path

__all__ = [
    "EVENTS_SCHEMA",
    "EVENT_ATTR_SCHEMA",
    "TRACE_ATTR_SCHEMA",
    "read_xes_parts_lxml",
]

EVENTS_SCHEMA = {"event_idx": pl.Int64, "trace_idx": pl.Int64, "line": pl.Int64}
EVENT_ATTR_SCHEMA = {
    "event_idx": pl.Int64,
    "key": pl.String,
    "kind": pl.String,
    "value": pl.String,
    "line": pl.Int64,
}
TRACE_ATTR_SCHEMA = {
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
            events=[pl.DataFrame(self.events, schema=EVENTS_SCHEMA, orient="row")],
            event_attrs=[
                pl.DataFrame(self.event_attrs, schema=EVENT_ATTR_SCHEMA, orient="row")
            ],
            trace_attrs=[
                pl.DataFrame(self.trace_attrs, schema=TRACE_ATTR_SCHEMA, orient="row")
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

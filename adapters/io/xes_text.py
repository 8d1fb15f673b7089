"""Vectorized XES reading of one block of text: extract every tag with polars.

The general line layouts of XES (one element per line or several per line,
either attribute order or quote style, self-closing attribute elements, no
nested attributes) are read without a Python step per element: the block (cut
after a ``</trace>`` by :mod:`adapters.io.xes_stream`) is split into lines and
tags by polars string kernels, and the trace/event nesting is recovered with
cumulative sums. Anything unusual (comments or CDATA inside traces, nested or
list attributes, character references, tags across lines, other encodings,
malformed structure) raises :class:`UnusualLayout`, and the caller falls back
to the streaming lxml parser of :mod:`adapters.io.xes`, which is slower but
handles (or precisely reports) everything.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import polars as pl

from engine.errors import ValidationError

__all__ = [
    "ATTRIBUTE_KINDS",
    "BlockScan",
    "UnusualLayout",
    "XesParts",
    "normalize_attribute_values",
    "scan_block_text",
]

ATTRIBUTE_KINDS = ("string", "date", "int", "float", "boolean", "id")
# A tag: '<' then anything but quotes/brackets, or whole quoted strings, then '>'.
_TAG_RE = r"""<[^<>"']*(?:(?:"[^"]*"|'[^']*')[^<>"']*)*>"""
_NAME_RE = r"^<\s*([/?]?[A-Za-z_][\w:.-]*|!--)"
_BODY_TAGS = ("trace", "/trace", "event", "/event", *ATTRIBUTE_KINDS)
_ENTITIES = (
    ("&lt;", "<"),
    ("&gt;", ">"),
    ("&quot;", '"'),
    ("&apos;", "'"),
    ("&amp;", "&"),
)
_UNUSUAL_TEXT = (b"&#", b"<![CDATA[")


class UnusualLayout(Exception):
    """The file needs the general (lxml) parser."""


@dataclass
class XesParts:
    """The long form of an XES log: events, their attributes, trace attributes."""

    events: list[pl.DataFrame] = field(default_factory=list)
    event_attrs: list[pl.DataFrame] = field(default_factory=list)
    trace_attrs: list[pl.DataFrame] = field(default_factory=list)


@dataclass(frozen=True)
class BlockScan:
    """What one block holds, in the long form :mod:`adapters.io.xes` assembles.

    ``root`` is the first element's name and line when the block has one.
    """

    events: pl.DataFrame
    event_attrs: pl.DataFrame
    trace_attrs: pl.DataFrame
    root: tuple[str, int] | None
    closes_log: bool


def _split_lines(block: bytes, first_line: int, source: str) -> pl.DataFrame:
    """Return ``(line, text)`` per line of ``block`` (UTF-8), numbered from ``first_line``.

    The polars CSV reader splits lines fastest; it skips empty lines, so blocks
    with empty lines (or the separator byte) are split as text instead.
    """
    if (
        b"\n\n" in block
        or block.startswith(b"\n")
        or b"\x01" in block
        or b"\r" in block
    ):
        try:
            text = block.decode("utf-8")
        except UnicodeDecodeError as e:
            line = first_line + block[: e.start].count(b"\n")
            msg = f"not UTF-8 text: {e.reason}"
            raise ValidationError(msg, source=source, line=line) from e
        lines = (
            pl.DataFrame({"text": [text]})
            .select(pl.col("text").str.split("\n"))
            .explode("text")
        )
    elif not block:
        lines = pl.DataFrame({"text": []}, schema={"text": pl.String})
    else:
        try:
            lines = pl.read_csv(
                io.BytesIO(block),
                has_header=False,
                separator="\x01",
                quote_char=None,
                schema={"text": pl.String},
            )
        except pl.exceptions.ComputeError as e:
            block.decode("utf-8")  # raises with the position when not UTF-8
            msg = f"cannot split lines: {e}"
            raise UnusualLayout(msg) from e
    return lines.with_row_index("line", offset=first_line).with_columns(
        pl.col("line").cast(pl.Int64)
    )


def _general_tags(lines: pl.DataFrame) -> pl.DataFrame:
    tags = lines.select(
        "line",
        pl.col("text").str.extract_all(_TAG_RE).alias("tag"),
        pl.col("text").str.count_matches("<", literal=True).alias("n_lt"),
    )
    if (tags["tag"].list.len() != tags["n_lt"]).any():
        msg = "a tag spans lines, or a '<' is not part of a tag"
        raise UnusualLayout(msg)
    return (
        tags.select("line", "tag")
        .explode("tag")
        .drop_nulls("tag")
        .with_columns(pl.int_range(pl.len()).over("line").alias("pos"))
        .with_columns(
            pl.col("tag").str.extract(_NAME_RE, 1).alias("name"),
            pl.col("tag").str.ends_with("/>").alias("sc"),
            _quoted("key").alias("key"),
            _quoted("value").alias("value"),
        )
        .select("line", "pos", "name", "sc", "key", "value", "tag")
    )


# One regex pass recognizes the two line shapes that make up nearly all of
# an XES file: one attribute element, or a bare <event>/</event>/<trace>/</trace>.
_LINE_RE = (
    r'^\s*(?:<(?<name>string|date|int|float|boolean|id)\s+key="(?<key>[^"]*)"'
    r'\s+value="(?<value>[^"]*)"\s*/>|<(?<bare>/?(?:event|trace))\s*>)\s*$'
)


def normalize_attribute_values(
    tags: pl.DataFrame, *, has_entities: bool, escaped: pl.Series | None = None
) -> pl.DataFrame:
    """Return ``tags`` with XML attribute-value normalization and entities applied.

    ``escaped`` (row numbers), when the caller knows them, are the only rows
    whose key or value may hold an ``&``; else they are searched for.
    """
    if tags.select(pl.col("value").str.contains_any(["\t", "\n", "\r"]).any()).item():
        # A literal tab or line break in an attribute value reads as a space.
        tags = tags.with_columns(pl.col("value").str.replace_all(r"[\t\n\r]", " "))
    if not has_entities:
        return tags
    if escaped is None:
        amp = pl.col("value").str.contains("&", literal=True) | pl.col(
            "key"
        ).str.contains("&", literal=True)
        escaped = tags.select(amp.arg_true()).to_series()
    if escaped.is_empty():
        return tags
    fixed = tags[escaped].select(_unescape(pl.col("key")), _unescape(pl.col("value")))
    return tags.with_columns(
        tags["key"].scatter(escaped, fixed["key"]),
        tags["value"].scatter(escaped, fixed["value"]),
    )


def _tag_frame(block: bytes, first_line: int, source: str) -> pl.DataFrame:
    """Return one row per tag, in file order: line, name, self-closing, key, value, tag.

    One-attribute lines and bare ``<event>``/``</trace>``-style lines (the bulk
    of any XES file) are matched by one regex; only the other lines go through
    the general tag extraction, and are put back in place with a join.
    """
    lines = _split_lines(block, first_line, source)
    m = lines.select(pl.col("text").str.extract_groups(_LINE_RE)).to_series().struct
    tags = lines.select(
        "line",
        pl.coalesce(m.field("name"), m.field("bare")).alias("name"),
        m.field("bare").is_null().alias("sc"),
        m.field("key").alias("key"),
        m.field("value").alias("value"),
        pl.lit(None, pl.String).alias("tag"),
        pl.col("text"),
    )
    rest = tags.filter(
        pl.col("name").is_null() & pl.col("text").str.contains("<", literal=True)
    )
    tags = tags.drop("text")
    tags = tags.filter(pl.col("name").is_not_null())
    if not rest.is_empty():
        # Both sides are in line order and share no line: a linear merge.
        general = _general_tags(rest.select("line", "text")).drop("pos")
        tags = tags.merge_sorted(general.cast(tags.schema), key="line")
    return normalize_attribute_values(tags, has_entities=b"&" in block)


def _check_root(tags: pl.DataFrame, source: str) -> bool:
    first = tags.filter(
        ~pl.col("name").is_in(["?xml", "!--"]) & pl.col("name").is_not_null()
    )
    if first.is_empty():
        return False
    name, line = first["name"][0], int(first["line"][0])
    if name != "log":
        if ":" in str(name) and str(name).endswith(":log"):
            msg = "namespace-prefixed XES"
            raise UnusualLayout(msg)
        msg = f"not an XES file: the root element is <{name}>, not <log>"
        raise ValidationError(msg, source=source, line=line, field="log")
    encoding = tags.filter(pl.col("name") == "?xml")["tag"].str.extract(
        r"""encoding\s*=\s*["']([^"']+)["']"""
    )
    if (
        encoding.len()
        and encoding[0] is not None
        and encoding[0].lower() not in ("utf-8", "utf8")
    ):
        msg = f"encoding {encoding[0]}"
        raise UnusualLayout(msg)
    return True


def _unescape(expr: pl.Expr) -> pl.Expr:
    # One leftmost pass, so "&amp;lt;" correctly reads as "&lt;".
    entities = [e for e, _ in _ENTITIES]
    chars = [c for _, c in _ENTITIES]
    return expr.str.replace_many(entities, chars)


def _quoted(name: str) -> pl.Expr:
    double = pl.col("tag").str.extract(rf'\s{name}\s*=\s*"([^"]*)"', 1)
    single = pl.col("tag").str.extract(rf"\s{name}\s*=\s*'([^']*)'", 1)
    return _unescape(pl.coalesce(double, single))


def _structure(tags: pl.DataFrame) -> pl.DataFrame:
    name, sc = pl.col("name"), pl.col("sc")
    opens_trace = (name == "trace") & ~sc
    opens_event = (name == "event") & ~sc
    out = tags.with_columns(
        opens_trace.alias("ot"),
        opens_event.alias("oe"),
        (
            opens_trace.cast(pl.Int64).cum_sum()
            - (name == "/trace").cast(pl.Int64).cum_sum()
        ).alias("td"),
        (
            opens_event.cast(pl.Int64).cum_sum()
            - (name == "/event").cast(pl.Int64).cum_sum()
        ).alias("ed"),
        (opens_trace.cast(pl.Int64).cum_sum() - 1).alias("trace_idx"),
        (opens_event.cast(pl.Int64).cum_sum() - 1).alias("event_idx"),
    )
    inside = (pl.col("td") > 0) | (name == "/trace")
    bad = out.select(
        (
            (pl.col("td") < 0)
            | (pl.col("td") > 1)
            | (pl.col("ed") < 0)
            | (pl.col("ed") > 1)
        ).any()
        | (pl.col("oe") & (pl.col("td") != 1)).any()
        | (inside & ~name.is_in(_BODY_TAGS)).any()
        | (inside & name.is_in(ATTRIBUTE_KINDS) & ~sc).any()
        | (inside & (name == "event") & sc).any()
        | (pl.col("ed") > pl.col("td")).any()
    ).item()
    if bad:
        msg = "nested, list or malformed elements inside traces"
        raise UnusualLayout(msg)
    return out


def scan_block_text(
    block: bytes, first_line: int, *, check_root: bool, source: str
) -> BlockScan:
    """Return the block read by the polars tag path (general line layouts).

    Event and trace indexes count from the block's start; with ``check_root``
    (the file's first block) the root element is checked.
    """
    if any(marker in block for marker in _UNUSUAL_TEXT):
        msg = "character references or CDATA"
        raise UnusualLayout(msg)
    tags = _tag_frame(block, first_line, source)
    root = None
    if check_root and _check_root(tags, source):
        root = ("log", 1)
    out = _structure(tags)
    if out.height and out.tail(1)["td"].item() != 0:
        msg = "unclosed trace"
        raise UnusualLayout(msg)
    attrs = out.filter(pl.col("name").is_in(ATTRIBUTE_KINDS)).with_columns(
        pl.col("name").alias("kind")
    )
    return BlockScan(
        events=out.filter(pl.col("oe")).select("event_idx", "trace_idx", "line"),
        event_attrs=attrs.filter(pl.col("ed") == 1).select(
            "event_idx", "key", "kind", "value", "line"
        ),
        trace_attrs=attrs.filter((pl.col("td") == 1) & (pl.col("ed") == 0)).select(
            "trace_idx", "key", "kind", "value"
        ),
        root=root,
        closes_log=bool((out["name"] == "/log").any()),
    )

r"""Build the canonical ``attributes`` JSON text from columns, as polars expressions.

The text matches :func:`engine.events.canonical_attributes` for string,
integer, float and boolean values: keys sorted, compact separators, UTF-8
kept as is, null values left out.

Examples
--------
>>> import polars as pl
>>> df = pl.DataFrame({"b": [1, None], "a": ['x"y', None]})
>>> df.select(attributes_from_columns_expr(df.schema)).to_series().to_list()
['{"a":"x\\"y","b":1}', None]
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import polars as pl
import pyarrow as pa

from engine import schema as s

if TYPE_CHECKING:
    from collections.abc import Mapping

    from polars.expr.whenthen import ChainedThen, Then

__all__ = [
    "attributes_from_columns_expr",
    "attributes_from_long",
    "json_string_expr",
    "values_as_json",
]

_NUMERIC = (
    pl.Int8,
    pl.Int16,
    pl.Int32,
    pl.Int64,
    pl.UInt8,
    pl.UInt16,
    pl.UInt32,
    pl.UInt64,
)


def json_string_expr(expr: pl.Expr) -> pl.Expr:
    r"""Return ``expr`` (String) as a quoted, escaped JSON string literal.

    Examples
    --------
    >>> pl.select(json_string_expr(pl.lit('a"\n'))).item()
    '"a\\"\\n"'
    """
    encoded = pl.struct(expr.alias("v")).struct.json_encode()
    # '{"v":' is 5 bytes; strip it and the closing brace.
    return encoded.str.slice(5, encoded.str.len_chars() - 6)


def _float_text_expr(expr: pl.Expr) -> pl.Expr:
    finite = expr.is_finite()
    return (
        pl.when(finite)
        .then(expr.cast(pl.String))
        .otherwise(json_string_expr(expr.cast(pl.String)))
    )


def _column_json_expr(name: str, dtype: pl.DataType) -> pl.Expr:
    col = pl.col(name)
    if dtype == pl.Boolean:
        text = pl.when(col).then(pl.lit("true")).otherwise(pl.lit("false"))
    elif isinstance(dtype, _NUMERIC):
        text = col.cast(pl.String)
    elif dtype in (pl.Float32, pl.Float64):
        text = _float_text_expr(col.cast(pl.Float64))
    elif isinstance(dtype, pl.Datetime):
        text = json_string_expr(col.dt.to_string("%Y-%m-%dT%H:%M:%S%.f%:z"))
    elif isinstance(dtype, pl.List | pl.Struct | pl.Array):
        text = pl.struct(col.alias("v")).struct.json_encode()
        text = text.str.slice(5, text.str.len_chars() - 6)
    else:
        text = json_string_expr(col.cast(pl.String))
    return pl.when(col.is_not_null()).then(
        pl.concat_str([json_string_expr(pl.lit(name)), pl.lit(":"), text])
    )


def attributes_from_columns_expr(columns: Mapping[str, pl.DataType]) -> pl.Expr:
    """Return the ``attributes`` JSON text built from ``columns`` (name -> dtype).

    Null values are left out; a row with no values gets null.
    """
    if not columns:
        return pl.lit(None, pl.String).alias(s.ATTRIBUTES)
    fragments = [_column_json_expr(n, d) for n, d in sorted(columns.items())]
    body = pl.concat_str(fragments, separator=",", ignore_nulls=True)
    return (
        pl.when(body.str.len_bytes() > 0)
        .then(pl.concat_str([pl.lit("{"), body, pl.lit("}")]))
        .otherwise(pl.lit(None, pl.String))
        .alias(s.ATTRIBUTES)
    )


def _typed_branches(kinds: pl.Series) -> pl.Expr:
    """Return the value JSON of the common values, null for the others (see below).

    Only the branches of the kinds present are built: a block of one kind
    (one XES attribute across events) costs one expression, not four.
    """
    kind, value = pl.col("kind"), pl.col("value")
    as_float = value.cast(pl.Float64, strict=False)
    typed = {
        "int": value.cast(pl.Int64, strict=False).cast(pl.String),
        "float": pl.when(as_float.is_finite()).then(as_float.cast(pl.String)),
        "boolean": pl.when(value.is_in(["true", "false"])).then(value),
    }
    text = pl.when(~value.str.contains(r'["\\\x00-\x1f]')).then(
        pl.concat_str([pl.lit('"'), value, pl.lit('"')])
    )
    present = kinds.unique().to_list()
    if len(present) == 1:
        return typed.get(present[0], text)
    branches = [(kind == name, expr) for name, expr in typed.items() if name in present]
    if not branches:
        return text
    (condition, expr), *others = branches
    chain: Then | ChainedThen = pl.when(condition).then(expr)
    for condition, expr in others:
        chain = chain.when(condition).then(expr)
    return chain.otherwise(text)


def values_as_json(long: pl.DataFrame) -> pl.Series:
    """Return each value of a long frame as JSON text, typed by its kind (``vj``).

    ``long`` has ``kind`` (``int``, ``float``, ``boolean`` or anything else
    for text) and ``value`` (text, not null). One pass types the common values
    (integers, finite floats, ``true``/``false``, strings that need no
    escaping); the few others (odd spellings, numbers that do not parse,
    strings to escape) are encoded on their own rows and put back in place.
    Row order is kept.
    """
    kind, value = pl.col("kind"), pl.col("value")
    vj = long.select(_typed_branches(long.get_column("kind")).alias("vj")).to_series()
    if not vj.null_count():
        return vj
    rest = vj.is_null().arg_true()
    lowered = value.str.to_lowercase()
    slow = (
        long[rest]
        .select(
            pl.when((kind == "boolean") & lowered.is_in(["true", "false"]))
            .then(lowered)
            # Numbers that do not parse, and strings that need escaping.
            .otherwise(json_string_expr(value))
        )
        .to_series()
    )
    return vj.scatter(rest, slow)


def _sorted_fragments(long: pl.DataFrame, *, index: str) -> pl.DataFrame:
    """Return ``(index, f)``: one ``"key":value`` text per attribute, in JSON order.

    Rows are sorted by (index, key) through one integer per row (the key's
    rank among the sorted keys is its code in an Enum of them); a key given
    twice for one index keeps its last value.
    """
    keys = long.select(pl.col("key").unique().sort()).to_series()
    encoded = keys.to_frame().select(json_string_expr(pl.col("key"))).to_series()
    long = long.with_columns(
        pl.col("key").cast(pl.Enum(keys.to_list())).to_physical().alias("code")
    ).with_columns(
        (
            pl.col(index).cast(pl.Int64) * max(keys.len(), 1)
            + pl.col("code").cast(pl.Int64)
        ).alias("slot")
    )
    # A stable sort keeps the file order of a key given twice: keep the last.
    typed = long.with_columns(values_as_json(long)).sort("slot", maintain_order=True)
    same_as_next = pl.col("slot") == pl.col("slot").shift(-1)
    if typed.select(same_as_next.any()).item():
        typed = typed.filter(~same_as_next.fill_null(value=False))
    return typed.select(
        index,
        pl.concat_str(
            [pl.lit(encoded).gather(pl.col("code")), pl.lit(":"), pl.col("vj")]
        ).alias("f"),
    )


def _join_runs(fragments: pl.DataFrame, *, index: str) -> pl.DataFrame:
    """Return ``(index, attributes)``: each run of one index joined as a JSON object.

    The runs are contiguous, so each object is a contiguous range of one
    text buffer holding ``{f1,f2}{f3}...``: the result shares that buffer
    and only gets new offsets (no per-row or per-group step).
    """
    idx = fragments.get_column(index)
    first = idx.ne_missing(idx.shift(1)).fill_null(value=True)
    last = idx.ne_missing(idx.shift(-1)).fill_null(value=True)
    text = fragments.select(
        pl.concat_str(
            [
                pl.when(first).then(pl.lit("{")).otherwise(pl.lit(",")),
                pl.col("f"),
                pl.when(last).then(pl.lit("}")).otherwise(pl.lit("")),
            ]
        )
    ).to_series()
    array = text.to_arrow().cast(pa.large_string())
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    width = np.dtype(np.int64).itemsize
    offsets = np.frombuffer(
        array.buffers()[1],
        dtype=np.int64,
        count=len(array) + 1,
        offset=array.offset * width,
    )
    starts = np.append(np.flatnonzero(first.to_numpy()), len(array))
    joined = pa.LargeStringArray.from_buffers(
        starts.size - 1,
        pa.py_buffer(np.ascontiguousarray(offsets[starts])),
        array.buffers()[2],
    )
    return pl.DataFrame(
        {
            index: idx.filter(first),
            s.ATTRIBUTES: pl.Series(pl.from_arrow(joined), dtype=pl.String),
        }
    )


def attributes_from_long(long: pl.DataFrame, *, index: str) -> pl.DataFrame:
    """Return ``(index, attributes)``: one canonical JSON object per index value.

    Parameters
    ----------
    long
        One row per attribute: ``index``, ``key``, ``kind`` (``int``, ``float``,
        ``boolean`` or anything else for text) and ``value`` (text). Null
        values are left out; a key given twice for one index keeps its last
        value (as pm4py does).
    index
        The column naming the event.

    Returns
    -------
    polars.DataFrame
        One row per index value that has attributes, in ascending index order.

    Examples
    --------
    >>> long = pl.DataFrame({"e": [0, 0, 0, 1], "key": ["b", "a", "b", "a"],
    ...                      "kind": ["int", "string", "int", "boolean"],
    ...                      "value": ["1", "x", "2", "TRUE"]})
    >>> attributes_from_long(long, index="e").rows()
    [(0, '{"a":"x","b":2}'), (1, '{"a":true}')]
    """
    long = long.filter(pl.col("value").is_not_null())
    if long.is_empty():
        return long.select(index, pl.lit(None, pl.String).alias(s.ATTRIBUTES))
    return _join_runs(_sorted_fragments(long, index=index), index=index)

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

import polars as pl

from engine import schema as s

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "attributes_from_columns_expr",
    "attributes_from_long",
    "json_string_expr",
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


def _value_json(long: pl.DataFrame) -> pl.DataFrame:
    """Return ``long`` with ``vj``: each value as JSON text, typed by its kind.

    Rows are grouped by what they need (order is restored by the caller's
    sort), so each value goes through one encoder only.
    """
    kind, value = pl.col("kind"), pl.col("value")
    as_int = value.cast(pl.Int64, strict=False)
    as_float = value.cast(pl.Float64, strict=False)
    lowered = value.str.to_lowercase()
    textual = ~kind.is_in(["int", "float", "boolean"])
    escape = value.str.contains(r'["\\\x00-\x1f]')
    subsets = [
        long.filter(kind == "int").with_columns(
            pl.when(as_int.is_not_null()).then(as_int.cast(pl.String)).alias("vj")
        ),
        long.filter(kind == "float").with_columns(
            pl.when(as_float.is_finite()).then(as_float.cast(pl.String)).alias("vj")
        ),
        long.filter(kind == "boolean").with_columns(
            pl.when(lowered.is_in(["true", "false"])).then(lowered).alias("vj")
        ),
        long.filter(textual & ~escape).with_columns(
            pl.concat_str([pl.lit('"'), value, pl.lit('"')]).alias("vj")
        ),
    ]
    typed = pl.concat(subsets)
    # Numbers that do not parse, and strings that need escaping, are strings.
    odd = pl.concat(
        [typed.filter(pl.col("vj").is_null()).drop("vj"), long.filter(textual & escape)]
    )
    return pl.concat(
        [
            typed.filter(pl.col("vj").is_not_null()),
            odd.with_columns(json_string_expr(value).alias("vj")),
        ]
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
    keys = long.select(pl.col("key").unique().sort()).to_series()
    encoded = keys.to_frame().select(json_string_expr(pl.col("key"))).to_series()
    rank = {k: i for i, k in enumerate(keys.to_list())}
    # One integer per (event, key): sorting on it puts keys in canonical order.
    slot = pl.col(index).cast(pl.Int64) * max(len(rank), 1) + pl.col(
        "key"
    ).replace_strict(rank, return_dtype=pl.Int64)
    long = long.with_columns(
        slot.alias("slot"),
        pl.col("key")
        .replace_strict(
            dict(zip(keys.to_list(), encoded.to_list(), strict=True)),
            return_dtype=pl.String,
        )
        .alias("kj"),
    )
    repeated = long.select(pl.col("slot").is_duplicated().any()).item()
    if repeated:
        long = long.with_row_index("order")
    fragments = _value_json(long).select(
        index,
        "slot",
        *(["order"] if repeated else []),
        pl.concat_str(["kj", pl.lit(":"), "vj"]).alias("f"),
    )
    fragments = fragments.sort(["slot", "order"] if repeated else "slot")
    same_as_next = pl.col("slot") == pl.col("slot").shift(-1)
    return (
        fragments.filter(~same_as_next.fill_null(value=False))
        .group_by(index, maintain_order=True)
        .agg(pl.col("f"))
        .select(
            index,
            pl.concat_str([pl.lit("{"), pl.col("f").list.join(","), pl.lit("}")]).alias(
                s.ATTRIBUTES
            ),
        )
    )

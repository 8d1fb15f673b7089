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
    "json_string_expr",
    "json_value_expr",
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


def json_value_expr(value: pl.Expr, kind: pl.Expr) -> pl.Expr:
    """Return JSON text of XES-typed text ``value`` (kind: int, float, boolean, other).

    Integers and floats that do not parse, and every other kind, become strings.

    Examples
    --------
    >>> df = pl.DataFrame({"v": ["3", "1.5E2", "true", "x", "y"],
    ...                    "k": ["int", "float", "boolean", "string", "int"]})
    >>> df.select(json_value_expr(pl.col("v"), pl.col("k"))).to_series().to_list()
    ['3', '150.0', 'true', '"x"', '"y"']
    """
    as_int = value.str.strip_chars().cast(pl.Int64, strict=False)
    as_float = value.str.strip_chars().cast(pl.Float64, strict=False)
    lowered = value.str.strip_chars().str.to_lowercase()
    return (
        pl.when((kind == "int") & as_int.is_not_null())
        .then(as_int.cast(pl.String))
        .when((kind == "float") & as_float.is_not_null())
        .then(_float_text_expr(as_float))
        .when((kind == "boolean") & lowered.is_in(["true", "false"]))
        .then(lowered)
        .otherwise(json_string_expr(value))
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

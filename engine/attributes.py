"""Typed access to the well-known keys of the ``attributes`` JSON column.

Attributes are stored as canonical JSON text (one column, any keys), so the
engine reads the keys it knows through vectorized JSON-path expressions.

Examples
--------
>>> import polars as pl
>>> df = pl.DataFrame({"attributes": [
...     '{"idea_id":"i1","objective_ids":["o1","o2"]}',
...     '{"objective_ids":"o3, o4"}',
...     None,
... ]})
>>> df.select(attribute_expr("idea_id")).to_series().to_list()
['i1', None, None]
>>> df.select(objective_ids_expr()).to_series().to_list()
[['o1', 'o2'], ['o3', 'o4'], []]
"""

from __future__ import annotations

import polars as pl

from engine import schema as s

__all__ = [
    "AUDIENCE",
    "CONFLICT_ID",
    "IDEA_ID",
    "OBJECTIVE_ID",
    "OBJECTIVE_IDS",
    "VISIBILITY",
    "attribute_expr",
    "objective_ids_expr",
]

IDEA_ID = "idea_id"
OBJECTIVE_ID = "objective_id"
OBJECTIVE_IDS = "objective_ids"
VISIBILITY = "visibility"
AUDIENCE = "audience"
CONFLICT_ID = "conflict_id"


# Keys whose values come from a closed vocabulary (DOMAIN.md): read in lower
# case with surrounding spaces dropped, so "Private" or " ALL" count too.
_VOCABULARY_KEYS = frozenset({"visibility", "audience"})


def attribute_expr(key: str) -> pl.Expr:
    """Return the scalar attribute ``key`` as a String column (null when absent).

    ``visibility`` and ``audience`` are read case-insensitively (lower case).
    """
    value = pl.col(s.ATTRIBUTES).str.json_path_match(f"$.{key}")
    if key in _VOCABULARY_KEYS:
        value = value.str.strip_chars().str.to_lowercase()
    return value.alias(key)


def objective_ids_expr() -> pl.Expr:
    """Return the objectives an event names: ``objective_ids`` plus ``objective_id``.

    ``objective_ids`` may be a JSON list or, since attributes are scalars, one
    string of comma-separated ids (``"o1, o2"``) or a single id. Always a list
    (empty when none), so it can be exploded.
    """
    raw = pl.col(s.ATTRIBUTES).str.json_path_match(f"$.{OBJECTIVE_IDS}")
    listed = pl.when(raw.str.starts_with("[")).then(raw)
    scalar = pl.when(~raw.str.starts_with("[")).then(raw)
    many = pl.coalesce(
        listed.str.json_decode(pl.List(pl.String)),
        scalar.str.split(",")
        .list.eval(pl.element().str.strip_chars())
        .list.filter(pl.element() != ""),
    )
    one = attribute_expr(OBJECTIVE_ID)
    return (
        pl.concat_list(
            [
                many.fill_null(pl.lit([], pl.List(pl.String))),
                pl.concat_list([one]).list.drop_nulls(),
            ]
        )
        .list.unique(maintain_order=True)
        .alias(OBJECTIVE_IDS)
    )

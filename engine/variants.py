"""Traces and variants: each partnership's activity sequence, and which are equal.

A partnership's *trace* is its activities ordered by timestamp, events with
equal timestamps kept in their original (row) order: the stable sort pm4py
uses, so that counts derived from traces equal pm4py's exactly. A *variant* is
a distinct trace; conformance is computed once per variant and mapped back to
every partnership that follows it.

Examples
--------
>>> from datetime import datetime
>>> import polars as pl
>>> frame = pl.LazyFrame({
...     "case:concept:name": ["b", "a", "a", "b", "c"],
...     "concept:name": ["x", "x", "y", "y", "x"],
...     "time:timestamp": [datetime(2020, 1, d) for d in (1, 1, 2, 2, 1)],
... })
>>> variants = discover_variants(frame).collect()
>>> variants.select("variant_id", "count", "trace").rows()
[(0, 2, ['x', 'y']), (1, 1, ['x'])]
>>> assign_variants(frame).collect().sort("case:concept:name").rows()
[('a', 0), ('b', 0), ('c', 1)]
"""

from __future__ import annotations

import polars as pl

from engine import schema as s

__all__ = ["assign_variants", "discover_variants", "order_events", "trace_frame"]


def order_events(
    frame: pl.LazyFrame,
    *,
    case: str = s.PARTNERSHIP_ID,
    timestamp: str = s.TIMESTAMP,
) -> pl.LazyFrame:
    """Return ``frame`` sorted by case, then timestamp, ties kept in row order.

    The sort is stable: events of one case with equal timestamps stay in the
    order they have in ``frame`` (for a store frame, their version order).

    Parameters
    ----------
    frame
        Events of any number of cases.
    case, timestamp
        Names of the case and timestamp columns.

    Examples
    --------
    >>> import polars as pl
    >>> lf = pl.LazyFrame({"case:concept:name": ["b", "a", "a"],
    ...                    "concept:name": ["x", "late", "tie"],
    ...                    "time:timestamp": [1, 5, 5]})
    >>> order_events(lf).collect()["concept:name"].to_list()
    ['late', 'tie', 'x']
    """
    return frame.sort([case, timestamp], maintain_order=True)


def trace_frame(
    frame: pl.LazyFrame,
    *,
    case: str = s.PARTNERSHIP_ID,
    activity: str = s.ACTIVITY,
    timestamp: str = s.TIMESTAMP,
) -> pl.LazyFrame:
    """Return one row per case, by case: ``case`` and its ``trace`` (list of activities).

    Parameters
    ----------
    frame
        Events of any number of cases.
    case, activity, timestamp
        Names of the case, activity and timestamp columns.

    Examples
    --------
    >>> import polars as pl
    >>> lf = pl.LazyFrame({"case:concept:name": ["p", "p"], "concept:name": ["b", "a"],
    ...                    "time:timestamp": [2, 1]})
    >>> trace_frame(lf).collect().rows()
    [('p', ['a', 'b'])]
    """
    # A stable sort by timestamp alone: grouping keeps each case's events in
    # that order (ties in row order), as order_events would, and sorting one
    # integer column is far cheaper than sorting by the case strings first.
    ordered = frame.select(case, activity, timestamp).sort(
        timestamp, maintain_order=True
    )
    return (
        ordered.group_by(case, maintain_order=True)
        .agg(pl.col(activity).alias("trace"))
        .sort(case)
    )


def discover_variants(
    frame: pl.LazyFrame,
    *,
    case: str = s.PARTNERSHIP_ID,
    activity: str = s.ACTIVITY,
    timestamp: str = s.TIMESTAMP,
) -> pl.LazyFrame:
    """Return the variants: ``variant_id``, ``trace``, ``count`` and ``cases``.

    ``variant_id`` numbers variants from 0 by descending count, ties broken by
    the smallest case id, so it is deterministic for a given log.

    Parameters
    ----------
    frame
        Events of any number of cases.
    case, activity, timestamp
        Names of the case, activity and timestamp columns.

    Examples
    --------
    >>> import polars as pl
    >>> lf = pl.LazyFrame({"case:concept:name": ["q", "p"], "concept:name": ["a", "a"],
    ...                    "time:timestamp": [1, 1]})
    >>> discover_variants(lf).collect().row(0)
    (0, ['a'], 2, ['p', 'q'])
    """
    traces = trace_frame(frame, case=case, activity=activity, timestamp=timestamp)
    return (
        traces.group_by("trace")
        .agg(pl.len().alias("count"), pl.col(case).sort().alias("cases"))
        .sort(
            [pl.col("count"), pl.col("cases").list.first()],
            descending=[True, False],
        )
        .with_row_index("variant_id")
        .select(
            pl.col("variant_id").cast(pl.Int64),
            "trace",
            pl.col("count").cast(pl.Int64),
            "cases",
        )
    )


def assign_variants(
    frame: pl.LazyFrame,
    *,
    case: str = s.PARTNERSHIP_ID,
    activity: str = s.ACTIVITY,
    timestamp: str = s.TIMESTAMP,
) -> pl.LazyFrame:
    """Return one row per case: ``case`` and its ``variant_id``.

    Parameters
    ----------
    frame
        Events of any number of cases.
    case, activity, timestamp
        Names of the case, activity and timestamp columns.

    Examples
    --------
    >>> import polars as pl
    >>> lf = pl.LazyFrame({"case:concept:name": ["p"], "concept:name": ["a"],
    ...                    "time:timestamp": [1]})
    >>> assign_variants(lf).collect().rows()
    [('p', 0)]
    """
    variants = discover_variants(
        frame, case=case, activity=activity, timestamp=timestamp
    )
    return (
        variants.select(pl.col("cases").alias(case), "variant_id")
        .explode(case)
        .select(case, "variant_id")
    )

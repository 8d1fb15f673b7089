"""How many partner organizations are active at given times or during windows.

Counting, not listing: with the intervals of :func:`engine.partners.partner_intervals`
(active on ``active_from <= t < active_until``), the number active at ``t`` is
``#(active_from <= t) - #(active_until <= t)``, and the number active at some
time in ``[start, end)`` is ``#(active_from < end) - #(active_until <= start)``.
Each count is one sort of boundaries and queries per partnership with a
running sum, so the cost grows with intervals + queries, never with their
product (a partnership of many organizations over many windows stays cheap).

Examples
--------
>>> from datetime import datetime, UTC
>>> iv = pl.LazyFrame({
...     "case:concept:name": ["p", "p"], "organization": ["A", "B"],
...     "active_from": [datetime(2020, 1, 1, tzinfo=UTC), datetime(2020, 2, 1, tzinfo=UTC)],
...     "active_until": [None, datetime(2020, 3, 1, tzinfo=UTC)],
... })
>>> at = pl.LazyFrame({"case:concept:name": ["p"] * 3, "time:timestamp": [
...     datetime(2020, 1, 15, tzinfo=UTC), datetime(2020, 2, 1, tzinfo=UTC),
...     datetime(2020, 3, 1, tzinfo=UTC)]})
>>> count_active_partners_at(iv, at).collect()["_partners"].to_list()
[1, 2, 1]
"""

from __future__ import annotations

import polars as pl

from engine import schema as s
from engine.partners import ACTIVE_FROM, ACTIVE_UNTIL

__all__ = [
    "PARTNERS",
    "count_active_partners_at",
    "count_active_partners_in_windows",
]

PARTNERS = "_partners"


def _count_before(
    boundaries: pl.LazyFrame, times: pl.LazyFrame, *, inclusive: bool
) -> pl.LazyFrame:
    """For each (partnership, time) in ``times``: its boundaries before (or at) it.

    Both frames have ``case:concept:name`` and ``_t``. Returns
    ``case:concept:name, _t, _n``, keyed by value, so the result joins back
    to any rows whatever their order (row numbers would not survive a plan
    that evaluates the rows twice in different orders).
    """
    # At equal times a boundary sorts before the query when it counts (inclusive).
    tie = 0 if inclusive else 2
    merged = pl.concat(
        [
            boundaries.select(
                s.PARTNERSHIP_ID,
                "_t",
                pl.lit(tie, pl.Int8).alias("_tie"),
                pl.lit(1, pl.Int64).alias("_one"),
            ),
            times.unique().select(
                s.PARTNERSHIP_ID,
                "_t",
                pl.lit(1, pl.Int8).alias("_tie"),
                pl.lit(0, pl.Int64).alias("_one"),
            ),
        ]
    )
    return (
        merged.sort(s.PARTNERSHIP_ID, "_t", "_tie")
        .with_columns(pl.col("_one").cum_sum().over(s.PARTNERSHIP_ID).alias("_n"))
        .filter(pl.col("_tie") == 1)
        .select(s.PARTNERSHIP_ID, "_t", "_n")
    )


def _count_active(
    intervals: pl.LazyFrame,
    rows: pl.LazyFrame,
    *,
    start: str,
    end: str,
    strict_end: bool,
) -> pl.LazyFrame:
    # A partner that was never active has a row with a null ``active_from``.
    intervals = intervals.filter(pl.col(ACTIVE_FROM).is_not_null())
    began = _count_before(
        intervals.select(s.PARTNERSHIP_ID, pl.col(ACTIVE_FROM).alias("_t")),
        rows.select(s.PARTNERSHIP_ID, pl.col(end).alias("_t")),
        inclusive=not strict_end,
    )
    ended = _count_before(
        intervals.filter(pl.col(ACTIVE_UNTIL).is_not_null()).select(
            s.PARTNERSHIP_ID, pl.col(ACTIVE_UNTIL).alias("_t")
        ),
        rows.select(s.PARTNERSHIP_ID, pl.col(start).alias("_t")),
        inclusive=True,
    )
    return (
        rows.join(
            began.rename({"_t": end}),
            on=[s.PARTNERSHIP_ID, end],
            how="left",
            maintain_order="left",
        )
        .join(
            ended.rename({"_t": start, "_n": "_ended"}),
            on=[s.PARTNERSHIP_ID, start],
            how="left",
            maintain_order="left",
        )
        .with_columns(
            (pl.col("_n").fill_null(0) - pl.col("_ended").fill_null(0)).alias(PARTNERS)
        )
        .drop("_n", "_ended")
    )


def count_active_partners_at(
    intervals: pl.LazyFrame, at: pl.LazyFrame, *, time_column: str = s.TIMESTAMP
) -> pl.LazyFrame:
    """Return ``at`` with ``_partners``: the partners active at each row's time."""
    return _count_active(
        intervals, at, start=time_column, end=time_column, strict_end=False
    )


def count_active_partners_in_windows(
    intervals: pl.LazyFrame, windows: pl.LazyFrame
) -> pl.LazyFrame:
    """Return ``windows`` with ``_partners``: partners active at some time in each.

    ``windows`` has ``case:concept:name``, ``window_start`` and ``window_end``.
    """
    return _count_active(
        intervals, windows, start="window_start", end="window_end", strict_end=True
    )

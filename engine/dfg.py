"""The directly-follows graph (DFG) of a log, in native polars.

For every case (partnership), events are ordered by timestamp with ties kept
in row order (see :func:`engine.variants.order_events`); each pair of
consecutive events is an edge ``source -> target``. An edge carries its
``count`` and the mean and median seconds between the two events. The first
and last activity of each case are counted as start and end activities.
Counts equal ``pm4py.discover_dfg`` exactly (tested on real logs).

Examples
--------
>>> from datetime import datetime
>>> import polars as pl
>>> frame = pl.LazyFrame({
...     "case:concept:name": ["p", "p", "p", "q", "q"],
...     "concept:name": ["a", "b", "c", "a", "b"],
...     "time:timestamp": [datetime(2020, 1, 1, h) for h in (0, 1, 3, 0, 3)],
... })
>>> dfg = discover_dfg(frame)
>>> dfg.edges.rows()
[('a', 'b', 2, 7200.0, 7200.0), ('b', 'c', 1, 7200.0, 7200.0)]
>>> dfg.to_dict()["start_activities"], dfg.to_dict()["end_activities"]
({'a': 2}, {'b': 1, 'c': 1})
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import polars as pl

from engine import schema as s

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = [
    "EDGE_SCHEMA",
    "DirectlyFollowsGraph",
    "count_end_activities",
    "count_start_activities",
    "discover_dfg",
    "find_dfg_edges",
    "group_cases",
]

EDGE_SCHEMA = pl.Schema(
    {
        "source": pl.String(),
        "target": pl.String(),
        "count": pl.Int64(),
        "mean_seconds": pl.Float64(),
        "median_seconds": pl.Float64(),
    }
)


@dataclass(frozen=True, slots=True)
class DirectlyFollowsGraph:
    """A collected DFG: edges, start and end activities.

    Attributes
    ----------
    edges
        ``source, target, count, mean_seconds, median_seconds``, by descending
        count, then source and target.
    start_activities, end_activities
        ``activity, count``, by descending count, then activity.
    """

    edges: pl.DataFrame
    start_activities: pl.DataFrame
    end_activities: pl.DataFrame

    def to_dict(self) -> dict[str, object]:
        """Return the DFG as the documented JSON document.

        ``{"edges": [{source, target, count, mean_seconds, median_seconds}],
        "start_activities": {activity: count}, "end_activities": {...}}``.
        """
        return {
            "edges": self.edges.to_dicts(),
            "start_activities": dict(self.start_activities.iter_rows()),
            "end_activities": dict(self.end_activities.iter_rows()),
        }


def group_cases(
    events: pl.DataFrame,
    *,
    case: str = s.PARTNERSHIP_ID,
    timestamp: str = s.TIMESTAMP,
    case_key: pl.Series,
) -> pl.DataFrame:
    """Return ``events`` with each case's events contiguous, in stable time order.

    Within a case the order is that of :func:`engine.variants.order_events`
    (timestamp, ties in row order); the cases themselves come in ``case_key``
    order. Two stable single-column sorts on integers (timestamp, then
    ``case_key``, e.g. a 64-bit hash of the case id) are several times faster
    than sorting the case strings; if two cases share a key (their events
    would interleave) the exact string sort is used instead. Events that are
    already grouped by case and time-ordered are returned as they are.

    Parameters
    ----------
    events
        Events of any number of cases.
    case, timestamp
        Names of the case and timestamp columns.
    case_key
        One integer per row, equal for rows of the same case.

    Examples
    --------
    >>> import polars as pl
    >>> df = pl.DataFrame({"case:concept:name": ["b", "a", "b", "a"],
    ...                    "time:timestamp": [2, 1, 1, 1], "n": [0, 1, 2, 3]})
    >>> group_cases(df, case_key=pl.Series([7, 3, 7, 3]))["n"].to_list()
    [1, 3, 2, 0]
    >>> group_cases(df, case_key=pl.Series([0, 0, 0, 0]))["n"].to_list()
    [1, 3, 2, 0]
    >>> group_cases(df[[2, 0, 1, 3]], case_key=pl.Series([7, 7, 3, 3]))["n"].to_list()
    [2, 0, 1, 3]
    """
    new_case = (events[case] != events[case].shift(1)).fill_null(value=True)
    backwards = (events[timestamp] < events[timestamp].shift(1)) & ~new_case
    # Already grouped (XES files, simulator output): as many case runs as keys
    # means contiguous, collision-free cases; no sort needed if time-ordered.
    if new_case.sum() == case_key.n_unique() and not backwards.any():
        return events
    keys = pl.DataFrame({"_t": events[timestamp], "_k": case_key}).with_row_index("_i")
    order = keys.sort("_t", maintain_order=True).sort("_k", maintain_order=True)
    grouped = events[order["_i"]]
    same_key = order["_k"] == order["_k"].shift(1)
    if (same_key & (grouped[case] != grouped[case].shift(1))).any():
        return events.sort([case, timestamp], maintain_order=True)
    return grouped


def find_dfg_edges(
    ordered: pl.LazyFrame,
    *,
    case: str = s.PARTNERSHIP_ID,
    activity: str = s.ACTIVITY,
    timestamp: str = s.TIMESTAMP,
) -> pl.LazyFrame:
    """Return the DFG edges (:data:`EDGE_SCHEMA`) of an ordered event frame.

    Parameters
    ----------
    ordered
        Events sorted by :func:`engine.variants.order_events`.
    case, activity, timestamp
        Names of the case, activity and timestamp columns.

    Examples
    --------
    >>> import polars as pl
    >>> lf = pl.LazyFrame({"case:concept:name": ["p", "p"], "concept:name": ["a", "a"],
    ...                    "time:timestamp": [0, 2_000_000]})
    >>> find_dfg_edges(lf.with_columns(pl.col("time:timestamp").cast(pl.Datetime("us")))
    ...                ).collect().rows()
    [('a', 'a', 1, 2.0, 2.0)]
    """
    seconds = (
        pl.col(timestamp).shift(-1) - pl.col(timestamp)
    ).dt.total_microseconds() / 1_000_000
    pairs = ordered.select(
        pl.col(activity).alias("source"),
        pl.col(activity).shift(-1).alias("target"),
        seconds.alias("seconds"),
        (pl.col(case) == pl.col(case).shift(-1)).alias("_same_case"),
    ).filter(pl.col("_same_case"))
    return (
        pairs.group_by("source", "target")
        .agg(
            pl.len().cast(pl.Int64).alias("count"),
            pl.col("seconds").mean().alias("mean_seconds"),
            pl.col("seconds").median().alias("median_seconds"),
        )
        .sort(["count", "source", "target"], descending=[True, False, False])
        .cast(EDGE_SCHEMA)
    )


def _count_boundary_activities(
    ordered: pl.LazyFrame, *, case: str, activity: str, offset: int
) -> pl.LazyFrame:
    boundary = pl.col(case) != pl.col(case).shift(offset)
    return (
        ordered.filter(boundary.fill_null(value=True))
        .group_by(pl.col(activity).alias("activity"))
        .agg(pl.len().cast(pl.Int64).alias("count"))
        .sort(["count", "activity"], descending=[True, False])
    )


def count_start_activities(
    ordered: pl.LazyFrame,
    *,
    case: str = s.PARTNERSHIP_ID,
    activity: str = s.ACTIVITY,
) -> pl.LazyFrame:
    """Return ``activity, count`` of the first activity of every case.

    Parameters
    ----------
    ordered
        Events sorted by :func:`engine.variants.order_events`.
    case, activity
        Names of the case and activity columns.

    Examples
    --------
    >>> import polars as pl
    >>> lf = pl.LazyFrame({"case:concept:name": ["p", "p", "q"],
    ...                    "concept:name": ["a", "b", "a"]})
    >>> count_start_activities(lf).collect().rows()
    [('a', 2)]
    """
    return _count_boundary_activities(ordered, case=case, activity=activity, offset=1)


def count_end_activities(
    ordered: pl.LazyFrame,
    *,
    case: str = s.PARTNERSHIP_ID,
    activity: str = s.ACTIVITY,
) -> pl.LazyFrame:
    """Return ``activity, count`` of the last activity of every case.

    Parameters
    ----------
    ordered
        Events sorted by :func:`engine.variants.order_events`.
    case, activity
        Names of the case and activity columns.

    Examples
    --------
    >>> import polars as pl
    >>> lf = pl.LazyFrame({"case:concept:name": ["p", "p", "q"],
    ...                    "concept:name": ["a", "b", "a"]})
    >>> count_end_activities(lf).collect().rows()
    [('a', 1), ('b', 1)]
    """
    return _count_boundary_activities(ordered, case=case, activity=activity, offset=-1)


def discover_dfg(
    frame: pl.LazyFrame,
    *,
    partnerships: Sequence[str] | None = None,
    case: str = s.PARTNERSHIP_ID,
    activity: str = s.ACTIVITY,
    timestamp: str = s.TIMESTAMP,
) -> DirectlyFollowsGraph:
    """Return the DFG of one partnership, a set of them, or the whole log.

    This is a collect boundary: the events are collected once, grouped by
    case with :func:`group_cases`, and the three parts computed from them.

    Parameters
    ----------
    frame
        Events of any number of cases (extra columns are ignored).
    partnerships
        Restrict to these case ids; ``None`` keeps every case.
    case, activity, timestamp
        Names of the case, activity and timestamp columns.

    Examples
    --------
    >>> from datetime import datetime
    >>> import polars as pl
    >>> lf = pl.LazyFrame({"case:concept:name": ["p", "q"], "concept:name": ["a", "b"],
    ...                    "time:timestamp": [datetime(2020, 1, 1)] * 2})
    >>> discover_dfg(lf, partnerships=["q"]).to_dict()
    {'edges': [], 'start_activities': {'b': 1}, 'end_activities': {'b': 1}}
    """
    if partnerships is not None:
        frame = frame.filter(pl.col(case).is_in(list(partnerships)))
    events = frame.select(case, activity, timestamp).collect()
    ordered = group_cases(
        events, case=case, timestamp=timestamp, case_key=events[case].hash()
    ).lazy()
    edges, starts, ends = pl.collect_all(
        [
            find_dfg_edges(ordered, case=case, activity=activity, timestamp=timestamp),
            count_start_activities(ordered, case=case, activity=activity),
            count_end_activities(ordered, case=case, activity=activity),
        ],
        engine="in-memory",
    )
    return DirectlyFollowsGraph(
        edges=edges, start_activities=starts, end_activities=ends
    )

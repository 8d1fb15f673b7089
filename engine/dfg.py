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
    "PAIR_SCHEMA",
    "DirectlyFollowsGraph",
    "count_end_activities",
    "count_follow_pairs",
    "count_start_activities",
    "discover_dfg",
    "find_dfg_edges",
    "group_cases",
    "order_cases",
]

PAIR_SCHEMA = pl.Schema(
    {
        "source": pl.String(),
        "target": pl.String(),
        "follows": pl.Boolean(),
        "count": pl.Int64(),
        "mean_seconds": pl.Float64(),
        "median_seconds": pl.Float64(),
    }
)

EDGE_SCHEMA = pl.Schema(
    {
        "source": pl.String(),
        "target": pl.String(),
        "count": pl.Int64(),
        "mean_seconds": pl.Float64(),
        "median_seconds": pl.Float64(),
    }
)


# Column of the integer case key in the grouped frame of discover_dfg.
_CASE_KEY = "__case_key"
# From this many events on, discover_dfg collects on the streaming engine.
_STREAMING_ROWS = 500_000


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


def order_cases(
    events: pl.DataFrame,
    *,
    timestamp: str = s.TIMESTAMP,
    case_key: pl.Series,
) -> pl.Series | None:
    """Return the row order that groups ``events`` by case in stable time order.

    ``None`` means the events are already in that order. Cases come in
    ``case_key`` order and within a case the order is that of
    :func:`engine.variants.order_events` (timestamp, ties in row order), as
    long as no two cases share a key; :func:`group_cases` checks that (with
    shared keys, events of one case may also be out of time order here).

    Two stable single-column sorts on integers (timestamp, then ``case_key``,
    e.g. a 64-bit hash of the case id) are several times faster than sorting
    the case strings. A frame already in time order (a store read: an O(n)
    check) needs only the second: a stable sort by case keeps each case's
    events in time order, ties in row order.

    Parameters
    ----------
    events
        Events of any number of cases.
    timestamp
        Name of the timestamp column.
    case_key
        One integer per row, equal for rows of the same case.

    Examples
    --------
    >>> import polars as pl
    >>> df = pl.DataFrame({"case:concept:name": ["b", "a", "b"], "time:timestamp": [1, 1, 2]})
    >>> order_cases(df, case_key=pl.Series([7, 3, 7])).to_list()
    [1, 0, 2]
    >>> order_cases(df[[1, 0, 2]], case_key=pl.Series([3, 7, 7])) is None
    True
    """
    times = events[timestamp]
    if times.is_sorted():
        if case_key.is_sorted():  # already grouped, in key order
            return None
        return events.select(pl.arg_sort_by(case_key, maintain_order=True)).to_series()
    new_key = (case_key != case_key.shift(1)).fill_null(value=True)
    backwards = (times < times.shift(1)) & ~new_key
    # Already grouped (XES files, simulator output): as many key runs as keys
    # means contiguous keys; no sort needed if time-ordered within them.
    if new_key.sum() == case_key.n_unique() and not backwards.any():
        return None
    keys = pl.DataFrame({"_t": times, "_k": case_key}).with_row_index("_i")
    return keys.sort("_t", maintain_order=True).sort("_k", maintain_order=True)["_i"]


def group_cases(
    events: pl.DataFrame,
    *,
    case: str = s.PARTNERSHIP_ID,
    timestamp: str = s.TIMESTAMP,
    case_key: pl.Series,
) -> pl.DataFrame:
    """Return ``events`` with each case's events contiguous, in stable time order.

    The order is that of :func:`order_cases`; if two cases share a key (their
    events would interleave) the exact string sort is used instead. Events
    that are already grouped by case and time-ordered are returned as they are.

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
    order = order_cases(events, timestamp=timestamp, case_key=case_key)
    grouped = events if order is None else events[order]
    keys = case_key if order is None else case_key.gather(order)
    if _keys_collide(grouped[case], keys):
        return events.sort([case, timestamp], maintain_order=True)
    return grouped


def _keys_collide(cases: pl.Series, keys: pl.Series) -> bool:
    """Tell whether two different cases share a key in a grouped key column."""
    same_key = keys == keys.shift(1)
    return bool((same_key & (cases != cases.shift(1))).any())


def count_follow_pairs(
    ordered: pl.LazyFrame,
    *,
    case: str = s.PARTNERSHIP_ID,
    activity: str = s.ACTIVITY,
    timestamp: str = s.TIMESTAMP,
    performance: bool = True,
) -> pl.LazyFrame:
    """Return each activity with what follows it in its case, counted.

    One pass over the events gives the whole DFG: a row per ``source``
    activity, ``target`` (the next activity of the same case, null after a
    case's last event) and ``follows`` (whether an event follows), with its
    ``count`` and, on ``follows`` rows, the ``mean_seconds`` and
    ``median_seconds`` between the two events. :func:`find_dfg_edges`,
    :func:`count_start_activities` and :func:`count_end_activities` read
    this small frame (a row per pair of activities that follow each other,
    plus one per activity that ends a case).

    Parameters
    ----------
    ordered
        Events sorted by :func:`engine.variants.order_events` (or grouped by
        :func:`group_cases`).
    case, activity, timestamp
        Names of the case, activity and timestamp columns.
    performance
        Also the durations; ``False`` leaves them null and the timestamp
        unread (a frequency DFG, as ``pm4py.discover_dfg``).

    Examples
    --------
    >>> import polars as pl
    >>> lf = pl.LazyFrame({"case:concept:name": ["p", "p", "q"],
    ...                    "concept:name": ["a", "b", "a"]})
    >>> count_follow_pairs(lf, performance=False).sort("source", "target").collect().rows()
    [('a', None, False, 1, None, None), ('a', 'b', True, 1, None, None), ('b', None, False, 1, None, None)]
    """
    follows = (pl.col(case) == pl.col(case).shift(-1)).fill_null(value=False)
    columns = [
        pl.col(activity).alias("source"),
        pl.when(follows).then(pl.col(activity).shift(-1)).alias("target"),
        follows.alias("follows"),
    ]
    keys = ("source", "target", "follows")
    if not performance:
        none = pl.lit(None, pl.Float64)
        counted = (
            ordered.select(columns)
            .group_by(keys)
            .len("count")
            .with_columns(none.alias("mean_seconds"), none.alias("median_seconds"))
        )
        return counted.cast(PAIR_SCHEMA)
    delta = pl.col(timestamp).shift(-1) - pl.col(timestamp)
    seconds = pl.col("_delta").dt.total_microseconds() / 1_000_000
    counted = (
        ordered.select(*columns, pl.when(follows).then(delta).alias("_delta"))
        .group_by(keys)
        .agg(
            pl.len().alias("count"),
            seconds.mean().alias("mean_seconds"),
            seconds.median().alias("median_seconds"),
        )
    )
    return counted.cast(PAIR_SCHEMA)


def find_dfg_edges(pairs: pl.LazyFrame) -> pl.LazyFrame:
    """Return the DFG edges (:data:`EDGE_SCHEMA`) from :func:`count_follow_pairs`.

    By descending count, then source and target.

    Examples
    --------
    >>> import polars as pl
    >>> lf = pl.LazyFrame({"case:concept:name": ["p", "p"], "concept:name": ["a", "a"],
    ...                    "time:timestamp": [0, 2_000_000]})
    >>> lf = lf.with_columns(pl.col("time:timestamp").cast(pl.Datetime("us")))
    >>> find_dfg_edges(count_follow_pairs(lf)).collect().rows()
    [('a', 'a', 1, 2.0, 2.0)]
    >>> find_dfg_edges(count_follow_pairs(lf, performance=False)).collect().rows()
    [('a', 'a', 1, None, None)]
    """
    return (
        pairs.filter(pl.col("follows"))
        .select(EDGE_SCHEMA.names())
        .sort(["count", "source", "target"], descending=[True, False, False])
        .cast(EDGE_SCHEMA)
    )


def _sort_activity_counts(counts: pl.LazyFrame) -> pl.LazyFrame:
    return counts.sort(["count", "activity"], descending=[True, False]).cast(
        {"count": pl.Int64}
    )


def count_start_activities(pairs: pl.LazyFrame) -> pl.LazyFrame:
    """Return ``activity, count`` of the first activity of every case.

    Every event either starts its case or follows exactly one event, so an
    activity starts as many cases as it occurs minus the edges into it.

    Parameters
    ----------
    pairs
        The frame of :func:`count_follow_pairs`.

    Examples
    --------
    >>> import polars as pl
    >>> lf = pl.LazyFrame({"case:concept:name": ["p", "p", "q"],
    ...                    "concept:name": ["a", "b", "a"]})
    >>> count_start_activities(count_follow_pairs(lf, performance=False)).collect().rows()
    [('a', 2)]
    """
    occurs = pairs.select(pl.col("source").alias("activity"), "count")
    entered = pairs.filter(pl.col("follows")).select(
        pl.col("target").alias("activity"), -pl.col("count")
    )
    starts = (
        pl.concat([occurs, entered]).group_by("activity").agg(pl.col("count").sum())
    )
    return _sort_activity_counts(starts.filter(pl.col("count") > 0))


def count_end_activities(pairs: pl.LazyFrame) -> pl.LazyFrame:
    """Return ``activity, count`` of the last activity of every case.

    Parameters
    ----------
    pairs
        The frame of :func:`count_follow_pairs`.

    Examples
    --------
    >>> import polars as pl
    >>> lf = pl.LazyFrame({"case:concept:name": ["p", "p", "q"],
    ...                    "concept:name": ["a", "b", "a"]})
    >>> count_end_activities(count_follow_pairs(lf, performance=False)).collect().rows()
    [('a', 1), ('b', 1)]
    """
    ends = (
        pairs.filter(~pl.col("follows"))
        .group_by(pl.col("source").alias("activity"))
        .agg(pl.col("count").sum())
    )
    return _sort_activity_counts(ends)


def discover_dfg(
    frame: pl.LazyFrame,
    *,
    partnerships: Sequence[str] | None = None,
    case: str = s.PARTNERSHIP_ID,
    activity: str = s.ACTIVITY,
    timestamp: str = s.TIMESTAMP,
    performance: bool = True,
) -> DirectlyFollowsGraph:
    """Return the DFG of one partnership, a set of them, or the whole log.

    This is a collect boundary: the events are collected once, ordered by
    case with :func:`order_cases` (cases told apart by a 64-bit hash of their
    id, checked exact), and one pass over that order
    (:func:`count_follow_pairs`) counts what the three parts are read from.

    Parameters
    ----------
    frame
        Events of any number of cases (extra columns are ignored).
    partnerships
        Restrict to these case ids; ``None`` keeps every case.
    case, activity, timestamp
        Names of the case, activity and timestamp columns.
    performance
        Also the mean and median seconds of each edge (``False``: null, a
        frequency DFG like ``pm4py.discover_dfg``, computed faster).

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
    keep = [activity, timestamp] if performance else [activity]
    ordered = _order_by_case_key(events, case=case, timestamp=timestamp, keep=keep)
    pairs = count_follow_pairs(
        ordered.lazy(),
        case=_CASE_KEY,
        activity=activity,
        timestamp=timestamp,
        performance=performance,
    ).collect(
        # The streaming engine counts millions of pairs 3x cheaper; its fixed
        # cost (milliseconds) would dominate on small logs.
        engine="streaming" if events.height >= _STREAMING_ROWS else "in-memory",
    )
    edges, starts, ends = pl.collect_all(
        [
            find_dfg_edges(pairs.lazy()),
            count_start_activities(pairs.lazy()),
            count_end_activities(pairs.lazy()),
        ],
        engine="in-memory",  # a few rows: the streaming engine's setup would dominate
    )
    return DirectlyFollowsGraph(
        edges=edges, start_activities=starts, end_activities=ends
    )


def _order_by_case_key(
    events: pl.DataFrame, *, case: str, timestamp: str, keep: list[str]
) -> pl.DataFrame:
    """Return the ``keep`` columns of ``events`` grouped by case, and a case key.

    The key is a 64-bit hash of the case id: integer comparisons, and the
    key, the case and the ``keep`` columns are gathered in one frame gather
    (its columns in parallel). If two cases share a key, the exact string
    sort is used and the key is the case id itself.
    """
    key = events[case].hash()
    order = order_cases(events, timestamp=timestamp, case_key=key)
    grouped = events.select(case, *keep).with_columns(key.alias(_CASE_KEY))
    if order is not None:
        grouped = grouped[order]
    if _keys_collide(grouped[case], grouped[_CASE_KEY]):
        ordered = events.sort([case, timestamp], maintain_order=True)
        return ordered.select(pl.col(case).alias(_CASE_KEY), *keep)
    return grouped.drop(case)

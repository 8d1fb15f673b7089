"""The deviation frame, and the prepared event frame every rule reads.

A deviation is one row: ``partnership_id, rule, severity, time, evidence
(list of event ids), message`` (docs/rules.md).

Examples
--------
>>> DEVIATION_SCHEMA.names()
['partnership_id', 'rule', 'severity', 'time', 'evidence', 'message']
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import polars as pl

from engine import schema as s
from engine.selection import drop_engine_events
from engine.validation import infer_phase_expr

if TYPE_CHECKING:
    from datetime import datetime

__all__ = [
    "DEVIATION_SCHEMA",
    "RULES",
    "RUN",
    "SEQ",
    "SEVERITIES",
    "empty_deviations",
    "finish_deviations",
    "format_date_expr",
    "keep_first_events",
    "mark_partnership_runs",
    "prepare_events",
]

RULES: Final = (
    "stalled_idea_to_action",
    "missing_top_manager_feedback",
    "phase_order_violation",
    "exclusive_decision",
    "unresolved_conflict",
    "hidden_objective",
    "commitment_loss",
)
SEVERITIES: Final = {
    "stalled_idea_to_action": "warning",
    "missing_top_manager_feedback": "warning",
    "phase_order_violation": "critical",
    "exclusive_decision": "warning",
    "unresolved_conflict": "warning",
    "hidden_objective": "warning",
    "commitment_loss": "critical",
}
# Rank of an event by (timestamp, version): within a partnership, comparing
# SEQ compares event order.
SEQ: Final = "seq"
# Present only in a log grouped by partnership in time order: each row's
# partnership numbered by its run (0, 1, ...), ascending and flagged sorted.
RUN: Final = "_partnership_run"

_UTC_US = pl.Datetime("us", "UTC")
# Below every representable timestamp: where a sort puts a null one.
_FIRST_US: Final = -(2**63)
DEVIATION_SCHEMA: Final = pl.Schema(
    {
        "partnership_id": pl.String(),
        "rule": pl.String(),
        "severity": pl.String(),
        "time": _UTC_US,
        "evidence": pl.List(pl.String()),
        "message": pl.String(),
    }
)
_RULE_COLUMNS: Final = (
    s.PARTNERSHIP_ID,
    s.EVENT_ID,
    s.ACTIVITY,
    s.TIMESTAMP,
    s.PHASE,
    s.ACTOR,
    s.ORGANIZATION,
    s.PARTICIPANTS,
    s.ATTRIBUTES,
)


def prepare_events(
    frame: pl.LazyFrame | pl.DataFrame, *, as_of: datetime | None = None
) -> pl.LazyFrame:
    """Return the columns the rules read, with a ``seq`` order column.

    ``seq`` ranks events by ``(time:timestamp, version)`` (without a ``version``
    column, by timestamp then row order), so comparing two events' ``seq``
    within a partnership compares their order. Rows are not reordered: ranking
    two integer keys is far cheaper than sorting every column. Events after
    ``as_of`` (when given) are not observed and dropped, and so are the events
    partnermine wrote itself (``alert_raised``, ...).

    Parameters
    ----------
    frame
        A canonical event frame (only the input columns, plus ``version``, are read).
    as_of
        The end of observation, if not the latest timestamp.

    Examples
    --------
    >>> from datetime import datetime, UTC
    >>> cols = {c: [None, None, None] for c in _RULE_COLUMNS}
    >>> frame = pl.DataFrame(cols, schema={c: s.EVENT_SCHEMA[c] for c in cols})
    >>> frame = frame.with_columns(
    ...     pl.Series(s.TIMESTAMP, [datetime(2020, 1, d, tzinfo=UTC) for d in (2, 1, 2)]),
    ...     pl.Series(s.VERSION, [3, 1, 2]),
    ... )
    >>> prepare_events(frame).collect()[SEQ].to_list()
    [2, 0, 1]
    """
    lazy = drop_engine_events(frame.lazy())
    if as_of is not None:
        lazy = lazy.filter(pl.col(s.TIMESTAMP) <= as_of)
    # A phase left null is inferred from the activity (DOMAIN.md), also for a
    # frame that did not come through the store's normalization. The
    # partnership id is categorical: every rule groups and joins on it, and
    # hashing its integer codes is about 3x cheaper than hashing the names
    # (finish_deviations turns it back into text).
    special = {
        s.PHASE: infer_phase_expr(),
        s.PARTNERSHIP_ID: pl.col(s.PARTNERSHIP_ID).cast(pl.Categorical),
    }
    columns = [special.get(c, pl.col(c)) for c in _RULE_COLUMNS]
    return lazy.select(*columns, _rank_events(lazy).alias(SEQ))


def _rank_events(lazy: pl.LazyFrame) -> pl.Expr:
    """Return each event's 0-based rank by ``(time:timestamp, version)``.

    Without a ``version`` column, ties keep row order: an ordinal rank of the
    timestamps alone (one stable sort, its inverse scattered), where sorting
    by two keys and then inverting that permutation takes two sorts. A null
    timestamp ranks first, as a sort puts it.
    """
    if s.VERSION in lazy.collect_schema().names():
        return pl.arg_sort_by(s.TIMESTAMP, s.VERSION).arg_sort().cast(pl.Int64)
    earliest = pl.col(s.TIMESTAMP).to_physical().fill_null(_FIRST_US)
    return earliest.rank("ordinal").cast(pl.Int64) - 1


def mark_partnership_runs(events: pl.DataFrame) -> pl.DataFrame:
    """Return prepared ``events`` with :data:`RUN` when grouped by partnership in time order.

    A log laid out one partnership after another, each in time order (an XES
    file, a bulk import, a store filled from one), numbers its partnerships
    by run: the code ascends with the rows, so keys built on it, such as
    (partnership, window), ascend too and polars groups them as slices
    instead of hashing every row. Any other layout is returned as it is.

    Examples
    --------
    >>> from datetime import datetime, UTC
    >>> ts = [datetime(2020, 1, d, tzinfo=UTC) for d in (1, 2, 1)]
    >>> grouped = pl.DataFrame({s.PARTNERSHIP_ID: ["b", "b", "a"], s.TIMESTAMP: ts})
    >>> mark_partnership_runs(grouped)[RUN].to_list()
    [0, 0, 1]
    >>> RUN in mark_partnership_runs(grouped.reverse()).columns
    False
    >>> split = grouped.with_columns(pl.Series(s.PARTNERSHIP_ID, ["a", "b", "a"]))
    >>> RUN in mark_partnership_runs(split).columns  # "a" in two runs
    False
    """
    pid, ts = events[s.PARTNERSHIP_ID], events[s.TIMESTAMP]
    starts = (pid != pid.shift(1)).fill_null(value=True)
    in_time_order = (starts | (ts >= ts.shift(1))).fill_null(value=False).all()
    # Contiguous when no partnership starts two runs: only run starts are hashed.
    firsts = pid.filter(starts)
    if not in_time_order or firsts.n_unique() != firsts.len():
        return events
    runs = (starts.cum_sum() - 1).cast(pl.UInt64).set_sorted()
    return events.with_columns(runs.alias(RUN))


def keep_first_events(frame: pl.LazyFrame, *, by: list[str]) -> pl.LazyFrame:
    """Return the first row (lowest ``seq``) of each ``by`` group of ``frame``.

    ``seq`` is unique per event, so a semi-join on it picks exactly one row per
    group, with no per-group sort.
    """
    frame = frame.cache()  # read twice: once to find the firsts, once to keep them
    firsts = frame.group_by(by).agg(pl.col(SEQ).min())
    return frame.join(firsts.select(SEQ), on=SEQ, how="semi")


def format_date_expr(column: str | pl.Expr) -> pl.Expr:
    """Return a datetime column as ``YYYY-MM-DD`` text, for messages."""
    expr = pl.col(column) if isinstance(column, str) else column
    return expr.dt.strftime("%Y-%m-%d")


def finish_deviations(found: pl.LazyFrame, *, rule: str) -> pl.LazyFrame:
    """Return rule output in the deviation schema.

    Parameters
    ----------
    found
        One row per deviation with ``case:concept:name``, ``time``, ``evidence``
        and ``message``.
    rule
        The rule's name (one of :data:`RULES`).
    """
    return found.select(
        pl.col(s.PARTNERSHIP_ID).cast(pl.String).alias("partnership_id"),
        pl.lit(rule, pl.String).alias("rule"),
        pl.lit(SEVERITIES[rule], pl.String).alias("severity"),
        pl.col("time").cast(_UTC_US),
        pl.col("evidence").cast(pl.List(pl.String)),
        pl.col("message").cast(pl.String),
    )


def empty_deviations() -> pl.DataFrame:
    """Return an empty deviation frame."""
    return pl.DataFrame(schema=DEVIATION_SCHEMA)

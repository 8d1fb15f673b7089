"""The phase flow: negotiation -> commitment -> execution, with cycles back.

Each event gets a *stage*: its ``phase`` when recorded, else the stage of its
activity (:data:`engine.schema.ACTIVITY_STAGE`). Any-stage activities
(feedback, information sharing, conflicts, membership) belong to the stage in
force, so they are filled forward within the partnership; those before the
first staged event belong to the first stage. Consecutive events of one stage
form a *stage run*. A run lasts from its first event to the next run's first
event (the last run ends at its last event), which gives the time each
partnership spent in each stage and a stage-level DFG whose edge durations are
the time spent in the source stage.

Examples
--------
>>> from datetime import datetime
>>> import polars as pl
>>> frame = pl.LazyFrame({
...     "case:concept:name": ["p"] * 4,
...     "concept:name": ["initiate_partnership", "feedback_meeting",
...                      "sign_agreement", "start_action"],
...     "time:timestamp": [datetime(2020, 1, d) for d in (1, 2, 4, 5)],
... })
>>> flow = discover_phase_flow(frame)
>>> flow.dfg.edges.select("source", "target", "count", "mean_seconds").rows()
[('commitment', 'execution', 1, 86400.0), ('negotiation', 'commitment', 1, 259200.0)]
>>> flow.time_in_stage.select("stage", "runs", "seconds").rows()
[('negotiation', 1, 259200.0), ('commitment', 1, 86400.0), ('execution', 1, 0.0)]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import polars as pl

from engine import schema as s
from engine.dfg import DirectlyFollowsGraph, discover_dfg
from engine.variants import order_events

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

__all__ = [
    "PhaseFlow",
    "assign_stages",
    "discover_phase_flow",
    "find_stage_runs",
    "sum_time_in_stage",
]


@dataclass(frozen=True, slots=True)
class PhaseFlow:
    """The stage-level DFG and, per partnership, the time spent in each stage."""

    dfg: DirectlyFollowsGraph
    time_in_stage: pl.DataFrame

    def to_dict(self) -> dict[str, object]:
        """Return the DFG document plus ``time_in_stage`` rows."""
        return {**self.dfg.to_dict(), "time_in_stage": self.time_in_stage.to_dicts()}


def assign_stages(
    ordered: pl.LazyFrame,
    *,
    case: str = s.PARTNERSHIP_ID,
    activity: str = s.ACTIVITY,
    stage_of: Mapping[str, str | None] = s.ACTIVITY_STAGE,
) -> pl.LazyFrame:
    """Return ``ordered`` with a ``stage`` column (null when a case has none).

    Parameters
    ----------
    ordered
        Events sorted by :func:`engine.variants.order_events`; a ``phase``
        column, when present, takes precedence over the activity's stage.
    case, activity
        Names of the case and activity columns.
    stage_of
        Activity -> stage (``None`` for any-stage activities).

    Examples
    --------
    >>> import polars as pl
    >>> lf = pl.LazyFrame({"case:concept:name": ["p", "p", "p"],
    ...                    "concept:name": ["feedback_meeting", "start_action", "x"]})
    >>> assign_stages(lf).collect()["stage"].to_list()
    ['execution', 'execution', 'execution']
    """
    staged = {a: st for a, st in stage_of.items() if st is not None}
    by_activity = pl.col(activity).replace_strict(
        staged, default=None, return_dtype=pl.String
    )
    if s.PHASE in ordered.collect_schema().names():
        by_activity = pl.coalesce(pl.col(s.PHASE), by_activity)
    return ordered.with_columns(
        by_activity.forward_fill().backward_fill().over(case).alias("stage")
    )


def find_stage_runs(
    staged: pl.LazyFrame,
    *,
    case: str = s.PARTNERSHIP_ID,
    timestamp: str = s.TIMESTAMP,
) -> pl.LazyFrame:
    """Return the stage runs: ``case, stage, start, end, events, seconds``.

    Parameters
    ----------
    staged
        Ordered events with a ``stage`` column (:func:`assign_stages`).
    case, timestamp
        Names of the case and timestamp columns.

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import datetime
    >>> lf = pl.LazyFrame({"case:concept:name": ["p", "p", "p"],
    ...                    "stage": ["negotiation", "negotiation", "commitment"],
    ...                    "time:timestamp": [datetime(2020, 1, d) for d in (1, 2, 3)]})
    >>> find_stage_runs(lf).collect().select("stage", "events", "seconds").rows()
    [('negotiation', 2, 172800.0), ('commitment', 1, 0.0)]
    """
    new_case = (pl.col(case) != pl.col(case).shift(1)).fill_null(value=True)
    new_run = new_case | (pl.col("stage") != pl.col("stage").shift(1))
    runs = (
        staged.filter(pl.col("stage").is_not_null())
        .with_columns(new_run.cum_sum().alias("_run"))
        .group_by("_run", maintain_order=True)
        .agg(
            pl.col(case).first(),
            pl.col("stage").first(),
            pl.col(timestamp).first().alias("start"),
            pl.col(timestamp).last().alias("_last"),
            pl.len().cast(pl.Int64).alias("events"),
        )
    )
    same_case_next = pl.col(case) == pl.col(case).shift(-1)
    end = (
        pl.when(same_case_next.fill_null(value=False))
        .then(pl.col("start").shift(-1))
        .otherwise(pl.col("_last"))
    )
    return runs.with_columns(end.alias("end")).select(
        case,
        "stage",
        "start",
        "end",
        "events",
        ((pl.col("end") - pl.col("start")).dt.total_microseconds() / 1_000_000).alias(
            "seconds"
        ),
    )


def sum_time_in_stage(
    runs: pl.LazyFrame,
    *,
    case: str = s.PARTNERSHIP_ID,
    stages: Sequence[str] = s.PHASES,
) -> pl.LazyFrame:
    """Return per case and stage: ``runs``, ``events`` and total ``seconds``.

    Rows are ordered by case, then lifecycle order of the stage.

    Parameters
    ----------
    runs
        Stage runs from :func:`find_stage_runs`.
    case
        Name of the case column.
    stages
        Stage names in lifecycle order (others sort last, by name).

    Examples
    --------
    >>> import polars as pl
    >>> lf = pl.LazyFrame({"case:concept:name": ["p", "p", "p"],
    ...                    "stage": ["execution", "negotiation", "execution"],
    ...                    "events": [1, 2, 3], "seconds": [1.0, 2.0, 3.0]})
    >>> sum_time_in_stage(lf).collect().rows()
    [('p', 'negotiation', 1, 2, 2.0), ('p', 'execution', 2, 4, 4.0)]
    """
    order = {stage: i for i, stage in enumerate(stages)}
    rank = pl.col("stage").replace_strict(
        order, default=len(order), return_dtype=pl.Int64
    )
    return (
        runs.group_by(case, "stage")
        .agg(
            pl.len().cast(pl.Int64).alias("runs"),
            pl.col("events").sum().cast(pl.Int64),
            pl.col("seconds").sum(),
        )
        .sort([pl.col(case), rank, pl.col("stage")])
    )


def discover_phase_flow(
    frame: pl.LazyFrame,
    *,
    partnerships: Sequence[str] | None = None,
    case: str = s.PARTNERSHIP_ID,
    activity: str = s.ACTIVITY,
    timestamp: str = s.TIMESTAMP,
    stage_of: Mapping[str, str | None] = s.ACTIVITY_STAGE,
) -> PhaseFlow:
    """Return the stage-level DFG and the time per partnership in each stage.

    A collect boundary (through :func:`engine.dfg.discover_dfg`).

    Parameters
    ----------
    frame
        Events of any number of partnerships.
    partnerships
        Restrict to these case ids; ``None`` keeps every case.
    case, activity, timestamp
        Names of the case, activity and timestamp columns.
    stage_of
        Activity -> stage (``None`` for any-stage activities); a ``phase``
        column in ``frame`` takes precedence.
    """
    if partnerships is not None:
        frame = frame.filter(pl.col(case).is_in(list(partnerships)))
    keep = [
        c for c in (case, activity, timestamp, s.PHASE) if c in frame.collect_schema()
    ]
    ordered = order_events(frame.select(keep), case=case, timestamp=timestamp)
    staged = assign_stages(ordered, case=case, activity=activity, stage_of=stage_of)
    runs = find_stage_runs(staged, case=case, timestamp=timestamp).collect().lazy()
    dfg = discover_dfg(runs, case=case, activity="stage", timestamp="start")
    time_in_stage = sum_time_in_stage(runs, case=case).collect()
    return PhaseFlow(dfg=dfg, time_in_stage=time_in_stage)

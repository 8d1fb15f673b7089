"""``phase_order_violation``: a stage begun before the stage it depends on.

Ring & Van de Ven: negotiation, then commitment, then execution; cycling back
after execution (renegotiation) is allowed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from engine import schema as s
from engine.rules.deviation import SEQ, finish_deviations, format_date_expr

if TYPE_CHECKING:
    from datetime import datetime

    from engine.rules.thresholds import RuleThresholds

__all__ = ["check_phase_order"]

# (later stage, the stage that must come first)
_ORDER = (("commitment", "negotiation"), ("execution", "commitment"))


def check_phase_order(
    events: pl.LazyFrame,
    *,
    thresholds: RuleThresholds,  # noqa: ARG001 - uniform rule signature
    as_of: datetime,  # noqa: ARG001 - uniform rule signature
    intervals: pl.LazyFrame | None = None,  # noqa: ARG001 - uniform rule signature
) -> pl.LazyFrame:
    """Return the ``phase_order_violation`` deviations (docs/rules.md).

    Fires on the first ``commitment``-phase event when it comes before any
    ``negotiation``-phase event, and on the first ``execution``-phase event when
    it comes before any ``commitment``-phase event. "Before" is strict in time:
    steps at the same instant are in order whatever order they were recorded
    in. Null phases are ignored.

    Parameters
    ----------
    events
        The prepared frame (:func:`engine.rules.prepare_events`).
    thresholds, as_of, intervals
        Unused; every rule takes them.
    """
    firsts = (
        events.filter(pl.col(s.PHASE).is_in(list(s.PHASES)))
        .group_by(s.PARTNERSHIP_ID)
        .agg(
            *(
                pl.col(SEQ).filter(pl.col(s.PHASE) == phase).min().alias(phase)
                for phase in s.PHASES
            ),
            *(
                pl.col(s.TIMESTAMP)
                .filter(pl.col(s.PHASE) == phase)
                .min()
                .alias(f"_{phase}_time")
                for phase in s.PHASES
            ),
        )
    )
    offenders = pl.concat(
        [
            firsts.filter(
                pl.col(later).is_not_null()
                & (
                    pl.col(first).is_null()
                    | (pl.col(f"_{later}_time") < pl.col(f"_{first}_time"))
                )
            ).select(
                s.PARTNERSHIP_ID,
                pl.col(later).alias(SEQ),
                pl.lit(later).alias("_later"),
                pl.lit(first).alias("_first"),
            )
            for later, first in _ORDER
        ]
    )
    found = offenders.join(
        events.select(s.PARTNERSHIP_ID, SEQ, s.EVENT_ID, s.TIMESTAMP, s.ACTIVITY),
        on=[s.PARTNERSHIP_ID, SEQ],
    ).select(
        s.PARTNERSHIP_ID,
        pl.col(s.TIMESTAMP).alias("time"),
        pl.concat_list(s.EVENT_ID).alias("evidence"),
        pl.format(
            "{} step {} on {} came before any {} step",
            pl.col("_later").str.to_titlecase(),
            s.ACTIVITY,
            format_date_expr(s.TIMESTAMP),
            "_first",
        ).alias("message"),
    )
    return finish_deviations(found, rule="phase_order_violation")

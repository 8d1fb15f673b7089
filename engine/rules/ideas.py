"""``stalled_idea_to_action``: an agreed plan (or an idea) with no action in time.

Seed 000: a year passed between the occupational-health idea and its pilot.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import polars as pl

from engine import schema as s
from engine.attributes import IDEA_ID, attribute_expr
from engine.partners import (
    ACTIVE_PARTNER_COUNT,
    count_active_partners,
    partner_intervals,
)
from engine.rules.deviation import SEQ, finish_deviations, format_date_expr

if TYPE_CHECKING:
    from datetime import datetime

    from engine.rules.thresholds import RuleThresholds

__all__ = ["check_stalled_ideas"]


def _first_per_idea(events: pl.LazyFrame, activities: list[str]) -> pl.LazyFrame:
    """Return, per (partnership, idea), its first event among ``activities``."""
    candidates = (
        events.filter(pl.col(s.ACTIVITY).is_in(activities))
        .with_columns(attribute_expr(IDEA_ID))
        .filter(pl.col(IDEA_ID).is_not_null())
        .cache()
    )
    chosen = candidates.group_by(s.PARTNERSHIP_ID, IDEA_ID).agg(pl.col(SEQ).min())
    return candidates.join(chosen.select(SEQ), on=SEQ, how="semi").select(
        s.PARTNERSHIP_ID, IDEA_ID, s.EVENT_ID, s.TIMESTAMP, s.ACTIVITY
    )


def check_stalled_ideas(
    events: pl.LazyFrame,
    *,
    thresholds: RuleThresholds,
    as_of: datetime,
    intervals: pl.LazyFrame | None = None,
) -> pl.LazyFrame:
    """Return the ``stalled_idea_to_action`` deviations (docs/rules.md).

    Per idea, the anchor is its first ``propose_idea`` or ``agree_action_plan``,
    whichever came first: DOMAIN.md's "an agree_action_plan (or propose_idea)
    has no start_action within N days" holds as soon as the earlier of them has
    waited N days (seed 000: a year from *idea* to pilot). It fires when the
    idea's first ``start_action`` comes more than ``stall_days`` after the
    anchor, or when there is none, the deadline
    (anchor + ``stall_days``) is at or before ``as_of``, and some partner is still
    active at the deadline.

    Parameters
    ----------
    events
        The prepared frame (:func:`engine.rules.prepare_events`).
    thresholds
        Uses ``stall_days``.
    as_of
        The end of observation.
    intervals
        :func:`engine.partners.partner_intervals` of ``events``, if already known.
    """
    days = thresholds.stall_days
    anchors = _first_per_idea(events, ["agree_action_plan", "propose_idea"])
    starts = _first_per_idea(events, ["start_action"]).select(
        s.PARTNERSHIP_ID,
        IDEA_ID,
        pl.col(s.EVENT_ID).alias("_start_id"),
        pl.col(s.TIMESTAMP).alias("_start_ts"),
    )
    deadline = (pl.col(s.TIMESTAMP) + timedelta(days=days)).alias("time")
    joined = anchors.join(starts, on=[s.PARTNERSHIP_ID, IDEA_ID], how="left").cache()
    late = joined.with_columns(deadline).filter(pl.col("_start_ts") > pl.col("time"))
    overdue = (
        joined.filter(pl.col("_start_ts").is_null())
        .with_columns(deadline)
        .filter(pl.col("time") <= as_of)
        .cache()
    )
    alive = (
        count_active_partners(
            intervals if intervals is not None else partner_intervals(events),
            overdue.select(s.PARTNERSHIP_ID, IDEA_ID, "time"),
            time_column="time",
        )
        .filter(pl.col(ACTIVE_PARTNER_COUNT) > 0)
        .select(s.PARTNERSHIP_ID, IDEA_ID)
    )
    missing = overdue.join(alive, on=[s.PARTNERSHIP_ID, IDEA_ID], how="semi")
    subject = (
        pl.when(pl.col(s.ACTIVITY) == "agree_action_plan")
        .then(
            pl.format(
                "Plan for idea {} agreed on {}", IDEA_ID, format_date_expr(s.TIMESTAMP)
            )
        )
        .otherwise(
            pl.format("Idea {} proposed on {}", IDEA_ID, format_date_expr(s.TIMESTAMP))
        )
    )
    waited = (pl.col("_start_ts") - pl.col(s.TIMESTAMP)).dt.total_days()
    elapsed = (pl.lit(as_of) - pl.col(s.TIMESTAMP)).dt.total_days()
    found = pl.concat(
        [
            late.with_columns(
                pl.concat_list(s.EVENT_ID, "_start_id").alias("evidence"),
                pl.format(
                    "{} waited {} days for its pilot (limit {})",
                    subject,
                    waited,
                    pl.lit(days),
                ).alias("message"),
            ),
            missing.with_columns(
                pl.concat_list(s.EVENT_ID).alias("evidence"),
                pl.format(
                    "{} has no pilot after {} days (limit {})",
                    subject,
                    elapsed,
                    pl.lit(days),
                ).alias("message"),
            ),
        ]
    )
    return finish_deviations(found, rule="stalled_idea_to_action")

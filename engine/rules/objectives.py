"""``hidden_objective``: an objective kept private, or never brought into the open.

Seed 003: hiding objectives (vs striving for agreed ones) marks exclusive
strategizing and strategic disorder.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import polars as pl

from engine import schema as s
from engine.attributes import VISIBILITY, attribute_expr, objective_ids_expr
from engine.rules.deviation import SEQ, finish_deviations, format_date_expr

if TYPE_CHECKING:
    from datetime import datetime

    from engine.rules.thresholds import RuleThresholds

__all__ = ["check_hidden_objectives"]

_OBJECTIVE = "_objective"


def _first_disclosures(events: pl.LazyFrame) -> pl.LazyFrame:
    """Return, per (partnership, objective), when it was first agreed or shared."""
    # A cheap substring test before JSON parsing: most updates name no objective.
    return (
        events.filter(
            pl.col(s.ACTIVITY).is_in(["agree_objectives", "share_information"])
            & pl.col(s.ATTRIBUTES).str.contains("objective_id", literal=True)
        )
        .select(s.PARTNERSHIP_ID, s.TIMESTAMP, objective_ids_expr().alias(_OBJECTIVE))
        .explode(_OBJECTIVE)
        .filter(pl.col(_OBJECTIVE).is_not_null())
        .group_by(s.PARTNERSHIP_ID, _OBJECTIVE)
        .agg(pl.col(s.TIMESTAMP).min().alias("_disclosed"))
    )


def check_hidden_objectives(
    events: pl.LazyFrame,
    *,
    thresholds: RuleThresholds,
    as_of: datetime,
    intervals: pl.LazyFrame | None = None,  # noqa: ARG001 - uniform rule signature
) -> pl.LazyFrame:
    """Return the ``hidden_objective`` deviations (docs/rules.md).

    A ``propose_objective`` fires when its ``visibility`` is ``private``; or, when
    it has no visibility, when its objective is neither agreed
    (``agree_objectives``) nor shared (``share_information``) by
    ``hidden_days`` after the proposal, once that time is at or before ``as_of``. At
    most one deviation per objective: the earliest.

    Parameters
    ----------
    events
        The prepared frame (:func:`engine.rules.prepare_events`).
    thresholds
        Uses ``hidden_days``.
    as_of
        The end of observation.
    intervals
        Unused; every rule takes it.
    """
    days = thresholds.hidden_days
    deadline = pl.col(s.TIMESTAMP) + timedelta(days=days)
    proposals = (
        events.filter(pl.col(s.ACTIVITY) == "propose_objective")
        .with_columns(
            objective_ids_expr().list.first().alias(_OBJECTIVE),
            attribute_expr(VISIBILITY),
        )
        .join(_first_disclosures(events), on=[s.PARTNERSHIP_ID, _OBJECTIVE], how="left")
    )
    private = pl.col(VISIBILITY) == "private"
    undisclosed = pl.col(VISIBILITY).is_null() & pl.when(
        pl.col("_disclosed").is_null()
    ).then(deadline <= as_of).otherwise(pl.col("_disclosed") > deadline)
    who = pl.col(s.ORGANIZATION).fill_null("a partner")
    what = pl.format(
        "Objective {} proposed by {} on {}",
        pl.col(_OBJECTIVE).fill_null("(unnamed)"),
        who,
        format_date_expr(s.TIMESTAMP),
    )
    found = (
        proposals.filter(private | undisclosed)
        .with_columns(
            pl.when(private)
            .then(pl.col(s.TIMESTAMP))
            .otherwise(deadline)
            .alias("time"),
            pl.coalesce(_OBJECTIVE, s.EVENT_ID).alias("_key"),
        )
        .sort("time", SEQ)
        .unique(subset=[s.PARTNERSHIP_ID, "_key"], keep="first", maintain_order=True)
        .with_columns(
            pl.concat_list(s.EVENT_ID).alias("evidence"),
            pl.when(private)
            .then(pl.format("{} was kept private", what))
            .otherwise(
                pl.format(
                    "{} was neither agreed nor shared within {} days",
                    what,
                    pl.lit(days),
                )
            )
            .alias("message"),
        )
    )
    return finish_deviations(found, rule="hidden_objective")

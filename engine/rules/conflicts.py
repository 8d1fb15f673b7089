"""``unresolved_conflict``: a conflict left open too long.

Seed 003: conflicts reinforced rather than mitigated lead to strategic disorder.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import polars as pl

from engine import schema as s
from engine.attributes import CONFLICT_ID, attribute_expr
from engine.rules.deviation import (
    SEQ,
    finish_deviations,
    format_date_expr,
    keep_first_events,
)

if TYPE_CHECKING:
    from datetime import datetime

    from engine.rules.thresholds import RuleThresholds

__all__ = ["check_unresolved_conflicts"]


_KEY = "_conflict"


def _first_per_conflict(events: pl.LazyFrame, activity: str) -> pl.LazyFrame:
    """Return, per (partnership, conflict), its first ``activity`` event.

    An event without ``conflict_id`` is a conflict of its own (keyed by its
    event id), as in the ``conflict_mitigation`` indicator: a raise without an
    id can never be resolved, and a resolve without an id resolves nothing.
    """
    return keep_first_events(
        events.filter(pl.col(s.ACTIVITY) == activity)
        .with_columns(attribute_expr(CONFLICT_ID))
        .with_columns(
            pl.coalesce(CONFLICT_ID, pl.lit("event ") + pl.col(s.EVENT_ID)).alias(_KEY)
        ),
        by=[s.PARTNERSHIP_ID, _KEY],
    ).select(s.PARTNERSHIP_ID, _KEY, CONFLICT_ID, SEQ, s.EVENT_ID, s.TIMESTAMP)


def check_unresolved_conflicts(
    events: pl.LazyFrame,
    *,
    thresholds: RuleThresholds,
    as_of: datetime,
    intervals: pl.LazyFrame | None = None,  # noqa: ARG001 - uniform rule signature
) -> pl.LazyFrame:
    """Return the ``unresolved_conflict`` deviations (docs/rules.md).

    A ``conflict_id``'s first ``raise_conflict`` fires when its first
    ``resolve_conflict`` comes more than ``conflict_days`` later, or when there is
    none and ``conflict_days`` have passed by ``as_of`` (observed through the
    deadline). A raise without ``conflict_id`` cannot be matched to a resolve:
    it fires once
    ``conflict_days`` have passed.

    Parameters
    ----------
    events
        The prepared frame (:func:`engine.rules.prepare_events`).
    thresholds
        Uses ``conflict_days``.
    as_of
        The end of observation.
    intervals
        Unused; every rule takes it.
    """
    days = thresholds.conflict_days
    resolves = _first_per_conflict(events, "resolve_conflict").select(
        s.PARTNERSHIP_ID,
        _KEY,
        pl.col(s.EVENT_ID).alias("_resolve_id"),
        pl.col(s.TIMESTAMP).alias("_resolve_ts"),
    )
    deadline = pl.col(s.TIMESTAMP) + timedelta(days=days)
    open_ = (
        _first_per_conflict(events, "raise_conflict")
        .join(resolves, on=[s.PARTNERSHIP_ID, _KEY], how="left")
        .with_columns(deadline.alias("time"))
        .filter(
            pl.when(pl.col("_resolve_ts").is_null())
            .then(pl.col("time") <= as_of)
            .otherwise(pl.col("_resolve_ts") > pl.col("time"))
        )
    )
    raised = pl.format(
        "Conflict {} raised on {}",
        pl.col(CONFLICT_ID).fill_null("(without an id)"),
        format_date_expr(s.TIMESTAMP),
    )
    took = (pl.col("_resolve_ts") - pl.col(s.TIMESTAMP)).dt.total_days()
    elapsed = (pl.lit(as_of) - pl.col(s.TIMESTAMP)).dt.total_days()
    found = open_.with_columns(
        pl.concat_list(s.EVENT_ID, "_resolve_id").list.drop_nulls().alias("evidence"),
        pl.when(pl.col("_resolve_ts").is_null())
        .then(
            pl.format(
                "{} is unresolved after {} days (limit {})",
                raised,
                elapsed,
                pl.lit(days),
            )
        )
        .otherwise(
            pl.format(
                "{} took {} days to resolve (limit {})", raised, took, pl.lit(days)
            )
        )
        .alias("message"),
    )
    return finish_deviations(found, rule="unresolved_conflict")

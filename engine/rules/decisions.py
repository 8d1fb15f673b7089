"""``exclusive_decision``: a decision taken by too few of the active partners.

Seed 003: bilateral deals in the funding/contract arena, partners "played off
against each other" (exclusive strategizing).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from engine import schema as s
from engine.partners import (
    ACTIVE_PARTNER_COUNT,
    count_active_partners,
    explode_partner_organizations,
    filter_active_partners,
    partner_intervals,
)
from engine.rules.deviation import SEQ, finish_deviations, format_date_expr

if TYPE_CHECKING:
    from datetime import datetime

    from engine.rules.thresholds import RuleThresholds

__all__ = ["check_exclusive_decisions"]


def check_exclusive_decisions(
    events: pl.LazyFrame,
    *,
    thresholds: RuleThresholds,
    as_of: datetime,  # noqa: ARG001 - uniform rule signature
    intervals: pl.LazyFrame | None = None,
) -> pl.LazyFrame:
    """Return the ``exclusive_decision`` deviations (docs/rules.md).

    A decision (``agree_objectives``, ``agree_action_plan``, ``sign_agreement``,
    ``negotiate_terms``) fires when the active partners present in a partner
    role number fewer than ``exclusive_share`` x the active partners, and the
    active partners number at least ``exclusive_min_orgs``.

    Parameters
    ----------
    events
        The prepared frame (:func:`engine.rules.prepare_events`).
    thresholds
        Uses ``exclusive_share`` and ``exclusive_min_orgs``.
    as_of, intervals
        ``as_of`` is unused; ``intervals`` is
        :func:`engine.partners.partner_intervals` of ``events``, if already known.
    """
    decisions = events.filter(
        pl.col(s.ACTIVITY).is_in(sorted(s.DECISION_ACTIVITIES))
    ).cache()
    known = intervals if intervals is not None else partner_intervals(events)
    # Counts, not one row per active partner: partnerships may have hundreds.
    # The names of the partners present are listed for firing decisions only.
    present = (
        filter_active_partners(
            known,
            explode_partner_organizations(
                decisions.select(
                    s.PARTNERSHIP_ID,
                    SEQ,
                    s.TIMESTAMP,
                    s.ACTIVITY,
                    s.PARTICIPANTS,
                    s.ORGANIZATION,
                )
            ),
        )
        .select(SEQ, s.ORGANIZATION)
        .cache()
    )
    n_active = pl.col(ACTIVE_PARTNER_COUNT)
    n_taken = pl.col("_n_taken")
    firing = (
        count_active_partners(
            known, decisions.select(SEQ, s.PARTNERSHIP_ID, s.TIMESTAMP)
        )
        .select(SEQ, ACTIVE_PARTNER_COUNT)
        .join(
            present.group_by(SEQ).agg(
                pl.col(s.ORGANIZATION).n_unique().alias("_n_taken")
            ),
            on=SEQ,
            how="left",
        )
        .with_columns(n_taken.fill_null(0))
        .filter(
            (n_active >= thresholds.exclusive_min_orgs)
            & (n_taken < thresholds.exclusive_share * n_active)
        )
        .cache()
    )
    taken = (
        present.join(firing.select(SEQ), on=SEQ, how="semi")
        .group_by(SEQ)
        .agg(pl.col(s.ORGANIZATION).unique().sort().alias("_taken"))
    )
    firing = firing.join(taken, on=SEQ, how="left")
    found = firing.join(
        decisions.select(s.PARTNERSHIP_ID, SEQ, s.EVENT_ID, s.TIMESTAMP, s.ACTIVITY),
        on=SEQ,
    ).select(
        s.PARTNERSHIP_ID,
        pl.col(s.TIMESTAMP).alias("time"),
        pl.concat_list(s.EVENT_ID).alias("evidence"),
        pl.format(
            "Decision {} on {} was taken by {} of {} active partners ({})",
            s.ACTIVITY,
            format_date_expr(s.TIMESTAMP),
            n_taken,
            n_active,
            pl.when(n_taken > 0)
            .then(pl.col("_taken").list.join(", "))
            .otherwise(pl.lit("none present")),
        ).alias("message"),
    )
    return finish_deviations(found, rule="exclusive_decision")

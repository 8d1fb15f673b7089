"""``commitment_loss``: partners leaving, or participation collapsing.

Seed 003: commitment *reduction* (vs generation) drives strategic disorder.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import polars as pl

from engine import schema as s
from engine.partners import own_appearance_is_partner, partner_intervals
from engine.rules.deviation import RUN, SEQ, finish_deviations, format_date_expr

if TYPE_CHECKING:
    from datetime import datetime

    from engine.rules.thresholds import RuleThresholds

__all__ = ["check_commitment_loss"]

_MAX_EVIDENCE = 20
_WINDOW = "_window"
_PID = "_pid"
_KEY = "_key"
# (partnership code, window) packed into one integer: grouping on one UInt64
# is several times faster than on a (partnership, window) pair.
_SHIFT = 2**32


def _net_departures(events: pl.LazyFrame) -> pl.LazyFrame:
    """Return the first ``member_left`` after which more have left than joined."""
    is_left = pl.col(s.ACTIVITY) == "member_left"
    running = (
        pl.when(is_left)
        .then(1)
        .otherwise(-1)
        .cum_sum()
        .over(s.PARTNERSHIP_ID, order_by=SEQ)
    )
    first_net = (
        pl.col(SEQ).filter(is_left & (pl.col("_net") > 0)).min().over(s.PARTNERSHIP_ID)
    )
    return (
        events.filter(pl.col(s.ACTIVITY).is_in(["member_joined", "member_left"]))
        .with_columns(running.alias("_net"))
        .with_columns(first_net.alias("_fire"))
        .filter(is_left & (pl.col(SEQ) <= pl.col("_fire")))
        .group_by(s.PARTNERSHIP_ID)
        .agg(
            pl.col(s.EVENT_ID).sort_by(SEQ).alias("evidence"),
            pl.col(s.TIMESTAMP, s.ORGANIZATION).sort_by(SEQ).last(),
            pl.len().alias("_left"),
            pl.col("_net").sort_by(SEQ).last(),
        )
        .select(
            s.PARTNERSHIP_ID,
            pl.col(s.TIMESTAMP).alias("time"),
            "evidence",
            pl.format(
                "{} left on {}: {} members have left and only {} joined",
                pl.col(s.ORGANIZATION).fill_null("A member"),
                format_date_expr(s.TIMESTAMP),
                "_left",
                pl.col("_left") - pl.col("_net"),
            ).alias("message"),
        )
    )


def _partnership_code() -> pl.Expr:
    """Return an integer code per partnership (its categorical physical code)."""
    pid = pl.col(s.PARTNERSHIP_ID).cast(pl.Categorical)
    return pid.to_physical().cast(pl.UInt64).alias(_PID)


def _with_window_keys(
    events: pl.LazyFrame, *, window_us: int, by_run: bool
) -> pl.LazyFrame:
    """Return ``events`` with partnership codes and (partnership, window) keys.

    An event's window is its 0-based tumbling window from the partnership's
    first event; the key packs (partnership code, window) into one integer.
    ``by_run``: the log is grouped by partnership in time order (it has
    :data:`engine.rules.deviation.RUN`), so partnerships are coded by run and
    the keys ascend, flagged sorted.
    """
    since = pl.col(s.TIMESTAMP) - pl.col(s.TIMESTAMP).min().over(_PID)
    window = (since.dt.total_microseconds() // window_us).cast(pl.UInt64)
    key = pl.col(_PID) * _SHIFT + window
    if by_run:
        coded = events.with_columns(pl.col(RUN).alias(_PID).set_sorted())
        return coded.with_columns(key.set_sorted().alias(_KEY))
    return events.with_columns(_partnership_code()).with_columns(key.alias(_KEY))


def _partnership_spans(keyed: pl.LazyFrame) -> pl.LazyFrame:
    """Return each partnership code's id and first and last event times."""
    return keyed.group_by(_PID).agg(
        pl.col(s.PARTNERSHIP_ID).first(),
        pl.col(s.TIMESTAMP).min().alias("_first"),
        pl.col(s.TIMESTAMP).max().alias("_last"),
    )


def _all_windows(
    spans: pl.LazyFrame, *, window: timedelta, as_of: datetime
) -> pl.LazyFrame:
    """Return every complete window starting at or before the partnership's last event."""
    window_us = window // timedelta(microseconds=1)
    span = (pl.col("_last") - pl.col("_first")).dt.total_microseconds()
    return (
        spans.with_columns(pl.int_ranges(0, span // window_us + 1).alias(_WINDOW))
        .explode(_WINDOW)
        .with_columns(
            (
                pl.col("_first") + pl.duration(microseconds=pl.col(_WINDOW) * window_us)
            ).alias("time"),
            (pl.col(_PID) * _SHIFT + pl.col(_WINDOW).cast(pl.UInt64)).alias(_KEY),
        )
        .filter(pl.col("time") + window <= as_of)
        .select(s.PARTNERSHIP_ID, _PID, _KEY, "time")
    )


def _partner_actor_counts(
    keyed: pl.LazyFrame,
    intervals: pl.LazyFrame,
    *,
    names: pl.LazyFrame,
    sorted_keys: bool,
) -> pl.LazyFrame:
    """Return the distinct actors of partner organizations per window key.

    The appearances of :func:`engine.partners.explode_appearances`, specialized:
    every participant of every event passes through here, so only the integer
    window key travels with the exploded participants, and the partner-role
    actors are not filtered but nulled (filtering copies every row; the
    count skips nulls). ``names`` maps partnership codes to ids. With
    ``sorted_keys`` (keys coded by run), the parts are merged in key order and
    every window's rows form one slice.
    """
    field = pl.col(s.PARTICIPANTS).struct.field
    listed = keyed.select(_KEY, s.PARTICIPANTS).explode(
        s.PARTICIPANTS  # empty lists vanish: they are `own` below
    )  # not cached: streamed twice costs less than holding every participant
    named = field("organization").is_not_null() & field("actor").is_not_null()
    # A null role is neither: such participants are not counted.
    third_party = field("role").is_in(sorted(s.THIRD_PARTY_ROLES))
    own = keyed.filter(
        (pl.col(s.PARTICIPANTS).list.len().fill_null(0) == 0)
        & pl.col(s.ORGANIZATION).is_not_null()
        & pl.col(s.ACTOR).is_not_null()
    )
    partner_role = own_appearance_is_partner()
    # A partner-role actor's organization is a partner by definition; only the
    # (rare) third-party-role actors need their organization looked up.
    key = [s.PARTNERSHIP_ID, s.ORGANIZATION]
    partners = intervals.select(
        pl.col(s.PARTNERSHIP_ID).cast(pl.String), pl.col(s.ORGANIZATION).cast(pl.String)
    ).unique()
    # A recorded mediation shows its recorder as mediator: counted like a
    # listed mediator, when its organization is a partner.
    third = (
        pl.concat(
            [
                listed.filter(named & third_party).select(
                    _KEY,
                    field("organization").alias(s.ORGANIZATION),
                    field("actor").alias(s.ACTOR),
                ),
                own.filter(partner_role.not_()).select(_KEY, s.ORGANIZATION, s.ACTOR),
            ]
        )
        .with_columns((pl.col(_KEY) // _SHIFT).alias(_PID))
        .join(names.select(_PID, pl.col(s.PARTNERSHIP_ID).cast(pl.String)), on=_PID)
        .join(partners, on=key, how="semi")
        .select(_KEY, s.ACTOR)
    )
    partner_actors = listed.select(
        _KEY, pl.when(named & third_party.not_()).then(field("actor")).alias(s.ACTOR)
    )
    own_actors = own.filter(partner_role).select(_KEY, s.ACTOR)
    if sorted_keys:
        counted = (
            partner_actors.merge_sorted(own_actors, key=_KEY)
            .merge_sorted(third.sort(_KEY), key=_KEY)
            .set_sorted(_KEY)
        )
    else:
        counted = pl.concat([partner_actors, own_actors, third])
    actor = pl.col(s.ACTOR)
    if not sorted_keys:
        # Hashed groups: counting distinct categorical codes (one-to-one with
        # the names) takes half the time of hashing the names in every group.
        # Sorted slices gain nothing from it (10% slower with the cast).
        actor = actor.cast(pl.Categorical).to_physical()
    return counted.group_by(_KEY).agg(actor.drop_nulls().n_unique().alias("_actors"))


def _participation_drops(
    events: pl.LazyFrame,
    *,
    thresholds: RuleThresholds,
    as_of: datetime,
    intervals: pl.LazyFrame,
) -> pl.LazyFrame:
    """Return windows whose partner actors fell too far below the previous window's."""
    window = timedelta(days=thresholds.commitment_window_days)
    by_run = RUN in events.collect_schema().names()
    keyed = _with_window_keys(
        events, window_us=window // timedelta(microseconds=1), by_run=by_run
    ).cache()
    # Read twice: the window grid, and the ids of third-party appearances.
    spans = _partnership_spans(keyed).cache()
    # Sorted by key: a global shift masked at partnership edges.
    same_partnership = pl.col(_PID) == pl.col(_PID).shift(1)
    previous = pl.when(same_partnership).then(pl.col("_actors").shift(1))
    # A window with no recorded event has nothing to measure (DOMAIN.md: null,
    # never 0): it is skipped, and the next window is compared with the last one
    # that held events. Sparse logs have quiet quarters that are not a collapse.
    recorded = keyed.select(_KEY).unique()
    drops = (
        _all_windows(spans, window=window, as_of=as_of)
        .join(recorded, on=_KEY, how="semi")
        .join(
            _partner_actor_counts(keyed, intervals, names=spans, sorted_keys=by_run),
            on=_KEY,
            how="left",
        )
        .with_columns(pl.col("_actors").fill_null(0).cast(pl.Int64))
        .sort(_KEY)
        .with_columns(previous.alias("_previous"))
        .filter(
            (pl.col("_previous") >= thresholds.commitment_min_actors)
            # "Falling by 30%": a fall of at least that share (10 -> 7 fires);
            # the tolerance keeps 0.3 x 10 from missing by a rounding error.
            & (
                pl.col("_previous") - pl.col("_actors")
                >= thresholds.commitment_drop * pl.col("_previous") - 1e-9
            )
        )
        .cache()
    )
    evidence = (
        keyed.select(_KEY, SEQ, s.EVENT_ID)
        .join(drops.select(_KEY), on=_KEY, how="semi")
        .group_by(_KEY)
        .agg(pl.col(s.EVENT_ID).sort_by(SEQ).head(_MAX_EVIDENCE).alias("evidence"))
    )
    return (
        drops.join(evidence, on=_KEY, how="left")
        .sort(s.PARTNERSHIP_ID, "time")
        .select(
            s.PARTNERSHIP_ID,
            "time",
            pl.col("evidence").fill_null(pl.lit([], pl.List(pl.String))),
            pl.format(
                "Active participants fell from {} to {} in the {} days from {}",
                "_previous",
                "_actors",
                pl.lit(thresholds.commitment_window_days),
                format_date_expr("time"),
            ).alias("message"),
        )
    )


def check_commitment_loss(
    events: pl.LazyFrame,
    *,
    thresholds: RuleThresholds,
    as_of: datetime,
    intervals: pl.LazyFrame | None = None,
) -> pl.LazyFrame:
    """Return the ``commitment_loss`` deviations (docs/rules.md).

    (a) Once per partnership, at the first ``member_left`` after which more
    members have left than joined. (b) Per tumbling window of
    ``commitment_window_days`` from the partnership's first event (complete by
    ``as_of``, starting at or before its last event, holding at least one event):
    the distinct participant actors of partner organizations fall by at least
    ``commitment_drop`` from those of the previous window that held events,
    which had at least ``commitment_min_actors``.

    Parameters
    ----------
    events
        The prepared frame (:func:`engine.rules.prepare_events`).
    thresholds
        Uses ``commitment_window_days``, ``commitment_drop``,
        ``commitment_min_actors``.
    as_of
        The end of observation.
    intervals
        :func:`engine.partners.partner_intervals` of ``events``, if already known
        (its rows list the partner organizations).
    """
    found = pl.concat(
        [
            _net_departures(events),
            _participation_drops(
                events,
                thresholds=thresholds,
                as_of=as_of,
                intervals=intervals
                if intervals is not None
                else partner_intervals(events),
            ),
        ]
    )
    return finish_deviations(found, rule="commitment_loss")

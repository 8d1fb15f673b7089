"""The indicator kernels: prepared events of whole partnerships -> rows per window key.

Each ``compute_*`` function is a pure function from the prepared events
(:func:`engine.indicator_frames.prepare_indicator_events`, keyed and with
window ranges) to one row per window key ``_wkey`` (partnership, group,
window), so that it can run per partition on a distributed engine;
:func:`engine.indicators.compute_indicators` joins them onto the window grid.
The definitions are in :mod:`engine.indicators`' docstring (DOMAIN.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from engine import schema as s
from engine.attributes import attribute_expr, objective_ids_expr
from engine.indicator_frames import (
    EVENT_KEY,
    GROUP,
    PARTNER_ORGS,
    WINDOW_KEY,
    assign_event_windows,
    base_columns,
    explode_event_list,
    find_partner_intervals,
    top_manager_orgs_expr,
    window_key_expr,
    window_range_columns,
)
from engine.membership import count_active_partners_at
from engine.participation import (
    compute_participation_equality,
    count_window_actors,
)
from engine.partners import filter_active_partners
from engine.windows import (
    WINDOW_END,
    WINDOW_INDEX,
    WINDOW_START,
    build_window_grid,
)

if TYPE_CHECKING:
    from engine.windows import WindowSpec

__all__ = [
    "build_group_grid",
    "commitment_expr",
    "compute_commitment",
    "compute_conflict_mitigation",
    "compute_idea_to_action_days",
    "compute_inclusiveness",
    "compute_objective_convergence",
    "compute_top_manager_feedback",
    "compute_transparency",
    "window_kernels",
]

_DAY_US = 86_400_000_000


def _group_partner_counts(events: pl.LazyFrame, *, windows: WindowSpec) -> pl.LazyFrame:
    """Partner orgs of each (partnership, group, window): the grouped denominator."""
    return (
        assign_event_windows(
            explode_event_list(events, PARTNER_ORGS, s.ORGANIZATION),
            events=events,
            windows=windows,
        )
        .group_by(window_key_expr())
        .agg(pl.col(s.ORGANIZATION).n_unique().alias("_partners"))
    )


def _share_of_partners(
    events: pl.LazyFrame,
    per_event: pl.LazyFrame,
    *,
    windows: WindowSpec,
    grouped: bool,
    intervals: pl.LazyFrame | None,
) -> pl.LazyFrame:
    """Add ``_partners`` (the denominator) to windowed per-event rows."""
    if grouped:
        counts = _group_partner_counts(events, windows=windows)
        return (
            assign_event_windows(per_event, events=events, windows=windows)
            .with_columns(window_key_expr())
            .join(counts, on=WINDOW_KEY, how="left")
        )
    with_count = count_active_partners_at(
        find_partner_intervals(events, intervals), per_event
    )
    return assign_event_windows(with_count, events=events, windows=windows)


def compute_inclusiveness(
    events: pl.LazyFrame,
    *,
    windows: WindowSpec,
    grouped: bool,
    intervals: pl.LazyFrame | None = None,
) -> pl.LazyFrame:
    """Return ``inclusiveness`` per window key (mean over decision events).

    A decision's share is distinct partner orgs present / max(active partner
    orgs, present), so an organization that decides after leaving cannot push
    it above 1.
    """
    decisions = events.filter(pl.col(s.ACTIVITY).is_in(sorted(s.DECISION_ACTIVITIES)))
    per_event = decisions.select(
        EVENT_KEY,
        s.PARTNERSHIP_ID,
        GROUP,
        s.TIMESTAMP,
        *base_columns(events),
        *window_range_columns(events),
        pl.col(PARTNER_ORGS).list.len().cast(pl.Int64).alias("_present"),
    )
    rows = _share_of_partners(
        events, per_event, windows=windows, grouped=grouped, intervals=intervals
    )
    denominator = pl.max_horizontal(
        pl.col("_partners").fill_null(0), pl.col("_present")
    )
    share = pl.when(denominator > 0).then(pl.col("_present") / denominator)
    return rows.group_by(window_key_expr()).agg(share.mean().alias("inclusiveness"))


def compute_transparency(events: pl.LazyFrame, *, windows: WindowSpec) -> pl.LazyFrame:
    """Return ``transparency``: the mean of the measured audience and visibility shares."""
    audience = attribute_expr("audience")
    visibility = attribute_expr("visibility")
    measured = ["share_information", "propose_objective"]
    # Only these two activities are measured: parse the JSON of no other event.
    parts = events.filter(pl.col(s.ACTIVITY).is_in(measured)).select(
        EVENT_KEY,
        s.PARTNERSHIP_ID,
        GROUP,
        s.TIMESTAMP,
        *base_columns(events),
        *window_range_columns(events),
        # Every measured event counts: one without the attribute was not
        # sent to all, nor proposed as shared (DOMAIN.md: "share of
        # share_information events with audience all").
        pl.when(pl.col(s.ACTIVITY) == "share_information")
        .then((audience == "all").fill_null(value=False))
        .alias("_open"),
        pl.when(pl.col(s.ACTIVITY) == "propose_objective")
        .then((visibility == "shared").fill_null(value=False))
        .alias("_shared"),
    )
    return (
        assign_event_windows(parts, events=events, windows=windows)
        .group_by(window_key_expr())
        .agg(pl.col("_open").mean(), pl.col("_shared").mean())
        .select(
            WINDOW_KEY, pl.mean_horizontal("_open", "_shared").alias("transparency")
        )
    )


def _resolved_share(
    opened: pl.LazyFrame,
    closed: pl.LazyFrame,
    *,
    events: pl.LazyFrame,
    windows: WindowSpec,
    name: str,
) -> pl.LazyFrame:
    """Share of items opened in a window that are closed before the window's end."""
    first_close = closed.group_by(s.PARTNERSHIP_ID, "_item").agg(
        pl.col(s.TIMESTAMP).min().alias("_closed")
    )
    ends = build_window_grid(events, windows=windows).select(
        s.PARTNERSHIP_ID, WINDOW_INDEX, WINDOW_END
    )
    rows = (
        assign_event_windows(opened, events=events, windows=windows)
        .join(ends, on=[s.PARTNERSHIP_ID, WINDOW_INDEX])
        .join(first_close, on=[s.PARTNERSHIP_ID, "_item"], how="left")
    )
    done = pl.col("_item").filter(pl.col("_closed") < pl.col(WINDOW_END))
    return rows.group_by(window_key_expr()).agg(
        (done.n_unique() / pl.col("_item").n_unique()).alias(name)
    )


def compute_conflict_mitigation(
    events: pl.LazyFrame, *, windows: WindowSpec
) -> pl.LazyFrame:
    """Return ``conflict_mitigation`` for windows where a conflict was raised.

    Windows with events but no conflict get 1 in :func:`compute_indicators`.
    A raise without ``conflict_id`` is its own conflict (it can never be resolved).
    """
    item = pl.coalesce(attribute_expr("conflict_id"), pl.col(EVENT_KEY).cast(pl.String))
    cols = [
        EVENT_KEY,
        s.PARTNERSHIP_ID,
        GROUP,
        s.TIMESTAMP,
        *base_columns(events),
        *window_range_columns(events),
        item.alias("_item"),
    ]
    raised = events.filter(pl.col(s.ACTIVITY) == "raise_conflict").select(cols)
    resolved = events.filter(pl.col(s.ACTIVITY) == "resolve_conflict").select(cols)
    return _resolved_share(
        raised, resolved, events=events, windows=windows, name="conflict_mitigation"
    )


def compute_objective_convergence(
    events: pl.LazyFrame, *, windows: WindowSpec
) -> pl.LazyFrame:
    """Return ``objective_convergence``: proposed objectives agreed by the window's end."""

    def objectives(activity: str) -> pl.LazyFrame:
        ids = objective_ids_expr()
        own = pl.concat_list(pl.col(EVENT_KEY).cast(pl.String))
        return (
            events.filter(pl.col(s.ACTIVITY) == activity)
            .select(
                EVENT_KEY,
                s.PARTNERSHIP_ID,
                GROUP,
                s.TIMESTAMP,
                *base_columns(events),
                *window_range_columns(events),
                pl.when(ids.list.len() > 0).then(ids).otherwise(own).alias("_item"),
            )
            .explode("_item")
        )

    return _resolved_share(
        objectives("propose_objective"),
        objectives("agree_objectives"),
        events=events,
        windows=windows,
        name="objective_convergence",
    )


def compute_idea_to_action_days(
    events: pl.LazyFrame, *, windows: WindowSpec
) -> pl.LazyFrame:
    """Return ``idea_to_action_days``: median plan-to-start days of the window's starts."""
    idea = attribute_expr("idea_id")
    plans = (
        events.filter((pl.col(s.ACTIVITY) == "agree_action_plan") & idea.is_not_null())
        .group_by(s.PARTNERSHIP_ID, idea)
        .agg(pl.col(s.TIMESTAMP).min().alias("_plan"))
    )
    starts = (
        events.filter(pl.col(s.ACTIVITY) == "start_action")
        .with_columns(idea)
        .join(plans, on=[s.PARTNERSHIP_ID, "idea_id"])
        .filter(pl.col(s.TIMESTAMP) >= pl.col("_plan"))
        .sort(s.TIMESTAMP, s.VERSION)
        .unique([s.PARTNERSHIP_ID, "idea_id"], keep="first", maintain_order=True)
        .select(
            EVENT_KEY,
            s.PARTNERSHIP_ID,
            GROUP,
            s.TIMESTAMP,
            *base_columns(events),
            *window_range_columns(events),
            (
                (pl.col(s.TIMESTAMP) - pl.col("_plan")).dt.total_microseconds()
                / _DAY_US
            ).alias("_days"),
        )
    )
    return (
        assign_event_windows(starts, events=events, windows=windows)
        .group_by(window_key_expr())
        .agg(pl.col("_days").median().alias("idea_to_action_days"))
    )


def compute_top_manager_feedback(
    events: pl.LazyFrame,
    *,
    windows: WindowSpec,
    grouped: bool,
    intervals: pl.LazyFrame | None = None,
) -> pl.LazyFrame:
    """Return ``top_manager_feedback``: share of meetings with a top manager of every partner."""
    meetings = events.filter(pl.col(s.ACTIVITY) == "feedback_meeting")
    columns = [
        EVENT_KEY,
        s.PARTNERSHIP_ID,
        GROUP,
        s.TIMESTAMP,
        *base_columns(events),
        *window_range_columns(events),
    ]
    if grouped:  # the group-window's partners are those taking part
        present = top_manager_orgs_expr().list.len().cast(pl.Int64)
        per_event = meetings.select(*columns, present.alias("_present"))
    else:
        # The top managers must come from the partners active at the meeting:
        # one of an organization that has left does not stand in for another.
        per_event = _count_active_top_managers(
            meetings,
            meetings.select(columns),
            find_partner_intervals(events, intervals),
        )
    rows = _share_of_partners(
        events, per_event, windows=windows, grouped=grouped, intervals=intervals
    )
    attended = (pl.col("_present") >= pl.col("_partners").fill_null(0)) & (
        pl.col("_present") > 0
    )
    return rows.group_by(window_key_expr()).agg(
        attended.mean().alias("top_manager_feedback")
    )


def _count_active_top_managers(
    meetings: pl.LazyFrame, per_event: pl.LazyFrame, intervals: pl.LazyFrame
) -> pl.LazyFrame:
    """Add ``_present``: organizations with a top manager that are active partners."""
    tops = (
        meetings.select(
            EVENT_KEY,
            s.PARTNERSHIP_ID,
            s.TIMESTAMP,
            top_manager_orgs_expr().alias(s.ORGANIZATION),
        )
        .explode(s.ORGANIZATION)
        .drop_nulls(s.ORGANIZATION)
    )
    named = intervals.with_columns(pl.col(s.ORGANIZATION).cast(pl.String))
    present = (
        filter_active_partners(named, tops)
        .group_by(EVENT_KEY)
        .agg(pl.col(s.ORGANIZATION).n_unique().cast(pl.Int64).alias("_present"))
    )
    return per_event.join(present, on=EVENT_KEY, how="left").with_columns(
        pl.col("_present").fill_null(0)
    )


def compute_commitment(events: pl.LazyFrame, *, windows: WindowSpec) -> pl.LazyFrame:
    """Return the distinct partner actors per window key (``_actors``).

    :func:`compute_indicators` turns them into ``commitment`` on the full grid,
    so that a window where nobody took part still compares with the previous one.
    """
    keys = build_group_grid(events, windows=windows).select(
        s.PARTNERSHIP_ID, GROUP, *base_columns(events), WINDOW_INDEX
    )
    return count_window_actors(events, windows=windows, keys=keys)


def build_group_grid(events: pl.LazyFrame, *, windows: WindowSpec) -> pl.LazyFrame:
    """Every window of every (partnership, group), within the group's own span.

    With their window key (:func:`engine.indicator_frames.window_key_expr`)
    when the events carry ``_base``.
    """
    # A group code names one group of one partnership.
    spans = events.group_by(GROUP).agg(
        pl.col(s.PARTNERSHIP_ID).first(),
        *(pl.col(c).first() for c in base_columns(events)),
        pl.col(s.TIMESTAMP).min().alias("_g_first"),
        pl.col(s.TIMESTAMP).max().alias("_g_last"),
    )
    inside = (pl.col(WINDOW_START) <= pl.col("_g_last")) & (
        pl.col(WINDOW_END) > pl.col("_g_first")
    )
    grid = (
        build_window_grid(events, windows=windows)
        .join(spans, on=s.PARTNERSHIP_ID)
        .filter(inside)
        .drop("_g_first", "_g_last")
    )
    if base_columns(events):
        return grid.with_columns(window_key_expr())
    return grid


def commitment_expr(has_events: pl.Expr) -> pl.Expr:
    """Return ``commitment`` on the window grid from ``_actors`` (rows in key order).

    ``has_events`` tells the windows that hold events.
    """
    # A window with no event has nothing to measure (DOMAIN.md: null, never 0);
    # the next window compares with the last one that held events, so a quiet
    # quarter in a sparse log neither scores 0 nor hides a later drop.
    # Rows are in window-key order (group, then window index): the last
    # earlier value is a global forward fill, kept only where the row it came
    # from is of the same group (no window function per group).
    this = pl.when(has_events).then(pl.col("_actors").fill_null(0))
    source = pl.when(has_events).then(pl.col(GROUP)).shift(1).forward_fill()
    previous = (
        pl.when(source == pl.col(GROUP)).then(this.shift(1).forward_fill()).fill_null(0)
    )
    most = pl.max_horizontal(this, previous)
    return pl.when(has_events & (most > 0)).then(this / most).alias("commitment")


def _count_events(events: pl.LazyFrame, *, windows: WindowSpec) -> pl.LazyFrame:
    """Return the number of events (``_events``) per window key."""
    rows = events.select(
        EVENT_KEY,
        s.PARTNERSHIP_ID,
        GROUP,
        *base_columns(events),
        *window_range_columns(events),
    )
    return (
        assign_event_windows(rows, events=events, windows=windows)
        .group_by(window_key_expr())
        .agg(pl.len().alias("_events"))
    )


def window_kernels(
    events: pl.LazyFrame,
    *,
    windows: WindowSpec,
    grouped: bool,
    intervals: pl.LazyFrame,
) -> list[pl.LazyFrame]:
    """Return the lazy kernels that key one row per window key (``_wkey``).

    ``commitment`` is not among them: it needs the whole grid
    (:func:`compute_commitment`, then :func:`commitment_expr`).
    """
    return [
        _count_events(events, windows=windows),
        compute_inclusiveness(
            events, windows=windows, grouped=grouped, intervals=intervals
        ),
        compute_participation_equality(
            events, windows=windows, grouped=grouped, intervals=intervals
        ),
        compute_transparency(events, windows=windows),
        compute_conflict_mitigation(events, windows=windows),
        compute_objective_convergence(events, windows=windows),
        compute_idea_to_action_days(events, windows=windows),
        compute_top_manager_feedback(
            events, windows=windows, grouped=grouped, intervals=intervals
        ),
    ]

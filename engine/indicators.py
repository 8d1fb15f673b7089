"""Rolling alignment indicators per partnership, per window (DOMAIN.md).

Every kernel is a pure function from the prepared events of whole partnerships
(:func:`prepare_indicator_events`) to one row per window key ``(partnership,
group, window_index)``, so that it can run per partition on a distributed
engine; :func:`compute_indicators` joins them onto the window grid and is the
one documented boundary that collects.

Definitions (null when the window holds nothing to measure; nulls never count
as 0):

* ``inclusiveness``: mean over decision events of distinct partner orgs present
  (in a partner role) / active partner orgs (at the decision's time; when
  grouped, the partner orgs of that group in that window);
* ``participation_equality``: 1 - Gini of the number of events each active
  partner org took part in (active orgs that took part in none count as 0);
* ``transparency``: mean of the available parts: share of ``share_information``
  with audience ``all``, share of ``propose_objective`` with visibility
  ``shared`` (an event without the attribute counts as neither);
* ``conflict_mitigation``: conflicts raised in the window that are resolved by
  its end / conflicts raised in it; 1 when none raised (null for an empty window);
* ``commitment``: distinct actors of partner orgs this window / max(this,
  previous window);
* ``objective_convergence``: objectives proposed in the window that are agreed by
  its end / objectives proposed in it;
* ``idea_to_action_days``: median days from an idea's first ``agree_action_plan``
  to its first later ``start_action``, over the starts in the window;
* ``top_manager_feedback``: share of feedback meetings where every active partner
  org has a participant with role ``top_manager`` (only top managers of partners
  active at the meeting count).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import polars as pl

from engine import schema as s
from engine.alignment import (
    IndicatorConfig,
    alignment_score_expr,
    mode_expr,
    status_expr,
)
from engine.attributes import attribute_expr, objective_ids_expr
from engine.errors import ConfigError
from engine.indicator_frames import (
    EVENT_KEY,
    GROUP,
    GROUP_NAME,
    PARTNER_ORGS,
    PARTNERSHIP_NAME,
    WINDOW_BASE,
    WINDOW_KEY,
    WINDOW_RANGE,
    add_window_base,
    add_window_ranges,
    assign_event_windows,
    base_columns,
    encode_window_keys,
    explode_event_list,
    find_partner_intervals,
    prepare_indicator_events,
    select_membership_columns,
    top_manager_orgs_expr,
    window_key_expr,
    window_radix,
    window_range_columns,
)
from engine.membership import count_active_partners_at
from engine.participation import (
    compute_participation_equality,
    count_window_actors,
)
from engine.partners import filter_active_partners, partner_intervals
from engine.windows import (
    COMPLETE,
    FIRST_WINDOW,
    PERIOD,
    WINDOW_END,
    WINDOW_INDEX,
    WINDOW_START,
    RollingWindows,
    build_window_grid,
)

if TYPE_CHECKING:
    from engine.windows import WindowSpec

__all__ = [
    "INDICATORS",
    "compute_commitment",
    "compute_conflict_mitigation",
    "compute_idea_to_action_days",
    "compute_inclusiveness",
    "compute_indicators",
    "compute_objective_convergence",
    "compute_top_manager_feedback",
    "compute_transparency",
    "count_partitions",
]

INDICATORS = (
    "inclusiveness",
    "participation_equality",
    "transparency",
    "conflict_mitigation",
    "commitment",
    "objective_convergence",
    "idea_to_action_days",
    "top_manager_feedback",
)
_DAY_US = 86_400_000_000
# Events per hash partition of a large log (see count_partitions): at 7.5M
# events (100k partnerships) 7 partitions peak at about 5.5 GiB.
EVENTS_PER_PARTITION = 1_000_000
# Below this many events polars' in-memory engine computes the indicators in
# about half the time of the streaming engine (whose per-query start-up costs
# dominate small frames, e.g. a watch step); above it the streaming engine
# keeps memory lower for the same time. Both give the same bits.
IN_MEMORY_EVENTS = 250_000


def count_partitions(events: int) -> int:
    """Return the partitions to compute ``events`` events in: one per million.

    Partitions bound the peak memory of :func:`compute_indicators` on large
    logs and give the same result; below a million events there is one.

    Examples
    --------
    >>> count_partitions(250_000), count_partitions(7_500_000)
    (1, 7)
    """
    return max(1, events // EVENTS_PER_PARTITION)


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
    keys = _build_group_grid(events, windows=windows).select(
        s.PARTNERSHIP_ID, GROUP, *base_columns(events), WINDOW_INDEX
    )
    return count_window_actors(events, windows=windows, keys=keys)


def _build_group_grid(events: pl.LazyFrame, *, windows: WindowSpec) -> pl.LazyFrame:
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


def _commitment_expr(has_events: pl.Expr) -> pl.Expr:
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


def _collect_kernels(
    events: pl.LazyFrame,
    *,
    windows: WindowSpec,
    grouped: bool,
    intervals: pl.LazyFrame,
) -> list[pl.LazyFrame]:
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


def _check_window_keys(events: pl.DataFrame, *, windows: WindowSpec) -> None:
    """Raise ConfigError when window keys would not fit 32 bits (packed with more)."""
    top = events.select(pl.col(WINDOW_BASE).max() + window_radix(windows)).item()
    if top is not None and top >= 2**32:
        msg = (
            f"{events[GROUP].n_unique()} partnership groups x windows exceed 2**32 "
            "window keys: compute in more partitions or with a longer step"
        )
        raise ConfigError(msg)


def _start_windows_at(
    events: pl.LazyFrame, first_windows: pl.DataFrame
) -> pl.LazyFrame:
    """Add ``_first_window`` per partnership and start each event's windows there.

    The window grid (:func:`engine.windows.build_window_grid`) then starts at
    it too, and every kernel sees the same rows from that window on, none
    before.
    """
    first = (
        first_windows.lazy()
        .group_by(pl.col(s.PARTNERSHIP_ID).alias(PARTNERSHIP_NAME))
        .agg(pl.col(WINDOW_INDEX).min().cast(pl.Int64).alias(FIRST_WINDOW))
    )
    lo = WINDOW_RANGE[0]
    return (
        events.join(first, on=PARTNERSHIP_NAME, how="left", maintain_order="left")
        .with_columns(pl.col(FIRST_WINDOW).fill_null(0).clip(lower_bound=0))
        .with_columns(pl.max_horizontal(lo, FIRST_WINDOW).alias(lo))
    )


def _compute_in_partitions(
    frame: pl.LazyFrame | pl.DataFrame,
    *,
    windows: WindowSpec,
    by: str | None,
    config: IndicatorConfig,
    partitions: int,
    first_windows: pl.DataFrame | None,
) -> pl.DataFrame:
    """Compute ranges of partnerships one at a time; concatenated, they are sorted.

    Partnership ids are split into ``partitions`` ranges of their sorted
    values (:func:`_partnership_buckets`), so each part's sorted output
    follows the previous one's and the whole needs no final sort of millions
    of rows by name.
    """
    ids = frame.lazy().select(pl.col(s.PARTNERSHIP_ID).unique()).collect()
    buckets = _partnership_buckets(ids.to_series(), partitions)

    def part(i: int) -> pl.DataFrame | pl.LazyFrame:
        if of_event is not None:
            return frame.filter(of_event == i)
        listed = buckets.filter(pl.col("_bucket") == i)[s.PARTNERSHIP_ID]
        return frame.filter(pl.col(s.PARTNERSHIP_ID).is_in(listed.implode()))

    # A frame in memory: one bucket per event, and each part filtered only
    # when computed (never all parts at once).
    of_event = (
        frame.select(s.PARTNERSHIP_ID).join(
            buckets, on=s.PARTNERSHIP_ID, how="left", maintain_order="left"
        )["_bucket"]
        if isinstance(frame, pl.DataFrame)
        else None
    )
    return pl.concat(
        [
            compute_indicators(
                part(i),
                windows=windows,
                by=by,
                config=config,
                first_windows=first_windows,
            )
            for i in range(partitions)
        ]
    )


def _partnership_buckets(ids: pl.Series, partitions: int) -> pl.DataFrame:
    """Return ``case:concept:name, _bucket``: ``partitions`` ranges of sorted ids.

    Ranked on the distinct ids (a rank of the event column would sort
    millions of strings).

    Examples
    --------
    >>> _partnership_buckets(pl.Series(["c", "a", "d", "b"]), 2)["_bucket"].to_list()
    [0, 0, 1, 1]
    """
    return (
        ids.unique()
        .sort()
        .to_frame(s.PARTNERSHIP_ID)
        .with_columns(
            (pl.int_range(pl.len(), dtype=pl.Int64) * partitions // pl.len()).alias(
                "_bucket"
            )
        )
    )


def compute_indicators(
    frame: pl.LazyFrame | pl.DataFrame,
    *,
    windows: WindowSpec,
    by: str | None = None,
    config: IndicatorConfig | None = None,
    partitions: int = 1,
    first_windows: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Return every indicator, the score, mode and status per partnership and window.

    This is the documented boundary where the lazy query is collected. With
    ``partitions`` > 1 the partnerships are split into ranges of their ids and
    each part is computed alone (the kernels only ever look at whole
    partnerships), which bounds peak memory on large logs; the result is the
    same.

    Parameters
    ----------
    frame
        Event (or input) frame of whole partnerships; ``alert_raised`` events are
        ignored.
    windows
        Rolling windows, named periods or lifecycle stages.
    by
        Group by this column or attribute key (e.g. ``workstream``); the active
        partner orgs of a group are then those of that group in that window.
    config
        Weights and thresholds (defaults: :class:`engine.alignment.IndicatorConfig`).
    partitions
        Compute the partnerships in this many hash partitions, one at a time.
    first_windows
        Rolling windows only: ``case:concept:name, window_index``, the first
        window to compute of each partnership listed (the others: all). The
        rows returned are those of the whole computation from that window on
        (an earlier window is neither computed nor returned), except that
        ``commitment`` (and the score and status) of a window compares only
        with computed windows: those up to the first one with events compare
        with nothing earlier.

    Returns
    -------
    pl.DataFrame
        ``partnership_id, period, <by or workstream>, window_start, window_end,
        <indicators>, alignment_score, mode, status, window_index, complete``,
        sorted by partnership, group and window.
    """
    config = config or IndicatorConfig()
    if partitions > 1:
        return _compute_in_partitions(
            frame,
            windows=windows,
            by=by,
            config=config,
            partitions=partitions,
            first_windows=first_windows,
        )
    prepared = add_window_base(
        add_window_ranges(
            encode_window_keys(prepare_indicator_events(frame.lazy(), by=by)),
            windows=windows,
        ),
        windows=windows,
    )
    if first_windows is not None and isinstance(windows, RollingWindows):
        prepared = _start_windows_at(prepared, first_windows)
    # Collected once here (the boundary), read by every kernel below.
    small = isinstance(frame, pl.DataFrame) and frame.height < IN_MEMORY_EVENTS
    collected = prepared.collect(engine="in-memory" if small else "auto")
    engine: Literal["auto", "in-memory"] = (
        "in-memory" if collected.height < IN_MEMORY_EVENTS else "auto"
    )
    _check_window_keys(collected, windows=windows)
    events = collected.lazy()
    names = events.group_by(GROUP).agg(
        pl.col(PARTNERSHIP_NAME).first(), pl.col(GROUP_NAME).first()
    )
    # Collected once for the kernels that read them (polars does not share
    # the subplan between them).
    intervals = (
        partner_intervals(select_membership_columns(events))
        .collect(engine=engine)
        .lazy()
    )
    grouped = by is not None
    # One u64 window key: joins hash one column; the grid is sorted by it
    # while it is narrow, and the joins keep its order.
    out = _build_group_grid(events, windows=windows).sort(WINDOW_KEY)
    for part in [
        *_collect_kernels(
            events, windows=windows, grouped=grouped, intervals=intervals
        ),
        compute_commitment(events, windows=windows),
    ]:
        out = out.join(part, on=WINDOW_KEY, how="left", maintain_order="left")
    has_events = pl.col("_events").fill_null(0) > 0
    group_name = by or "workstream"
    result = (
        out.with_columns(
            _commitment_expr(has_events),
            pl.when(has_events).then(pl.col("conflict_mitigation").fill_null(1.0)),
        )
        # Rounded: summation order after parallel joins may move the last bit,
        # and the same log must always give the same values (and alerts).
        .with_columns(pl.col(list(INDICATORS)).round(12))
        .with_columns(alignment_score_expr(config=config).round(12))
        .with_columns(mode_expr(config=config), status_expr(config=config))
        .join(names, on=GROUP, how="left", maintain_order="left")
        .select(
            pl.col(PARTNERSHIP_NAME).alias("partnership_id"),
            PERIOD,
            pl.when(pl.col(GROUP_NAME) != "")
            .then(pl.col(GROUP_NAME))
            .alias(group_name),
            WINDOW_START,
            WINDOW_END,
            *INDICATORS,
            "alignment_score",
            "mode",
            "status",
            WINDOW_INDEX,
            COMPLETE,
        )
    )
    return result.collect(engine=engine)

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
  ``shared`` (events without the attribute are not measured);
* ``conflict_mitigation``: conflicts raised in the window that are resolved by
  its end / conflicts raised in it; 1 when none raised (null for an empty window);
* ``commitment``: distinct actors of partner orgs this window / max(this,
  previous window);
* ``objective_convergence``: objectives proposed in the window that are agreed by
  its end / objectives proposed in it;
* ``idea_to_action_days``: median days from an idea's first ``agree_action_plan``
  to its first later ``start_action``, over the starts in the window;
* ``top_manager_feedback``: share of feedback meetings where every active partner
  org has a participant with role ``top_manager``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from engine import schema as s
from engine.alignment import (
    IndicatorConfig,
    alignment_score_expr,
    mode_expr,
    status_expr,
)
from engine.attributes import attribute_expr, objective_ids_expr
from engine.membership import (
    PARTNERS,
    count_active_partners_at,
    count_active_partners_in_windows,
)
from engine.partners import (
    ACTIVE_FROM,
    ACTIVE_UNTIL,
    partner_intervals,
)
from engine.windows import (
    COMPLETE,
    PERIOD,
    WINDOW_END,
    WINDOW_INDEX,
    WINDOW_START,
    assign_windows,
    build_window_grid,
)

if TYPE_CHECKING:
    from engine.windows import WindowSpec

__all__ = [
    "EVENT_KEY",
    "GROUP",
    "INDICATORS",
    "KEY",
    "assign_event_windows",
    "compute_commitment",
    "compute_conflict_mitigation",
    "compute_idea_to_action_days",
    "compute_inclusiveness",
    "compute_indicators",
    "compute_objective_convergence",
    "compute_participation_equality",
    "compute_top_manager_feedback",
    "compute_transparency",
    "gini_expr",
    "prepare_indicator_events",
]

GROUP = "group"
EVENT_KEY = "_event"
KEY = (s.PARTNERSHIP_ID, GROUP, WINDOW_INDEX)
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
_K = list(KEY)
_ORGS = "_orgs"
_ACTORS = "_actors_list"
_TM_ORGS = "_tm_orgs"
_DAY_US = 86_400_000_000


def _group_expr(by: str | None, columns: list[str]) -> pl.Expr:
    if by is None:
        value = pl.lit("", pl.String)
    elif by in columns:
        value = pl.col(by).cast(pl.String)
    else:
        value = attribute_expr(by)
    # An empty string stands for "no group" so that keys join (nulls never do).
    return value.fill_null("").alias(GROUP)


def prepare_indicator_events(frame: pl.LazyFrame, *, by: str | None) -> pl.LazyFrame:
    """Return the events the kernels read: engine alerts dropped, group and key added.

    Parameters
    ----------
    frame
        Event or input frame of whole partnerships.
    by
        Group by this column (e.g. ``workstream``) or attribute key; None for none.
    """
    columns = frame.collect_schema().names()
    version = pl.col(s.VERSION) if s.VERSION in columns else pl.int_range(pl.len())
    return (
        frame.filter(pl.col(s.ACTIVITY) != "alert_raised")
        .select(
            s.PARTNERSHIP_ID,
            s.TIMESTAMP,
            version.cast(pl.Int64).alias(s.VERSION),
            s.ACTIVITY,
            s.PHASE,
            s.ACTOR,
            s.ORGANIZATION,
            s.PARTICIPANTS,
            s.ATTRIBUTES,
            _group_expr(by, columns),
        )
        .with_columns(_participation_lists())
        .with_row_index(EVENT_KEY)
    )


def _participation_lists() -> list[pl.Expr]:
    """Per event: distinct partner orgs, their actors, and orgs with a top manager.

    Deduplicated inside each event's list (vectorized), so that a workshop of
    50 people from 3 organizations becomes 3 rows, not 50, when exploded.
    """
    own = pl.concat_list(
        pl.struct(
            pl.col(s.ACTOR).alias("actor"),
            pl.col(s.ORGANIZATION).alias("organization"),
            pl.lit("other", pl.String).alias("role"),
        )
    )
    appearing = (
        pl.when(pl.col(s.PARTICIPANTS).list.len().fill_null(0) > 0)
        .then(pl.col(s.PARTICIPANTS))
        .otherwise(own)
    )
    role = pl.element().struct.field("role").fill_null("other")
    org = pl.element().struct.field("organization")
    actor = pl.element().struct.field("actor")
    partner = role.is_in(sorted(s.THIRD_PARTY_ROLES)).not_() & org.is_not_null()

    def distinct(keep: pl.Expr, field: pl.Expr) -> pl.Expr:
        return appearing.list.eval(
            pl.element().filter(keep).struct.field(field.meta.output_name()).unique()
        )

    return [
        distinct(partner, org).alias(_ORGS),
        distinct(partner & actor.is_not_null(), actor).alias(_ACTORS),
        distinct((role == "top_manager") & org.is_not_null(), org).alias(_TM_ORGS),
    ]


def assign_event_windows(
    rows: pl.LazyFrame, *, events: pl.LazyFrame, windows: WindowSpec
) -> pl.LazyFrame:
    """Return ``rows`` (each naming its event) once per window of that event.

    Windows are assigned on the whole partnership (its first event anchors the
    rolling windows, its phased events define the stages), never on a subset.
    """
    event_windows = assign_windows(
        events.select(EVENT_KEY, s.PARTNERSHIP_ID, s.TIMESTAMP, s.PHASE, s.VERSION),
        windows=windows,
    ).select(EVENT_KEY, WINDOW_INDEX)
    return rows.join(event_windows, on=EVENT_KEY)


def _explode_list(events: pl.LazyFrame, column: str, name: str) -> pl.LazyFrame:
    """One row per (event, distinct value of the event's list ``column``)."""
    return (
        events.select(
            EVENT_KEY, s.PARTNERSHIP_ID, GROUP, s.TIMESTAMP, pl.col(column).alias(name)
        )
        .explode(name)
        .filter(pl.col(name).is_not_null())
    )


def _group_partner_counts(events: pl.LazyFrame, *, windows: WindowSpec) -> pl.LazyFrame:
    """Partner orgs of each (partnership, group, window): the grouped denominator."""
    return (
        assign_event_windows(
            _explode_list(events, _ORGS, s.ORGANIZATION), events=events, windows=windows
        )
        .group_by(_K)
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
        return assign_event_windows(per_event, events=events, windows=windows).join(
            counts, on=_K, how="left"
        )
    with_count = count_active_partners_at(
        _intervals_or_find(events, intervals), per_event
    )
    return assign_event_windows(with_count, events=events, windows=windows)


def _intervals_or_find(
    events: pl.LazyFrame, intervals: pl.LazyFrame | None
) -> pl.LazyFrame:
    if intervals is not None:
        return intervals
    return partner_intervals(_all_partnership_events(events))


def _all_partnership_events(events: pl.LazyFrame) -> pl.LazyFrame:
    return events.select(
        s.PARTNERSHIP_ID,
        s.ACTIVITY,
        s.TIMESTAMP,
        s.ORGANIZATION,
        s.ACTOR,
        s.PARTICIPANTS,
    )


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
        pl.col(_ORGS).list.len().cast(pl.Int64).alias("_present"),
    )
    rows = _share_of_partners(
        events, per_event, windows=windows, grouped=grouped, intervals=intervals
    )
    denominator = pl.max_horizontal(
        pl.col("_partners").fill_null(0), pl.col("_present")
    )
    share = pl.when(denominator > 0).then(pl.col("_present") / denominator)
    return rows.group_by(_K).agg(share.mean().alias("inclusiveness"))


def gini_expr(values: pl.Expr, *, population: pl.Expr | None = None) -> pl.Expr:
    """Return the Gini coefficient of ``values`` in an aggregation (null if sum 0).

    ``population`` is the number of members when some zero values are not
    listed (active organizations that took part in nothing); it defaults to
    the number of values. With ``m`` listed values sorted ascending, ``z``
    unlisted zeros, ``n = m + z`` and sum ``S``, the mean absolute difference
    gives ``G = (2 * sum_i (2i - m - 1) x_i + 2 z S) / (2 n S)``.

    Examples
    --------
    >>> df = pl.DataFrame({"g": [1, 1, 1, 2], "x": [1, 2, 3, 0]})
    >>> out = df.group_by("g", maintain_order=True).agg(gini_expr(pl.col("x")).alias("gini"))
    >>> [round(v, 4) if v is not None else None for v in out["gini"]]
    [0.2222, None]
    >>> df.filter(pl.col("g") == 1).select(gini_expr(pl.col("x"), population=pl.lit(4))).item()
    0.4166666666666667
    """
    m = values.len()
    n = m if population is None else pl.max_horizontal(population.first(), m)
    total = values.sum()
    rank = pl.int_range(1, m + 1)
    listed = 2 * (values.sort() * (2 * rank - m - 1)).sum()
    zeros = 2 * (n - m) * total
    return pl.when(total > 0).then((listed + zeros) / (2 * n * total))


def _active_in_windows(
    events: pl.LazyFrame, *, windows: WindowSpec, intervals: pl.LazyFrame
) -> pl.LazyFrame:
    """Per window key: ``_partners`` active at some time in it, plus ``_listed``.

    ``_listed`` rows are (key, organization) of organizations that took part
    in the window although not active then (they left before it): they count
    on top of the active ones.
    """
    grid = build_window_grid(events, windows=windows).select(
        s.PARTNERSHIP_ID, WINDOW_INDEX, WINDOW_START, WINDOW_END
    )
    return count_active_partners_in_windows(intervals, grid).select(
        s.PARTNERSHIP_ID,
        pl.lit("", pl.String).alias(GROUP),
        WINDOW_INDEX,
        WINDOW_START,
        WINDOW_END,
        PARTNERS,
    )


def _inactive_participants(
    counts: pl.LazyFrame, windows_active: pl.LazyFrame, intervals: pl.LazyFrame
) -> pl.LazyFrame:
    """Per window key, organizations that took part but were not active in it."""
    bounds = windows_active.select(*_K, WINDOW_START, WINDOW_END)
    overlap = (pl.col(ACTIVE_FROM) < pl.col(WINDOW_END)) & (
        pl.col(ACTIVE_UNTIL).is_null() | (pl.col(ACTIVE_UNTIL) > pl.col(WINDOW_START))
    )
    # An organization active without a break since it first took part cannot
    # take part while inactive: only the others need the interval check.
    org = [s.PARTNERSHIP_ID, s.ORGANIZATION]
    steady = (
        intervals.group_by(org)
        .agg(
            pl.len().alias("_intervals"),
            pl.col(ACTIVE_UNTIL).null_count(),
            pl.col(ACTIVE_FROM).null_count().alias("_never"),
        )
        .filter(
            (pl.col("_intervals") == 1)
            & (pl.col(ACTIVE_UNTIL) == 1)
            & (pl.col("_never") == 0)
        )
        .select(org)
    )
    suspects = counts.select(*_K, s.ORGANIZATION).join(steady, on=org, how="anti")
    active = (
        suspects.join(bounds, on=_K)
        .join(intervals, on=[s.PARTNERSHIP_ID, s.ORGANIZATION])
        .filter(overlap)
        .select(*_K, s.ORGANIZATION)
        .unique()
    )
    return (
        suspects.join(active, on=[*_K, s.ORGANIZATION], how="anti")
        .group_by(_K)
        .agg(pl.len().alias("_inactive"))
    )


def compute_participation_equality(
    events: pl.LazyFrame,
    *,
    windows: WindowSpec,
    grouped: bool,
    intervals: pl.LazyFrame | None = None,
) -> pl.LazyFrame:
    """Return ``participation_equality`` = 1 - Gini of events per active partner org.

    Active organizations that took part in nothing in the window count as 0
    (ungrouped); grouped, the group-window's partners are those taking part.
    """
    counts = (
        assign_event_windows(
            _explode_list(events, _ORGS, s.ORGANIZATION),
            events=events,
            windows=windows,
        )
        .group_by([*_K, s.ORGANIZATION])
        .agg(pl.len().alias("_n"))
    )
    if grouped:
        population = counts.group_by(_K).agg(pl.len().alias("_pop"))
    else:
        intervals = _intervals_or_find(events, intervals)
        windows_active = _active_in_windows(
            events, windows=windows, intervals=intervals
        )
        inactive = _inactive_participants(counts, windows_active, intervals)
        population = (
            windows_active.select(*_K, PARTNERS)
            .join(inactive, on=_K, how="left")
            .select(
                *_K, (pl.col(PARTNERS) + pl.col("_inactive").fill_null(0)).alias("_pop")
            )
        )
    return _flat_gini(counts, population)


def _flat_gini(counts: pl.LazyFrame, population: pl.LazyFrame) -> pl.LazyFrame:
    """1 - Gini per key, from flat ranks and sums (no per-group sort in agg).

    Same formula as :func:`gini_expr`; per-group sorting inside an aggregation
    runs group by group, which is slow for millions of windows.
    """
    m = pl.len().over(_K)
    rank = pl.col("_n").rank("ordinal").over(_K)
    sums = (
        counts.with_columns(
            (2 * (2 * rank - m - 1) * pl.col("_n")).alias("_listed"),
        )
        .group_by(_K)
        .agg(
            pl.col("_listed").sum(),
            pl.col("_n").sum().alias("_total"),
            pl.len().alias("_m"),
        )
        .join(population, on=_K, how="left")
    )
    n = pl.max_horizontal(pl.col("_pop").fill_null(0), pl.col("_m"))
    gini = (pl.col("_listed") + 2 * (n - pl.col("_m")) * pl.col("_total")) / (
        2 * n * pl.col("_total")
    )
    return sums.select(
        *_K,
        pl.when(pl.col("_total") > 0).then(1 - gini).alias("participation_equality"),
    )


def compute_transparency(events: pl.LazyFrame, *, windows: WindowSpec) -> pl.LazyFrame:
    """Return ``transparency``: the mean of the measured audience and visibility shares."""
    audience = attribute_expr("audience")
    visibility = attribute_expr("visibility")
    parts = events.select(
        EVENT_KEY,
        s.PARTNERSHIP_ID,
        GROUP,
        s.TIMESTAMP,
        pl.when(pl.col(s.ACTIVITY) == "share_information")
        .then(audience == "all")
        .alias("_open"),
        pl.when(pl.col(s.ACTIVITY) == "propose_objective")
        .then(visibility == "shared")
        .alias("_shared"),
    ).filter(pl.col("_open").is_not_null() | pl.col("_shared").is_not_null())
    return (
        assign_event_windows(parts, events=events, windows=windows)
        .group_by(_K)
        .agg(pl.col("_open").mean(), pl.col("_shared").mean())
        .select(*_K, pl.mean_horizontal("_open", "_shared").alias("transparency"))
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
    return rows.group_by(_K).agg(
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
    cols = [EVENT_KEY, s.PARTNERSHIP_ID, GROUP, s.TIMESTAMP, item.alias("_item")]
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
        .unique([s.PARTNERSHIP_ID, "idea_id"], keep="first")
        .select(
            EVENT_KEY,
            s.PARTNERSHIP_ID,
            GROUP,
            s.TIMESTAMP,
            (
                (pl.col(s.TIMESTAMP) - pl.col("_plan")).dt.total_microseconds()
                / _DAY_US
            ).alias("_days"),
        )
    )
    return (
        assign_event_windows(starts, events=events, windows=windows)
        .group_by(_K)
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
    per_event = meetings.select(
        EVENT_KEY,
        s.PARTNERSHIP_ID,
        GROUP,
        s.TIMESTAMP,
        pl.col(_TM_ORGS).list.len().cast(pl.Int64).alias("_present"),
    )
    rows = _share_of_partners(
        events, per_event, windows=windows, grouped=grouped, intervals=intervals
    )
    attended = (pl.col("_present") >= pl.col("_partners").fill_null(0)) & (
        pl.col("_present") > 0
    )
    return rows.group_by(_K).agg(attended.mean().alias("top_manager_feedback"))


def compute_commitment(events: pl.LazyFrame, *, windows: WindowSpec) -> pl.LazyFrame:
    """Return the distinct partner actors per window key (``_actors``).

    :func:`compute_indicators` turns them into ``commitment`` on the full grid,
    so that a window where nobody took part still compares with the previous one.
    """
    actors = _explode_list(events, _ACTORS, s.ACTOR)
    return (
        assign_event_windows(actors, events=events, windows=windows)
        .group_by(_K)
        .agg(pl.col(s.ACTOR).n_unique().alias("_actors"))
    )


def _build_group_grid(events: pl.LazyFrame, *, windows: WindowSpec) -> pl.LazyFrame:
    """Every window of every (partnership, group), within the group's own span."""
    spans = events.group_by(s.PARTNERSHIP_ID, GROUP).agg(
        pl.col(s.TIMESTAMP).min().alias("_g_first"),
        pl.col(s.TIMESTAMP).max().alias("_g_last"),
    )
    inside = (pl.col(WINDOW_START) <= pl.col("_g_last")) & (
        pl.col(WINDOW_END) > pl.col("_g_first")
    )
    return (
        build_window_grid(events, windows=windows)
        .join(spans, on=s.PARTNERSHIP_ID)
        .filter(inside)
        .drop("_g_first", "_g_last")
    )


def _commitment_expr() -> pl.Expr:
    this = pl.col("_actors").fill_null(0)
    previous = pl.col("_previous_actors").fill_null(0)
    most = pl.max_horizontal(this, previous)
    return pl.when(most > 0).then(this / most).alias("commitment")


def _count_events(events: pl.LazyFrame, *, windows: WindowSpec) -> pl.LazyFrame:
    rows = events.select(EVENT_KEY, s.PARTNERSHIP_ID, GROUP)
    return (
        assign_event_windows(rows, events=events, windows=windows)
        .group_by(_K)
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


def compute_indicators(
    frame: pl.LazyFrame | pl.DataFrame,
    *,
    windows: WindowSpec,
    by: str | None = None,
    config: IndicatorConfig | None = None,
) -> pl.DataFrame:
    """Return every indicator, the score, mode and status per partnership and window.

    This is the documented boundary where the lazy query is collected.

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

    Returns
    -------
    pl.DataFrame
        ``partnership_id, period, <by or workstream>, window_start, window_end,
        <indicators>, alignment_score, mode, status, window_index, complete``,
        sorted by partnership, group and window.
    """
    config = config or IndicatorConfig()
    events = prepare_indicator_events(frame.lazy(), by=by)
    # One subplan shared by the kernels (polars eliminates the common subplan).
    intervals = partner_intervals(_all_partnership_events(events))
    grouped = by is not None
    actors = compute_commitment(events, windows=windows)
    previous = actors.select(
        s.PARTNERSHIP_ID,
        GROUP,
        (pl.col(WINDOW_INDEX) + 1).alias(WINDOW_INDEX),
        pl.col("_actors").alias("_previous_actors"),
    )
    out = _build_group_grid(events, windows=windows)
    for part in [
        *_collect_kernels(
            events, windows=windows, grouped=grouped, intervals=intervals
        ),
        actors,
        previous,
    ]:
        out = out.join(part, on=_K, how="left")
    has_events = pl.col("_events").fill_null(0) > 0
    group_name = by or "workstream"
    result = (
        out.with_columns(
            _commitment_expr(),
            pl.when(has_events).then(pl.col("conflict_mitigation").fill_null(1.0)),
        )
        .with_columns(alignment_score_expr(config=config))
        .with_columns(mode_expr(config=config), status_expr(config=config))
        .sort(s.PARTNERSHIP_ID, GROUP, WINDOW_INDEX)
        .select(
            pl.col(s.PARTNERSHIP_ID).alias("partnership_id"),
            PERIOD,
            pl.when(pl.col(GROUP) != "").then(pl.col(GROUP)).alias(group_name),
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
    return result.collect()

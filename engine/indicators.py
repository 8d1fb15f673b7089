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
from engine.errors import ConfigError
from engine.indicator_frames import (
    GROUP,
    GROUP_NAME,
    PARTNERSHIP_NAME,
    WINDOW_BASE,
    WINDOW_KEY,
    WINDOW_RANGE,
    add_window_base,
    add_window_ranges,
    encode_window_keys,
    prepare_indicator_events,
    select_membership_columns,
    window_radix,
)
from engine.indicator_kernels import (
    build_group_grid,
    commitment_expr,
    compute_commitment,
    compute_conflict_mitigation,
    compute_idea_to_action_days,
    compute_inclusiveness,
    compute_objective_convergence,
    compute_top_manager_feedback,
    compute_transparency,
    window_kernels,
)
from engine.partners import partner_intervals
from engine.windows import (
    COMPLETE,
    FIRST_WINDOW,
    PERIOD,
    WINDOW_END,
    WINDOW_INDEX,
    WINDOW_START,
    RollingWindows,
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
    # A frame in memory: one bucket per event (one join), and each part
    # filtered only when computed (never all parts at once).
    of_event = (
        frame.select(s.PARTNERSHIP_ID).join(
            buckets, on=s.PARTNERSHIP_ID, how="left", maintain_order="left"
        )["_bucket"]
        if isinstance(frame, pl.DataFrame)
        else None
    )

    def part(i: int) -> pl.DataFrame | pl.LazyFrame:
        if of_event is not None:
            return frame.filter(of_event == i)
        listed = buckets.filter(pl.col("_bucket") == i)[s.PARTNERSHIP_ID]
        return frame.filter(pl.col(s.PARTNERSHIP_ID).is_in(listed.implode()))

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

    ``ids`` are the distinct partnership ids: ranking them, not the event
    column, sorts thousands of strings instead of millions.

    Examples
    --------
    >>> _partnership_buckets(pl.Series(["c", "a", "d", "b"]), 2)["_bucket"].to_list()
    [0, 0, 1, 1]
    """
    return (
        ids.sort()
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
    out = build_group_grid(events, windows=windows).sort(WINDOW_KEY)
    for part in [
        *window_kernels(events, windows=windows, grouped=grouped, intervals=intervals),
        compute_commitment(events, windows=windows),
    ]:
        out = out.join(part, on=WINDOW_KEY, how="left", maintain_order="left")
    has_events = pl.col("_events").fill_null(0) > 0
    group_name = by or "workstream"
    result = (
        out.with_columns(
            commitment_expr(has_events),
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

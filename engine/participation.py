"""Participation equality: 1 - Gini of events per active partner organization.

Active organizations that took part in nothing in a window count as zeros
without being listed (their number comes from
:func:`engine.membership.count_active_partners_in_windows`), so a partnership
of many organizations over many windows stays cheap.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import polars as pl

from engine import schema as s
from engine.indicator_frames import (
    EVENT_KEY,
    GROUP,
    PARTNER_ORGS,
    WINDOW_BASE,
    WINDOW_KEY,
    WINDOW_RANGE,
    assign_event_windows,
    base_columns,
    explode_partner_actors,
    find_partner_intervals,
    pack_columns,
    unpack_columns,
    window_key_expr,
    window_radix,
    window_range_columns,
)
from engine.membership import PARTNERS
from engine.partners import ACTIVE_FROM, ACTIVE_UNTIL
from engine.windows import (
    WINDOW_END,
    WINDOW_INDEX,
    WINDOW_START,
    RollingWindows,
    build_window_grid,
    rolling_window_range,
    window_anchor,
)

if TYPE_CHECKING:
    from engine.windows import WindowSpec

__all__ = [
    "compute_participation_equality",
    "count_window_actors",
    "gini_expr",
    "organization_code",
]


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
    """Per window key (ungrouped): ``_partners`` active at some time in it.

    Rows name the key as ``_wkey`` and as partnership, window and its bounds.
    """
    grid = build_window_grid(events, windows=windows).select(
        s.PARTNERSHIP_ID, WINDOW_INDEX, WINDOW_START, WINDOW_END
    )
    # Ungrouped: the one group of each partnership (whatever its key's type).
    group = events.group_by(s.PARTNERSHIP_ID).agg(
        pl.col(GROUP, WINDOW_BASE).first(),
        window_anchor(pl.col(s.TIMESTAMP).min()).alias("_first"),
    )
    keys = grid.join(group, on=s.PARTNERSHIP_ID).with_columns(window_key_expr())
    columns = [s.PARTNERSHIP_ID, WINDOW_START, WINDOW_END, WINDOW_KEY, PARTNERS]
    if isinstance(windows, RollingWindows) and window_range_columns(events):
        return _count_active_in_rolling(
            intervals, keys=keys, events=events, windows=windows
        ).select(columns)
    return _count_active_in_periods(intervals, keys=keys).select(columns)


def _count_active_in_periods(
    intervals: pl.LazyFrame, *, keys: pl.LazyFrame
) -> pl.LazyFrame:
    """Distinct partners active at some time in each window (few windows each).

    An organization that leaves and rejoins within a window counts once.
    """
    overlap = (pl.col(ACTIVE_FROM) < pl.col(WINDOW_END)) & (
        pl.col(ACTIVE_UNTIL).is_null() | (pl.col(ACTIVE_UNTIL) > pl.col(WINDOW_START))
    )
    counts = (
        keys.select(s.PARTNERSHIP_ID, WINDOW_KEY, WINDOW_START, WINDOW_END)
        .join(intervals.filter(pl.col(ACTIVE_FROM).is_not_null()), on=s.PARTNERSHIP_ID)
        .filter(overlap)
        .group_by(WINDOW_KEY)
        .agg(pl.col(s.ORGANIZATION).n_unique().alias(PARTNERS))
    )
    return keys.join(counts, on=WINDOW_KEY, how="left").with_columns(
        pl.col(PARTNERS).fill_null(0).cast(pl.Int64)
    )


def _count_active_in_rolling(
    intervals: pl.LazyFrame,
    *,
    keys: pl.LazyFrame,
    events: pl.LazyFrame,
    windows: RollingWindows,
) -> pl.LazyFrame:
    """Partners active at some time in each rolling window, in window-index space.

    An interval ``[from, until)`` overlaps window ``k`` (``[start_k, end_k)``)
    when ``from < end_k``, i.e. ``k >= lo(from)`` (the first window holding
    time ``from``), and not ``until <= start_k``, i.e. ``k < ceil((until -
    first) / step)``: a +1 and a -1 on the window index, whose running sum is
    looked up for each window (no join on times, no sort of times).
    """
    first = keys.group_by(s.PARTNERSHIP_ID).agg(pl.col(GROUP, "_first").first())
    began = intervals.filter(pl.col(ACTIVE_FROM).is_not_null()).join(
        first, on=s.PARTNERSHIP_ID
    )
    lo, _ = rolling_window_range(
        windows, first=pl.col("_first"), timestamp=pl.col(ACTIVE_FROM)
    )
    step = windows.step // timedelta(microseconds=1)
    until = (pl.col(ACTIVE_UNTIL) - pl.col("_first")).dt.total_microseconds()
    # An organization counts once: its intervals' window ranges merge into
    # islands (it may leave and rejoin within one window).
    a, b = pl.col("_a"), pl.col("_b")
    org = [GROUP, s.ORGANIZATION]
    same = pl.all_horizontal(pl.col(c) == pl.col(c).shift(1) for c in org)
    previous_b = pl.when(same).then(b.shift(1))
    ranges = (
        began.select(
            *org,
            lo.alias("_a"),
            ((until + step - 1) // step).alias("_b"),
        )
        .sort(*org, "_a", "_b", nulls_last=True)
        .with_columns((previous_b.is_null() | (a > previous_b)).alias("_new"))
        .with_columns(pl.col("_new").shift(-1).fill_null(value=True).alias("_last"))
    )
    bounds = pl.concat(
        [
            ranges.filter("_new").select(GROUP, a.alias("_w"), pl.lit(1).alias("_d")),
            ranges.filter(pl.col("_last") & b.is_not_null()).select(
                GROUP, b.alias("_w"), pl.lit(-1).alias("_d")
            ),
        ]
    )
    return _look_up_running_sum(
        bounds, events=events, keys=keys, name=PARTNERS, windows=windows
    )


def _inactive_participants(
    counts: pl.LazyFrame,
    windows_active: pl.LazyFrame,
    intervals: pl.LazyFrame,
    *,
    leavers: pl.LazyFrame,
) -> pl.LazyFrame:
    """Per window key, organizations that took part but were not active in it.

    ``counts`` name organizations by code (:func:`organization_code`);
    ``leavers`` are the (partnership, organization code) pairs with a
    ``member_left``.
    """
    intervals = intervals.with_columns(organization_code(pl.col(s.ORGANIZATION)))
    overlap = (pl.col(ACTIVE_FROM) < pl.col(WINDOW_END)) & (
        pl.col(ACTIVE_UNTIL).is_null() | (pl.col(ACTIVE_UNTIL) > pl.col(WINDOW_START))
    )
    # An organization that never left is active from its first appearance
    # (or an earlier join) on, so it cannot take part while inactive: only
    # the leavers need the interval check. (A single open interval is not
    # enough: one that left at or before it first took part and rejoined
    # later has one, starting after that participation.)
    org = [s.PARTNERSHIP_ID, s.ORGANIZATION]
    unsteady = leavers
    suspects = (
        counts.select(WINDOW_KEY, s.ORGANIZATION)
        .join(unsteady.select(s.ORGANIZATION).unique(), on=s.ORGANIZATION, how="semi")
        .join(windows_active.select(WINDOW_KEY, s.PARTNERSHIP_ID), on=WINDOW_KEY)
        .join(unsteady.select(org), on=org, how="semi")
    )
    bounds = windows_active.select(WINDOW_KEY, WINDOW_START, WINDOW_END)
    active = (
        suspects.join(bounds, on=WINDOW_KEY)
        .join(intervals, on=org)
        .filter(overlap)
        .select(WINDOW_KEY, s.ORGANIZATION)
        .unique()
    )
    return (
        suspects.join(active, on=[WINDOW_KEY, s.ORGANIZATION], how="anti")
        .group_by(WINDOW_KEY)
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
    Rows are keyed by ``_wkey`` (:func:`engine.indicator_frames.window_key_expr`).
    """
    counts = _count_participations(events, windows=windows).cache()
    if grouped:
        population = counts.group_by(WINDOW_KEY).agg(pl.len().alias("_pop"))
    else:
        intervals = find_partner_intervals(events, intervals)
        # Cached: the population and the inactive participants both read it.
        windows_active = _active_in_windows(
            events, windows=windows, intervals=intervals
        ).cache()
        leavers = (
            events.filter(
                (pl.col(s.ACTIVITY) == "member_left")
                & pl.col(s.ORGANIZATION).is_not_null()
            )
            .select(s.PARTNERSHIP_ID, organization_code(pl.col(s.ORGANIZATION)))
            .unique()
        )
        inactive = _inactive_participants(
            counts, windows_active, intervals, leavers=leavers
        )
        population = (
            windows_active.select(WINDOW_KEY, PARTNERS)
            .join(inactive, on=WINDOW_KEY, how="left")
            .select(
                WINDOW_KEY,
                (pl.col(PARTNERS) + pl.col("_inactive").fill_null(0)).alias("_pop"),
            )
        )
    return _flat_gini(counts, population)


def _count_participations(events: pl.LazyFrame, *, windows: WindowSpec) -> pl.LazyFrame:
    """Per (window key, organization): the events it took part in (``_n``).

    ``organization`` is the organization's categorical code. The keys are
    packed into one integer, sorted and run-length encoded: one sort of a
    single column instead of a hash group-by over millions of keys.
    """
    # Only the columns that give the windows go through the explode.
    rows = (
        events.select(
            EVENT_KEY,
            *base_columns(events),
            *window_range_columns(events),
            pl.col(PARTNER_ORGS).alias(s.ORGANIZATION),
        )
        .explode(s.ORGANIZATION)
        .filter(pl.col(s.ORGANIZATION).is_not_null())
        .with_columns(organization_code(pl.col(s.ORGANIZATION)))
    )
    names = [WINDOW_KEY, s.ORGANIZATION]
    z, radices = pack_columns(names)
    runs = (
        assign_event_windows(rows, events=events, windows=windows)
        .with_columns(window_key_expr())
        .select(
            z.sort().rle().alias("_run"),
            *(r.alias(f"_r{i}") for i, r in enumerate(radices)),
        )
        .unnest("_run")
    )
    keys = unpack_columns(
        pl.col("value"), names, [pl.col(f"_r{i}") for i in range(len(names))]
    )
    return runs.select(*keys, pl.col("len").alias("_n"))


def organization_code(organization: pl.Expr) -> pl.Expr:
    """Return the organization's categorical code (u32, the same for the same name)."""
    return organization.cast(pl.Categorical).to_physical()


def _flat_gini(counts: pl.LazyFrame, population: pl.LazyFrame) -> pl.LazyFrame:
    """1 - Gini per key, from ranks in one sort of packed keys (no per-group sort).

    Same formula as :func:`gini_expr`, with ``sum_i (2i - m - 1) x_i = 2 sum_i
    i x_i - (m + 1) S`` over the counts sorted within each key: the packed
    (key, count) values are sorted once, a row's rank is its position minus
    that of its key's first row, and each key's sums are differences of
    running sums at its last row (no window function or hash group-by per
    key, which are slow for millions of windows).
    """
    names = [WINDOW_KEY, "_n"]
    z, radices = pack_columns(names)
    radix = pl.col("_r1")
    key, n = pl.col("_z") // radix, pl.col("_z") % radix
    row = pl.int_range(pl.len(), dtype=pl.Int64)
    first = (key != key.shift(1)).fill_null(value=True)
    last = (key != key.shift(-1)).fill_null(value=True)
    rank = row - pl.when(first).then(row).forward_fill() + 1
    sums = (
        counts.select(z.sort().alias("_z"), radices[1].alias("_r1"))
        .with_columns(
            key.alias(WINDOW_KEY),
            (rank * n).cum_sum().alias("_ranked"),
            n.cum_sum().alias("_total"),
            (row + 1).alias("_m"),
        )
        .filter(last)
        .with_columns(
            (pl.col(c) - pl.col(c).shift(1).fill_null(0)).cast(pl.Int64)
            for c in ("_ranked", "_total", "_m")
        )
        .join(population, on=WINDOW_KEY, how="left")
    )
    m, total = pl.col("_m"), pl.col("_total")
    listed = 2 * (2 * pl.col("_ranked") - (m + 1) * total)
    size = pl.max_horizontal(pl.col("_pop").fill_null(0), m)
    gini = (listed + 2 * (size - m) * total) / (2 * size * total)
    return sums.select(
        WINDOW_KEY,
        pl.when(total > 0).then(1 - gini).alias("participation_equality"),
    )


def count_window_actors(
    events: pl.LazyFrame, *, windows: WindowSpec, keys: pl.LazyFrame
) -> pl.LazyFrame:
    """Return the distinct partner actors (``_actors``) of window keys (``_wkey``).

    Rolling windows (events with ``_lo``/``_hi``): each actor's events,
    sorted by their window range, merge into islands of consecutive windows;
    an island adds 1 from its first window to its end, so the count of a
    window is a running sum of +1/-1 at island bounds, looked up for each
    of ``keys`` (an as-of join on packed keys). The work grows with the
    actors' appearances, never with appearances x windows. Other windows
    count the distinct (window key, actor) pairs of one sort of packed keys
    (keys without any actor are then absent).

    ``keys`` carry ``group`` and ``window_index``; a group code names one
    group of one partnership (:func:`engine.indicator_frames.encode_window_keys`).
    """
    lo, hi = WINDOW_RANGE
    if not isinstance(windows, RollingWindows) or not window_range_columns(events):
        return _count_distinct_actors(
            _partner_actor_codes(events, [EVENT_KEY, *base_columns(events)]),
            events=events,
            windows=windows,
        )
    # Only the columns the islands read go through the explode.
    actors = _partner_actor_codes(events, [GROUP, lo, hi])
    names = [GROUP, s.ACTOR, lo, hi]
    z, radices = pack_columns(names)
    r = [pl.col(f"_r{i}") for i in range(len(names))]
    actor = pl.col("_actor")
    previous_hi = pl.when(actor == actor.shift(1)).then(pl.col(hi).shift(1))
    new_island = previous_hi.is_null() | (pl.col(lo) > previous_hi)
    # Unpacked only as far as the islands need; the group for bounds only.
    rows = (
        actors.filter(pl.col(lo) < pl.col(hi))
        .select(
            z.sort().alias("_z"), *(x.alias(f"_r{i}") for i, x in enumerate(radices))
        )
        .with_columns(
            (pl.col("_z") // (r[2] * r[3])).alias("_actor"),
            (pl.col("_z") // r[3] % r[2]).alias(lo),
            (pl.col("_z") % r[3]).alias(hi),
        )
        .with_columns(new_island.alias("_new"))
        .with_columns(pl.col("_new").shift(-1).fill_null(value=True).alias("_last"))
    )
    group = (pl.col("_actor") // r[1]).alias(GROUP)
    bounds = pl.concat(
        [
            rows.filter("_new").select(
                group, pl.col(lo).alias("_w"), pl.lit(1).alias("_d")
            ),
            rows.filter("_last").select(
                group, pl.col(hi).alias("_w"), pl.lit(-1).alias("_d")
            ),
        ]
    )
    return _look_up_running_sum(
        bounds, events=events, keys=keys, name="_actors", windows=windows
    ).select(WINDOW_KEY, "_actors")


def _partner_actor_codes(events: pl.LazyFrame, columns: list[str]) -> pl.LazyFrame:
    """Return ``columns`` of ``events`` per partner actor appearance, actor coded."""
    return explode_partner_actors(
        events.select(*columns, s.ACTIVITY, s.ACTOR, s.ORGANIZATION, s.PARTICIPANTS)
    ).with_columns(pl.col(s.ACTOR).cast(pl.Categorical).to_physical())


def _look_up_running_sum(
    bounds: pl.LazyFrame,
    *,
    events: pl.LazyFrame,
    keys: pl.LazyFrame,
    name: str,
    windows: RollingWindows,
) -> pl.LazyFrame:
    """Return ``keys`` with ``name``: the running sum of ``_d`` up to their window.

    ``bounds`` holds +1/-1 steps ``_d`` at window index ``_w`` of a group
    code; each group sums its own steps only. ``keys`` (``group``,
    ``window_index``) come back in key order, with their window key
    ``_wkey`` (the group code x :func:`engine.indicator_frames.window_radix`
    + window index, as :func:`engine.indicator_frames.window_key_expr`).
    """
    # The radix of the whole partition, the same for bounds and keys.
    radix = events.select(window_radix(windows).alias("_rw"))

    def packed(window: str) -> pl.Expr:
        # No step lies beyond the last window (a step there would change none).
        index = pl.col(window).cast(pl.UInt64).clip(upper_bound=pl.col("_rw") - 1)
        return (pl.col(GROUP).cast(pl.UInt64) * pl.col("_rw") + index).alias("_k")

    group = pl.col("_k") // pl.col("_rw")
    total = pl.col("_d").cum_sum()
    # A running sum over all groups, minus its value where this one began.
    before = pl.when(group != group.shift(1).fill_null(-1)).then(total - pl.col("_d"))
    running = (
        bounds.join(radix, how="cross")
        .select(packed("_w"), "_d", "_rw")
        .sort("_k")
        .with_columns((total - before.forward_fill()).alias(name), group.alias("_pg"))
        .filter(pl.col("_k") != pl.col("_k").shift(-1).fill_null(-1))
        .select("_k", "_pg", name)
    )
    return (
        keys.drop(WINDOW_KEY, strict=False)
        .join(radix, how="cross")
        .with_columns(packed(WINDOW_INDEX))
        .with_columns(group.alias("_pg"))
        .sort("_k")
        .join_asof(
            running, on="_k", by="_pg", strategy="backward", check_sortedness=False
        )
        .with_columns(pl.col(name).fill_null(0).cast(pl.Int64))
        .rename({"_k": WINDOW_KEY})
        .drop("_pg", "_rw")
    )


def _count_distinct_actors(
    actors: pl.LazyFrame, *, events: pl.LazyFrame, windows: WindowSpec
) -> pl.LazyFrame:
    """Distinct (window key, actor) pairs from one sort of packed keys."""
    names = [WINDOW_KEY, s.ACTOR]
    z, radices = pack_columns(names)
    radix = pl.col("_r1")
    changed = (pl.col("_z") != pl.col("_z").shift(1)).fill_null(value=True)
    return (
        assign_event_windows(actors, events=events, windows=windows)
        .with_columns(window_key_expr())
        .select(z.sort().alias("_z"), radices[1].alias("_r1"))
        .filter(changed)
        .select((pl.col("_z") // radix).rle().alias("_run"))
        .unnest("_run")
        .select(pl.col("value").alias(WINDOW_KEY), pl.col("len").alias("_actors"))
    )

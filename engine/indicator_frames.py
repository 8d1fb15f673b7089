"""The frames every indicator kernel reads: prepared events and their windows.

:func:`prepare_indicator_events` drops the engine's own ``alert_raised``
events, adds the group key and an event key, and lists per event its distinct
partner organizations, their actors, and the organizations with a top manager
present (DOMAIN.md partner semantics, shared with :mod:`engine.partners`).
:func:`assign_event_windows` gives any per-event rows their windows, always
assigned on the whole partnership.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from engine import schema as s
from engine.attributes import attribute_expr
from engine.partners import (
    own_appearance_is_partner,
    own_appearance_role,
    partner_intervals,
)
from engine.selection import drop_engine_events
from engine.windows import (
    WINDOW_INDEX,
    NamedPeriods,
    RollingWindows,
    assign_windows,
    rolling_window_range,
    window_anchor,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from engine.windows import WindowSpec

__all__ = [
    "EVENT_KEY",
    "GROUP",
    "GROUP_NAME",
    "KEY",
    "KEY_COLUMNS",
    "PARTNERSHIP_NAME",
    "PARTNER_ORGS",
    "TOP_MANAGER_ORGS",
    "WINDOW_BASE",
    "WINDOW_KEY",
    "WINDOW_RANGE",
    "add_window_base",
    "add_window_ranges",
    "assign_event_windows",
    "base_columns",
    "encode_window_keys",
    "explode_event_list",
    "explode_partner_actors",
    "find_partner_intervals",
    "pack_columns",
    "prepare_indicator_events",
    "select_membership_columns",
    "top_manager_orgs_expr",
    "unpack_columns",
    "window_key_expr",
    "window_radix",
    "window_range_columns",
]

GROUP = "group"
EVENT_KEY = "_event"
KEY = (s.PARTNERSHIP_ID, GROUP, WINDOW_INDEX)
KEY_COLUMNS = list(KEY)
PARTNER_ORGS = "_orgs"
TOP_MANAGER_ORGS = "_tm_orgs"
WINDOW_RANGE = ("_lo", "_hi")
PARTNERSHIP_NAME = "_partnership_name"
GROUP_NAME = "_group_name"
WINDOW_BASE = "_base"
WINDOW_KEY = "_wkey"


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
        drop_engine_events(frame)
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


def encode_window_keys(events: pl.LazyFrame) -> pl.LazyFrame:
    """Return prepared events keyed by integer codes of partnership and group.

    ``case:concept:name`` becomes the dense rank of the names (u32, so sorting
    by code sorts by name), and ``group`` the dense rank of the (partnership,
    group) pairs: one code per group of a partnership, in name order. The
    names move to ``_partnership_name`` and ``_group_name``. Every join and
    group-by of the kernels then hashes integers instead of strings.

    The ranks are read off the sorted distinct pairs (thousands of rows) and
    joined back: ranking the event column itself sorts millions of strings,
    about twenty times slower when the log is not grouped by partnership.
    """
    pairs = (
        events.select(s.PARTNERSHIP_ID, GROUP)
        .unique()
        .sort(s.PARTNERSHIP_ID, GROUP)
        .with_columns(
            pl.col(s.PARTNERSHIP_ID)
            .ne_missing(pl.col(s.PARTNERSHIP_ID).shift(1))
            .cum_sum()
            .cast(pl.UInt32)
            .alias("_partnership_code"),
            pl.int_range(pl.len(), dtype=pl.UInt64).alias("_group_code"),
        )
    )
    return (
        events.join(
            pairs, on=[s.PARTNERSHIP_ID, GROUP], how="left", maintain_order="left"
        )
        .with_columns(
            pl.col(s.PARTNERSHIP_ID).alias(PARTNERSHIP_NAME),
            pl.col(GROUP).alias(GROUP_NAME),
            pl.col("_partnership_code").alias(s.PARTNERSHIP_ID),
            pl.col("_group_code").alias(GROUP),
        )
        .drop("_partnership_code", "_group_code")
    )


def window_radix(windows: WindowSpec) -> pl.Expr:
    """Return a bound above every window index of prepared events (a u64 scalar).

    Rolling windows: the largest ``_hi`` + 1 (read from the events with
    ranges, :func:`add_window_ranges`); named periods and stages: their count
    + 1.
    """
    if isinstance(windows, RollingWindows):
        top = pl.col(WINDOW_RANGE[1]).max().cast(pl.UInt64).fill_null(0)
    elif isinstance(windows, NamedPeriods):
        top = pl.lit(len(windows.periods), pl.UInt64)
    else:
        top = pl.lit(len(s.PHASES), pl.UInt64)
    return top + 1


def add_window_base(events: pl.LazyFrame, *, windows: WindowSpec) -> pl.LazyFrame:
    """Return coded events with ``_base`` = group code x :func:`window_radix`.

    ``_base + window_index`` (:func:`window_key_expr`) then names a window key
    (partnership, group, window) in one u64, in key order, for every join,
    group-by and sort of the kernels.
    """
    base = pl.col(GROUP).cast(pl.UInt64) * window_radix(windows)
    return events.with_columns(base.alias(WINDOW_BASE))


def window_key_expr() -> pl.Expr:
    """Return the window key of rows carrying ``_base`` and ``window_index`` (u64)."""
    key = pl.col(WINDOW_BASE) + pl.col(WINDOW_INDEX).cast(pl.UInt64)
    return key.alias(WINDOW_KEY)


def base_columns(frame: pl.LazyFrame) -> list[str]:
    """Return ``[_base]`` when ``frame`` carries it (:func:`add_window_base`)."""
    return [WINDOW_BASE] if WINDOW_BASE in frame.collect_schema().names() else []


def _own_appearance() -> pl.Expr:
    """Return the event's own organization and actor (a one-item list).

    In role :func:`engine.partners.own_appearance_role` (``other``, or
    ``mediator`` for a recorded mediation).
    """
    return pl.concat_list(
        pl.struct(
            pl.col(s.ACTOR).alias("actor"),
            pl.col(s.ORGANIZATION).alias("organization"),
            own_appearance_role().alias("role"),
        )
    )


def _has_participants() -> pl.Expr:
    return pl.col(s.PARTICIPANTS).list.len().fill_null(0) > 0


def _distinct_orgs(keep: pl.Expr) -> pl.Expr:
    """Per event: the distinct organizations of its appearances where ``keep`` holds.

    An event without participants appears through its own organization in
    role ``other`` (DOMAIN.md partner semantics, shared with
    :mod:`engine.partners`).
    """
    appearing = (
        pl.when(_has_participants())
        .then(pl.col(s.PARTICIPANTS))
        .otherwise(_own_appearance())
    )
    org = pl.element().struct.field("organization")
    return appearing.list.eval(
        pl.element()
        .filter(keep & org.is_not_null())
        .struct.field("organization")
        .unique()
    )


def _partner_role() -> pl.Expr:
    role = pl.element().struct.field("role").fill_null("other")
    return role.is_in(sorted(s.THIRD_PARTY_ROLES)).not_()


def _participation_lists() -> list[pl.Expr]:
    """Per event: its distinct partner organizations.

    Deduplicated inside each event's list (vectorized), so that a workshop of
    50 people from 3 organizations becomes 3 rows, not 50, when exploded.
    """
    # Categorical: every later group-by, count or code of them reads u32s.
    orgs = _distinct_orgs(_partner_role()).list.eval(pl.element().cast(pl.Categorical))
    return [orgs.alias(PARTNER_ORGS)]


def top_manager_orgs_expr() -> pl.Expr:
    """Per event: the distinct organizations with a participant in role ``top_manager``."""
    role = pl.element().struct.field("role").fill_null("other")
    return _distinct_orgs(role == "top_manager").alias(TOP_MANAGER_ORGS)


def explode_partner_actors(events: pl.LazyFrame) -> pl.LazyFrame:
    """Return one row per (event, partner-role participant with an actor).

    ``events`` carry ``participants``, ``org:resource``, ``organization`` and
    ``concept:name``; their other columns are kept, and ``org:resource``
    becomes the actor.
    The actors may repeat within an event (they are counted distinct per
    window). One flat explode of the participants, filtered as a column,
    rather than a filter inside each event's list. An event without
    participants appears through its own actor and organization (role
    ``other``).
    """
    field = pl.col(s.PARTICIPANTS).struct.field
    own_columns = [s.ACTOR, s.ORGANIZATION, s.PARTICIPANTS, s.ACTIVITY]
    keys = [c for c in events.collect_schema().names() if c not in own_columns]
    listed = (
        events.filter(_has_participants())
        .select(*keys, s.PARTICIPANTS)
        .explode(s.PARTICIPANTS)
        .filter(
            field("role").fill_null("other").is_in(sorted(s.THIRD_PARTY_ROLES)).not_()
            & field("organization").is_not_null()
            & field("actor").is_not_null()
        )
        .select(*keys, field("actor").alias(s.ACTOR))
    )
    own = events.filter(
        _has_participants().not_()
        & pl.col(s.ORGANIZATION).is_not_null()
        & pl.col(s.ACTOR).is_not_null()
        & own_appearance_is_partner()
    ).select(*keys, s.ACTOR)
    return pl.concat([listed, own])


def add_window_ranges(events: pl.LazyFrame, *, windows: WindowSpec) -> pl.LazyFrame:
    """Return prepared ``events`` with ``_lo`` and ``_hi``: their rolling windows.

    The windows of an event are ``_lo <= window_index < _hi``
    (:func:`engine.windows.rolling_window_range`, anchored at the
    partnership's first event); other window kinds add nothing. Rows that carry
    both columns get their windows in :func:`assign_event_windows` by
    expanding the range, without a join.
    """
    if not isinstance(windows, RollingWindows):
        return events
    ts = pl.col(s.TIMESTAMP)
    first = window_anchor(ts.min().over(s.PARTNERSHIP_ID))
    lo, hi = rolling_window_range(windows, first=first, timestamp=ts)
    return events.with_columns(lo.alias(WINDOW_RANGE[0]), hi.alias(WINDOW_RANGE[1]))


def assign_event_windows(
    rows: pl.LazyFrame, *, events: pl.LazyFrame, windows: WindowSpec
) -> pl.LazyFrame:
    """Return ``rows`` (each naming its event) once per window of that event.

    Windows are assigned on the whole partnership (its first event anchors the
    rolling windows, its phased events define the stages), never on a subset.
    Rows carrying ``_lo`` and ``_hi`` (:func:`add_window_ranges`) of rolling
    windows expand them; others join the windows of their event.
    """
    lo, hi = WINDOW_RANGE
    if isinstance(windows, RollingWindows) and lo in rows.collect_schema().names():
        return (
            rows.with_columns(pl.int_ranges(lo, hi, dtype=pl.Int64).alias(WINDOW_INDEX))
            .explode(WINDOW_INDEX, empty_as_null=False)
            .drop(lo, hi)
        )
    event_windows = assign_windows(
        events.select(EVENT_KEY, s.PARTNERSHIP_ID, s.TIMESTAMP, s.PHASE, s.VERSION),
        windows=windows,
    ).select(EVENT_KEY, WINDOW_INDEX)
    return rows.drop(WINDOW_RANGE, strict=False).join(event_windows, on=EVENT_KEY)


def explode_event_list(events: pl.LazyFrame, column: str, name: str) -> pl.LazyFrame:
    """Return one row per (event, distinct value of the event's list ``column``)."""
    return (
        events.select(
            EVENT_KEY,
            s.PARTNERSHIP_ID,
            GROUP,
            s.TIMESTAMP,
            *base_columns(events),
            *window_range_columns(events),
            pl.col(column).alias(name),
        )
        .explode(name)
        .filter(pl.col(name).is_not_null())
    )


def window_range_columns(events: pl.LazyFrame) -> list[str]:
    """Return the window range columns ``events`` carries (none, or ``_lo, _hi``)."""
    names = events.collect_schema().names()
    return [c for c in WINDOW_RANGE if c in names]


def find_partner_intervals(
    events: pl.LazyFrame, intervals: pl.LazyFrame | None
) -> pl.LazyFrame:
    """Return ``intervals`` if given, else the partner intervals of ``events``."""
    if intervals is not None:
        return intervals
    return partner_intervals(select_membership_columns(events))


def select_membership_columns(events: pl.LazyFrame) -> pl.LazyFrame:
    """Return a small frame with the partner intervals of prepared ``events``.

    :func:`engine.partners.partner_intervals` reads partner-role
    appearances only through each organization's first one, plus the
    ``member_joined`` / ``member_left`` events: so one row per (partnership,
    partner org) at its first appearance (the organization appearing on its
    own, in role ``other``), with the membership events as they are, gives the
    same intervals as the whole log, without exploding every participant again.
    """
    schema = events.collect_schema()
    first = (
        events.select(
            s.PARTNERSHIP_ID, s.TIMESTAMP, pl.col(PARTNER_ORGS).alias(s.ORGANIZATION)
        )
        .explode(s.ORGANIZATION)
        .filter(pl.col(s.ORGANIZATION).is_not_null())
        .group_by(s.PARTNERSHIP_ID, s.ORGANIZATION)
        .agg(pl.col(s.TIMESTAMP).min())
        .select(
            s.PARTNERSHIP_ID,
            pl.lit("", pl.String).alias(s.ACTIVITY),
            s.TIMESTAMP,
            pl.col(s.ORGANIZATION).cast(pl.String),
            pl.lit(None, schema[s.ACTOR]).alias(s.ACTOR),
            pl.lit([], schema[s.PARTICIPANTS]).alias(s.PARTICIPANTS),
        )
    )
    membership = events.filter(
        pl.col(s.ACTIVITY).is_in(["member_joined", "member_left"])
    ).select(
        s.PARTNERSHIP_ID,
        s.ACTIVITY,
        s.TIMESTAMP,
        s.ORGANIZATION,
        s.ACTOR,
        s.PARTICIPANTS,
    )
    # Cached: partner_intervals reads it twice, and polars would not share it.
    return pl.concat([first, membership], how="vertical_relaxed").cache()


def pack_columns(names: Sequence[str]) -> tuple[pl.Expr, list[pl.Expr]]:
    """Return one u64 packing the non-negative integer columns ``names``, and the radices.

    Mixed radix, each column's radix its maximum + 1 in the frame, so
    ``(a, b)`` packs to ``a * radix_b + b``: sorting the packed value sorts by
    ``names`` in order, and a single-column sort or run-length encoding
    replaces a multi-column hash group-by (far slower over millions of keys).
    The caller keeps the product of the radices below 2**64
    (:func:`engine.indicators.compute_indicators` partitions larger logs).

    Examples
    --------
    >>> df = pl.DataFrame({"a": [0, 2, 1], "b": [3, 0, 1]})
    >>> z, radices = pack_columns(["a", "b"])
    >>> out = df.select(z.alias("z"), *(r.alias(f"r{i}") for i, r in enumerate(radices)))
    >>> out["z"].to_list()
    [3, 8, 5]
    >>> out.select(unpack_columns(pl.col("z"), ["a", "b"], [pl.col("r0"), pl.col("r1")]))["a"].to_list()
    [0, 2, 1]
    """
    radices = [pl.col(n).max().cast(pl.UInt64).fill_null(0) + 1 for n in names]
    packed = pl.lit(0, pl.UInt64)
    for name, radix in zip(names, radices, strict=True):
        packed = packed * radix + pl.col(name).cast(pl.UInt64)
    return packed, radices


def unpack_columns(
    packed: pl.Expr, names: Sequence[str], radices: Sequence[pl.Expr]
) -> list[pl.Expr]:
    """Return the columns ``names`` (u64) of a value packed by :func:`pack_columns`."""
    out: list[pl.Expr] = []
    rest = packed
    for name, radix in reversed(list(zip(names, radices, strict=True))):
        out.append((rest % radix).alias(name))
        rest = rest // radix
    return out[::-1]

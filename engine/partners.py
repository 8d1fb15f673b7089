"""Partner organizations of a partnership, and which are active at any time.

DOMAIN.md: the partner organizations of a partnership are those that appear in
its events in at least one role other than ``facilitator``, ``mediator`` or
``researcher``; the others are third parties and never count. docs/rules.md
makes it exact:

* an organization *appears* in an event through a participant
  ``{organization, role}``; an event with no participants makes its own
  ``organization`` appear with role ``other`` (and its ``org:resource`` as actor),
  except a ``mediate_conflict``, whose recorder appears as its ``mediator``
  (:func:`own_appearance_role`: a mediator recording its own mediation stays a
  third party);
* a partner is *active at time t* when its first partner-role appearance (or a
  ``member_joined``) is at or before t, unless its latest ``member_left`` at or
  before t is later than its latest ``member_joined`` at or before t.

Five kernels, each a pure LazyFrame -> LazyFrame function over whole
partnerships:

* :func:`explode_appearances`: one row per (event, appearing organization);
* :func:`partner_intervals`: one row per interval during which a partner is active;
* :func:`explode_active_partners` / :func:`active_partners_at`: the active
  partners at given times, one row per partner or one list per time;
* :func:`count_active_partners`: how many are active at given times.

Examples
--------
>>> from datetime import datetime, UTC
>>> import polars as pl
>>> from engine import schema as s
>>> def p(org, role="manager"):
...     return [{"actor": None, "organization": org, "role": role}]
>>> log = pl.LazyFrame(
...     {
...         s.PARTNERSHIP_ID: ["p1"] * 4,
...         s.ACTIVITY: ["initiate_partnership", "explore_expectations",
...                      "member_left", "feedback_meeting"],
...         s.TIMESTAMP: [datetime(2020, m, 1, tzinfo=UTC) for m in (1, 2, 3, 4)],
...         s.ORGANIZATION: ["A", "B", "B", "C"],
...         s.ACTOR: [None] * 4,
...         s.PARTICIPANTS: [p("A"), p("B"), [], p("C", "mediator")],
...     },
...     schema_overrides={s.PARTICIPANTS: pl.List(s.PARTICIPANT_DTYPE)},
... )
>>> at = pl.LazyFrame({s.PARTNERSHIP_ID: ["p1", "p1"],
...                    s.TIMESTAMP: [datetime(2020, 2, 15, tzinfo=UTC),
...                                  datetime(2020, 4, 1, tzinfo=UTC)]})
>>> out = active_partners_at(partner_intervals(log), at).collect()
>>> out[ACTIVE_PARTNERS].to_list()
[['A', 'B'], ['A']]
"""

from __future__ import annotations

import polars as pl

from engine import schema as s

__all__ = [
    "ACTIVE_FROM",
    "ACTIVE_PARTNER",
    "ACTIVE_PARTNERS",
    "ACTIVE_PARTNER_COUNT",
    "ACTIVE_UNTIL",
    "IS_PARTNER_ROLE",
    "ROLE",
    "active_partners_at",
    "count_active_partners",
    "explode_active_partners",
    "explode_appearances",
    "explode_partner_organizations",
    "filter_active_partners",
    "own_appearance_is_partner",
    "own_appearance_role",
    "partner_intervals",
]

ROLE = "role"
IS_PARTNER_ROLE = "is_partner_role"
ACTIVE_FROM = "active_from"
ACTIVE_UNTIL = "active_until"
ACTIVE_PARTNERS = "active_partners"
ACTIVE_PARTNER = "active_partner"
ACTIVE_PARTNER_COUNT = "active_partner_count"

_THIRD_PARTY = sorted(s.THIRD_PARTY_ROLES)
# Its recorder is the mediator: recording one's own mediation is no partner role.
MEDIATION = "mediate_conflict"
_JOIN = "_join_ts"
_LEAVE = "_leave_ts"
_ENTER = "_enter"


def own_appearance_role() -> pl.Expr:
    """Return the role in which an event without participants shows its organization.

    ``mediator`` for a ``mediate_conflict`` (whoever records or leads a
    mediation is its mediator), else ``other``. Reads ``concept:name``.
    """
    mediation = pl.col(s.ACTIVITY) == MEDIATION
    return pl.when(mediation).then(pl.lit("mediator")).otherwise(pl.lit("other"))


def own_appearance_is_partner() -> pl.Expr:
    """Return whether an event without participants shows its organization as partner."""
    return (pl.col(s.ACTIVITY) != MEDIATION).fill_null(value=True)


def explode_appearances(frame: pl.LazyFrame) -> pl.LazyFrame:
    """Return one row per organization appearing in an event.

    The ``participants`` column is replaced by the appearing ``organization``,
    ``org:resource`` (the participant's actor), ``role`` and ``is_partner_role``;
    every other column of ``frame`` is kept. An event without participants makes
    its own organization and actor appear with :func:`own_appearance_role`. Participants
    with a null organization are dropped. Rows come in no particular order.

    Parameters
    ----------
    frame
        Events with at least ``participants``, ``organization`` and ``org:resource``.

    Returns
    -------
    pl.LazyFrame
        The appearances.
    """
    field = pl.col(s.PARTICIPANTS).struct.field
    # An empty (or null) list explodes to one null participant: the event's own.
    own = pl.col(s.PARTICIPANTS).is_null()
    return (
        frame.explode(s.PARTICIPANTS, empty_as_null=True, keep_nulls=True)
        .with_columns(
            pl.when(own).then(pl.col(s.ACTOR)).otherwise(field("actor")).alias(s.ACTOR),
            pl.when(own)
            .then(pl.col(s.ORGANIZATION))
            .otherwise(field("organization"))
            .alias(s.ORGANIZATION),
            pl.when(own)
            .then(own_appearance_role())
            .otherwise(field("role").fill_null("other"))
            .alias(ROLE),
        )
        .drop(s.PARTICIPANTS)
        .filter(pl.col(s.ORGANIZATION).is_not_null())
        .with_columns(pl.col(ROLE).is_in(_THIRD_PARTY).not_().alias(IS_PARTNER_ROLE))
    )


def explode_partner_organizations(frame: pl.LazyFrame) -> pl.LazyFrame:
    """Return one row per partner-role appearance of an organization in an event.

    :func:`explode_appearances` restricted to partner roles, for hot paths: the
    role filter runs on the exploded participants before any column is built.
    ``participants`` (and ``org:resource``, when present) are dropped and
    ``organization`` becomes the appearing organization; other columns are kept.

    Parameters
    ----------
    frame
        Events with at least ``participants``, ``organization`` and ``concept:name``.
    """
    field = pl.col(s.PARTICIPANTS).struct.field
    listed = (
        frame.drop(s.ORGANIZATION, s.ACTOR, strict=False)
        .explode(s.PARTICIPANTS)  # empty lists vanish: they are `own` below
        .filter(_is_partner_role() & field("organization").is_not_null())
        .with_columns(field("organization").alias(s.ORGANIZATION))
        .drop(s.PARTICIPANTS)
    )
    own = frame.filter(
        (pl.col(s.PARTICIPANTS).list.len().fill_null(0) == 0)
        & pl.col(s.ORGANIZATION).is_not_null()
        & own_appearance_is_partner()
    ).drop(s.PARTICIPANTS, s.ACTOR, strict=False)
    return pl.concat([listed, own], how="diagonal")


def _is_partner_role() -> pl.Expr:
    """Return whether a participant's role is a partner role (a null role is ``other``).

    Tests the role itself rather than filling nulls first: no string column is built.
    """
    field = pl.col(s.PARTICIPANTS).struct.field
    return field("role").is_in(_THIRD_PARTY).not_().fill_null(value=True)


def _first_partner_appearances(frame: pl.LazyFrame) -> pl.LazyFrame:
    """Return (partnership, organization, timestamp) of first partner-role appearances.

    Every participant of every event passes through here: the partnership key is
    categorical (integer partnership codes are kept as they are), and rows are
    not filtered before grouping: third-party appearances carry a null time,
    so an organization seen only as a third party has a null first time.
    """
    pid = pl.col(s.PARTNERSHIP_ID)
    if frame.collect_schema()[s.PARTNERSHIP_ID] == pl.String:
        pid = pid.cast(pl.Categorical)
    field = pl.col(s.PARTICIPANTS).struct.field
    listed = (
        frame.select(pid, s.TIMESTAMP, s.PARTICIPANTS)
        .explode(s.PARTICIPANTS)  # empty lists vanish: they are `own` below
        .select(
            s.PARTNERSHIP_ID,
            field("organization").alias(s.ORGANIZATION),
            pl.when(_is_partner_role()).then(pl.col(s.TIMESTAMP)).alias(s.TIMESTAMP),
        )
    )
    own = frame.filter(
        (pl.col(s.PARTICIPANTS).list.len().fill_null(0) == 0)
        & pl.col(s.ORGANIZATION).is_not_null()
        & own_appearance_is_partner()
    ).select(pid, s.ORGANIZATION, s.TIMESTAMP)
    return (
        pl.concat([listed, own])
        .group_by(s.PARTNERSHIP_ID, s.ORGANIZATION)
        .agg(pl.col(s.TIMESTAMP).min())
        .filter(
            pl.col(s.ORGANIZATION).is_not_null() & pl.col(s.TIMESTAMP).is_not_null()
        )
    )


def _membership_changes(frame: pl.LazyFrame) -> pl.LazyFrame:
    """Return (partnership, organization, timestamp, join/leave/enter) change points."""
    key = [s.PARTNERSHIP_ID, s.ORGANIZATION]
    schema = frame.collect_schema()
    first = (
        _first_partner_appearances(frame)
        .select(*(pl.col(k).cast(schema[k]) for k in key), s.TIMESTAMP)
        .cache()
    )
    null_ts = pl.lit(None, dtype=pl.Datetime("us", "UTC"))
    joined = pl.col(s.ACTIVITY) == "member_joined"
    left = pl.col(s.ACTIVITY) == "member_left"
    # A membership event names its organization; without one, the partner
    # organizations among its participants join or leave. Organizations
    # never seen in a partner role are third parties: dropped.
    events = frame.filter(joined | left)
    named = events.filter(pl.col(s.ORGANIZATION).is_not_null()).select(
        s.PARTNERSHIP_ID, s.ACTIVITY, s.TIMESTAMP, s.ORGANIZATION
    )
    person = pl.col(s.PARTICIPANTS).struct.field
    listed = (
        events.filter(pl.col(s.ORGANIZATION).is_null())
        .select(s.PARTNERSHIP_ID, s.ACTIVITY, s.TIMESTAMP, s.PARTICIPANTS)
        .explode(s.PARTICIPANTS)
        .filter(
            person("organization").is_not_null()
            & ~person("role").fill_null("other").is_in(sorted(s.THIRD_PARTY_ROLES))
        )
        .select(
            s.PARTNERSHIP_ID,
            s.ACTIVITY,
            s.TIMESTAMP,
            person("organization").cast(schema[s.ORGANIZATION]).alias(s.ORGANIZATION),
        )
        .unique()
    )
    membership = pl.concat([named, listed]).join(first.select(key), on=key, how="semi")
    changes = pl.concat(
        [
            first.select(
                *key,
                s.TIMESTAMP,
                null_ts.alias(_JOIN),
                null_ts.alias(_LEAVE),
                pl.lit(value=True).alias(_ENTER),
            ),
            membership.select(
                *key,
                s.TIMESTAMP,
                pl.when(joined).then(pl.col(s.TIMESTAMP)).alias(_JOIN),
                pl.when(left).then(pl.col(s.TIMESTAMP)).alias(_LEAVE),
                joined.alias(_ENTER),
            ),
        ]
    )
    # All changes at one instant apply together: the state after them counts.
    return changes.group_by([*key, s.TIMESTAMP]).agg(
        pl.col(_JOIN).max(), pl.col(_LEAVE).max(), pl.col(_ENTER).any()
    )


def _last_row_where(condition: pl.Expr) -> pl.Expr:
    """Return, per row, the index of the latest row so far where ``condition`` held."""
    return pl.when(condition).then(pl.col("_row")).forward_fill()


def partner_intervals(frame: pl.LazyFrame) -> pl.LazyFrame:
    """Return the intervals during which each partner organization is active.

    A partner is active on ``active_from <= t < active_until`` (``active_until``
    null: still active at the end of the log). Organizations seen only in
    third-party roles have no row. A partner never active (it left before it
    first appeared) has one row with null ``active_from`` and ``active_until``,
    so the rows also list every partner organization.

    Parameters
    ----------
    frame
        Whole partnerships: ``case:concept:name``, ``concept:name``,
        ``time:timestamp``, ``organization``, ``org:resource``, ``participants``.

    Returns
    -------
    pl.LazyFrame
        Columns ``case:concept:name``, ``organization``, ``active_from``,
        ``active_until``.
    """
    key = [s.PARTNERSHIP_ID, s.ORGANIZATION]
    ts = pl.col(s.TIMESTAMP)
    group = pl.col("_group")
    # Change points sorted by (partner, time). Every "so far within the group"
    # is a global forward fill of row indices compared with the group's first
    # row: per-group window functions are slow over many tiny groups.
    starts = (group != group.shift(1)).fill_null(value=True)
    since_start = pl.col("_start")

    def seen(column: str) -> pl.Expr:
        return pl.col(column).is_not_null() & (pl.col(column) >= since_start)

    left = seen("_left") & (
        seen("_joined").not_() | (pl.col("_left") > pl.col("_joined"))
    )
    active = pl.col("_active")
    same_as_previous = group == group.shift(1)
    same_as_next = group == group.shift(-1)
    states = (
        _membership_changes(frame)
        .sort(*key, s.TIMESTAMP)
        .with_columns(
            pl.struct(key).rle_id().alias("_group"),
            pl.int_range(pl.len(), dtype=pl.Int64).alias("_row"),
        )
        .with_columns(
            pl.when(starts).then(pl.col("_row")).forward_fill().alias("_start"),
            _last_row_where(pl.col(_JOIN).is_not_null()).alias("_joined"),
            _last_row_where(pl.col(_LEAVE).is_not_null()).alias("_left"),
            _last_row_where(pl.col(_ENTER)).alias("_entered"),
        )
        .with_columns((seen("_entered") & left.not_()).alias("_active"))
        .cache()
    )
    null_ts = pl.lit(None, pl.Datetime("us", "UTC"))
    never_active = (
        states.group_by(key)
        .agg(active.any())
        .filter(active.not_())
        .select(*key, null_ts.alias(ACTIVE_FROM), null_ts.alias(ACTIVE_UNTIL))
    )
    intervals = (
        states.filter(
            active != (same_as_previous & active.shift(1)).fill_null(value=False)
        )
        .with_columns(pl.when(same_as_next).then(ts.shift(-1)).alias(ACTIVE_UNTIL))
        .filter(active)
        .select(*key, ts.alias(ACTIVE_FROM), ACTIVE_UNTIL)
    )
    return pl.concat([intervals, never_active])


def count_active_partners(
    intervals: pl.LazyFrame, at: pl.LazyFrame, *, time_column: str = s.TIMESTAMP
) -> pl.LazyFrame:
    """Return ``at`` with the number of partners active at each row's time.

    A step function per partnership (+1 at each ``active_from``, -1 at each
    ``active_until``) looked up with an as-of join: no row per active partner,
    so it stays cheap in partnerships with hundreds of partners.

    Parameters
    ----------
    intervals
        The output of :func:`partner_intervals`.
    at
        Rows with ``case:concept:name`` and a time column (any other columns kept).
    time_column
        The column of ``at`` holding the time to look up.

    Returns
    -------
    pl.LazyFrame
        ``at`` (in time order) plus ``active_partner_count`` (u32, 0 when none).
    """
    pid = pl.col(s.PARTNERSHIP_ID)
    total = pl.col("_delta").cum_sum()
    # A global running sum minus its value where the partnership began.
    first_step = (pid != pid.shift(1)).fill_null(value=True)
    before = pl.when(first_step).then(total - pl.col("_delta")).forward_fill()
    steps = (
        pl.concat(
            [
                intervals.filter(pl.col(ACTIVE_FROM).is_not_null()).select(
                    s.PARTNERSHIP_ID,
                    pl.col(ACTIVE_FROM).alias("_at"),
                    pl.lit(1, pl.Int64).alias("_delta"),
                ),
                intervals.filter(pl.col(ACTIVE_UNTIL).is_not_null()).select(
                    s.PARTNERSHIP_ID,
                    pl.col(ACTIVE_UNTIL).alias("_at"),
                    pl.lit(-1, pl.Int64).alias("_delta"),
                ),
            ]
        )
        .group_by(s.PARTNERSHIP_ID, "_at")
        .agg(pl.col("_delta").sum())
        .sort(s.PARTNERSHIP_ID, "_at")
        .select(
            s.PARTNERSHIP_ID,
            "_at",
            (total - before).cast(pl.UInt32).alias(ACTIVE_PARTNER_COUNT),
        )
        .sort("_at")
    )
    return (
        at.sort(time_column)
        .join_asof(
            steps,
            left_on=time_column,
            right_on="_at",
            by=s.PARTNERSHIP_ID,
            strategy="backward",
            check_sortedness=False,  # both sides sorted by time just above
        )
        .drop("_at")
        .with_columns(pl.col(ACTIVE_PARTNER_COUNT).fill_null(0))
    )


def filter_active_partners(
    intervals: pl.LazyFrame, rows: pl.LazyFrame, *, time_column: str = s.TIMESTAMP
) -> pl.LazyFrame:
    """Return the ``rows`` whose organization is an active partner at their time.

    Parameters
    ----------
    intervals
        The output of :func:`partner_intervals`.
    rows
        Rows with ``case:concept:name``, ``organization`` and a time column
        (any other columns kept).
    time_column
        The column of ``rows`` holding the time to look up.
    """
    t = pl.col(time_column)
    return (
        rows.join(intervals, on=[s.PARTNERSHIP_ID, s.ORGANIZATION])
        .filter(
            (pl.col(ACTIVE_FROM) <= t)
            & (pl.col(ACTIVE_UNTIL).is_null() | (t < pl.col(ACTIVE_UNTIL)))
        )
        .drop(ACTIVE_FROM, ACTIVE_UNTIL)
    )


def explode_active_partners(
    intervals: pl.LazyFrame, at: pl.LazyFrame, *, time_column: str = s.TIMESTAMP
) -> pl.LazyFrame:
    """Return one row per (row of ``at``, partner active at that row's time).

    Rows of ``at`` with no active partner are dropped; the long form avoids
    building a list per row when only counts or differences are needed.

    Parameters
    ----------
    intervals
        The output of :func:`partner_intervals`.
    at
        Rows with ``case:concept:name`` and a time column (any other columns
        kept, except one named ``active_partner``).
    time_column
        The column of ``at`` holding the time to look up.

    Returns
    -------
    pl.LazyFrame
        ``at``'s columns plus ``active_partner`` (str).
    """
    t = pl.col(time_column)
    return (
        at.join(intervals.rename({s.ORGANIZATION: ACTIVE_PARTNER}), on=s.PARTNERSHIP_ID)
        .filter(
            (pl.col(ACTIVE_FROM) <= t)
            & (pl.col(ACTIVE_UNTIL).is_null() | (t < pl.col(ACTIVE_UNTIL)))
        )
        .drop(ACTIVE_FROM, ACTIVE_UNTIL)
    )


def active_partners_at(
    intervals: pl.LazyFrame, at: pl.LazyFrame, *, time_column: str = s.TIMESTAMP
) -> pl.LazyFrame:
    """Return ``at`` with the sorted list of partners active at each row's time.

    Parameters
    ----------
    intervals
        The output of :func:`partner_intervals`.
    at
        Rows with ``case:concept:name`` and a time column (any other columns kept).
    time_column
        The column of ``at`` holding the time to look up.

    Returns
    -------
    pl.LazyFrame
        ``at`` in its order, plus ``active_partners`` (list of str, empty when none).
    """
    rows = at.with_row_index("_at_row")
    found = (
        explode_active_partners(
            intervals,
            rows.select("_at_row", s.PARTNERSHIP_ID, time_column),
            time_column=time_column,
        )
        .group_by("_at_row")
        .agg(pl.col(ACTIVE_PARTNER).unique().sort().alias(ACTIVE_PARTNERS))
    )
    return (
        rows.join(found, on="_at_row", how="left", maintain_order="left")
        .with_columns(pl.col(ACTIVE_PARTNERS).fill_null(pl.lit([], pl.List(pl.String))))
        .drop("_at_row")
    )

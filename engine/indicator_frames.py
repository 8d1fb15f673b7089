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
from engine.partners import partner_intervals
from engine.selection import drop_engine_events
from engine.windows import WINDOW_INDEX, assign_windows

if TYPE_CHECKING:
    from engine.windows import WindowSpec

__all__ = [
    "EVENT_KEY",
    "GROUP",
    "KEY",
    "KEY_COLUMNS",
    "PARTNER_ACTORS",
    "PARTNER_ORGS",
    "TOP_MANAGER_ORGS",
    "assign_event_windows",
    "explode_event_list",
    "find_partner_intervals",
    "prepare_indicator_events",
    "select_membership_columns",
]

GROUP = "group"
EVENT_KEY = "_event"
KEY = (s.PARTNERSHIP_ID, GROUP, WINDOW_INDEX)
KEY_COLUMNS = list(KEY)
PARTNER_ORGS = "_orgs"
PARTNER_ACTORS = "_actors_list"
TOP_MANAGER_ORGS = "_tm_orgs"


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
        distinct(partner, org).alias(PARTNER_ORGS),
        distinct(partner & actor.is_not_null(), actor).alias(PARTNER_ACTORS),
        distinct((role == "top_manager") & org.is_not_null(), org).alias(
            TOP_MANAGER_ORGS
        ),
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


def explode_event_list(events: pl.LazyFrame, column: str, name: str) -> pl.LazyFrame:
    """Return one row per (event, distinct value of the event's list ``column``)."""
    return (
        events.select(
            EVENT_KEY, s.PARTNERSHIP_ID, GROUP, s.TIMESTAMP, pl.col(column).alias(name)
        )
        .explode(name)
        .filter(pl.col(name).is_not_null())
    )


def find_partner_intervals(
    events: pl.LazyFrame, intervals: pl.LazyFrame | None
) -> pl.LazyFrame:
    """Return ``intervals`` if given, else the partner intervals of ``events``."""
    if intervals is not None:
        return intervals
    return partner_intervals(select_membership_columns(events))


def select_membership_columns(events: pl.LazyFrame) -> pl.LazyFrame:
    """Return the columns :func:`engine.partners.partner_intervals` reads."""
    return events.select(
        s.PARTNERSHIP_ID,
        s.ACTIVITY,
        s.TIMESTAMP,
        s.ORGANIZATION,
        s.ACTOR,
        s.PARTICIPANTS,
    )

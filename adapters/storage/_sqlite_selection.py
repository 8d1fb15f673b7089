"""Which stored events a read picks, said three ways at once.

A read of the SQLite store combines segments (decoded whole, then filtered in
polars) with row-stored events past the last segment (filtered in SQL). A
:class:`Selection` carries the same condition as

* ``rows_sql``: a condition on ``events e``;
* ``segments_sql``: a condition on ``segments g`` that skips segments holding
  none of the selected events (it may keep some that hold none; never the
  reverse);
* ``keep``: a polars predicate on the decoded event frame;

with one parameter tuple shared by both SQL conditions (each uses the
parameters in the same order).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import polars as pl

from adapters.storage._sqlite_connection import IN_JSON
from engine import schema as s

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = [
    "Selection",
    "select_events",
    "select_positions",
    "select_range",
    "select_stream",
]


@dataclass(frozen=True, slots=True)
class Selection:
    """One read condition for rows, segments and decoded frames."""

    rows_sql: str = ""
    segments_sql: str = ""
    parameters: tuple[Any, ...] = ()
    keep: pl.Expr | None = None
    limit: int | None = None


def _stream_positions(where: str) -> str:
    # Segments holding a position of the selected streams' events.
    return (
        "EXISTS (SELECT 1 FROM streams s JOIN partnerships p "
        f"ON p.id = s.partnership WHERE {where} "
        "AND s.position BETWEEN g.first_position AND g.last_position)"
    )


def select_stream(partnership_id: str, from_version: int) -> Selection:
    """Return the selection of one stream from ``from_version`` on."""
    where = "p.name = ? AND s.version >= ?"
    return Selection(
        rows_sql=(
            "e.position IN (SELECT s.position FROM streams s JOIN partnerships p "
            f"ON p.id = s.partnership WHERE {where})"
        ),
        segments_sql=_stream_positions(where),
        parameters=(partnership_id, from_version),
        keep=(pl.col(s.PARTNERSHIP_ID) == partnership_id)
        & (pl.col(s.VERSION) >= from_version),
    )


def select_range(from_position: int, limit: int | None) -> Selection:
    """Return the selection of ``limit`` events (all when None) from a position."""
    if limit is None:
        return Selection(
            rows_sql="e.position >= ?",
            segments_sql="g.last_position >= ?",
            parameters=(from_position,),
            keep=pl.col(s.POSITION) >= from_position,
        )
    # Positions are gapless, so the first ``limit`` events end before this.
    stop = from_position + max(limit, 0)
    return Selection(
        rows_sql="e.position >= ? AND e.position < ?",
        segments_sql="g.last_position >= ? AND g.first_position < ?",
        parameters=(from_position, stop),
        keep=pl.col(s.POSITION).is_between(from_position, stop, closed="left"),
        limit=limit,
    )


def select_positions(positions: Sequence[int]) -> Selection:
    """Return the selection of the events at the given positions."""
    listed = json.dumps([int(p) for p in positions])
    return Selection(
        rows_sql=f"e.position {IN_JSON}",
        segments_sql=(
            "EXISTS (SELECT 1 FROM json_each(?) j "
            "WHERE j.value BETWEEN g.first_position AND g.last_position)"
        ),
        parameters=(listed,),
        keep=pl.col(s.POSITION).is_in([int(p) for p in positions]),
    )


def select_events(
    *,
    partnerships: Sequence[str] | None,
    start_us: int | None,
    end_us: int | None,
) -> Selection:
    """Return the selection of ``to_frame``: partnerships and a UTC time range."""
    rows: list[str] = []
    segments: list[str] = []
    parameters: list[Any] = []
    keep: list[pl.Expr] = []
    if partnerships is not None:
        names = list(partnerships)
        rows.append(
            f"e.partnership IN (SELECT id FROM partnerships WHERE name {IN_JSON})"
        )
        segments.append(_stream_positions(f"p.name {IN_JSON}"))
        parameters.append(json.dumps(names))
        keep.append(pl.col(s.PARTNERSHIP_ID).is_in(names))
    if start_us is not None:
        rows.append("e.timestamp_us >= ?")
        segments.append("g.max_timestamp_us >= ?")
        parameters.append(start_us)
        keep.append(pl.col(s.TIMESTAMP).dt.epoch("us") >= start_us)
    if end_us is not None:
        rows.append("e.timestamp_us < ?")
        segments.append("g.min_timestamp_us < ?")
        parameters.append(end_us)
        keep.append(pl.col(s.TIMESTAMP).dt.epoch("us") < end_us)
    return Selection(
        rows_sql=" AND ".join(rows),
        segments_sql=" AND ".join(segments),
        parameters=tuple(parameters),
        keep=pl.all_horizontal(keep) if keep else None,
    )

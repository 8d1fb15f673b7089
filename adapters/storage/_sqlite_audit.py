"""What ``verify`` checks beyond the hash chains: the copies agree.

An event of the SQLite store can exist in up to three places: a segment, a
row of ``events`` (small appends, kept after sealing), and its key rows
(``event_ids`` with the content hash, ``streams`` with the chain hash). The
chains are verified on the log as it is read (segments, then rows past them);
these checks make sure no other copy says something else:

* segments cover ``1..sealed`` contiguously, each exactly its stated range;
* each row of ``events`` covered by a segment equals the segment's copy;
* the key rows name the same event id, stream, version and hashes.

Every check is a join and a comparison over whole frames.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from engine import schema as s
from engine.recording import BrokenLink

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["audit_copies", "first_broken_link"]

_KEY_COLUMNS = (s.EVENT_ID, s.PARTNERSHIP_ID, s.VERSION, s.CONTENT_HASH, s.HASH)


def _link(row: dict[str, object], reason: str) -> BrokenLink:
    return BrokenLink(
        partnership_id=str(row.get(s.PARTNERSHIP_ID) or ""),
        version=int(row.get(s.VERSION) or 0),  # type: ignore[call-overload]
        position=int(row[s.POSITION]),  # type: ignore[call-overload]
        event_id=str(row.get(s.EVENT_ID) or ""),
        reason=reason,
    )


def _coverage(bounds: pl.DataFrame, log: pl.DataFrame) -> BrokenLink | None:
    """Return the first segment whose range is not the next run of positions."""
    counted = log.group_by("_segment").agg(
        pl.len().alias("_rows"),
        pl.col(s.POSITION).min().alias("_min"),
        pl.col(s.POSITION).max().alias("_max"),
    )
    checked = (
        bounds.with_row_index("_segment")
        .join(counted, on="_segment", how="left")
        .with_columns(
            (pl.col("last_position").shift(1).fill_null(0) + 1).alias("_expected")
        )
        .filter(
            (pl.col("first_position") != pl.col("_expected"))
            | (pl.col("_rows").fill_null(0) != pl.col("events"))
            | (pl.col("_min") != pl.col("first_position"))
            | (pl.col("_max") != pl.col("last_position"))
            | (
                pl.col("events")
                != pl.col("last_position") - pl.col("first_position") + 1
            )
        )
    )
    if checked.is_empty():
        return None
    row = checked.row(0, named=True)
    return BrokenLink(
        partnership_id="",
        version=0,
        position=int(row["first_position"]),
        event_id="",
        reason=(
            f"segment {row['first_position']}..{row['last_position']} does not "
            "cover exactly the next positions of the log (segment tampered)"
        ),
    )


def _differs(
    left: pl.DataFrame, right: pl.DataFrame, columns: Iterable[str]
) -> pl.DataFrame:
    """Return rows of ``left`` whose ``columns`` differ from ``right`` at its position."""
    names = [c for c in columns if c != s.POSITION]
    joined = left.select(s.POSITION, *names).join(
        right.select(s.POSITION, *names), on=s.POSITION, how="left", suffix="_copy"
    )
    return joined.filter(
        pl.any_horizontal(pl.col(c).ne_missing(pl.col(f"{c}_copy")) for c in names)
    ).sort(s.POSITION)


def audit_copies(
    *,
    log: pl.DataFrame,
    bounds: pl.DataFrame,
    sealed_rows: pl.DataFrame,
    keys: pl.DataFrame,
) -> BrokenLink | None:
    """Return the first disagreement between the copies of stored events.

    Parameters
    ----------
    log
        The raw log as read: segments then rows past them, with a ``_segment``
        column (the segment's index in ``bounds``, null for rows).
    bounds
        ``(first_position, last_position, events)`` of every segment, in order.
    sealed_rows
        Raw rows of ``events`` at positions covered by segments.
    keys
        ``(position, event_id, partnership, version, content_hash, hash)`` as
        the key tables hold them, decoded to the event frame's types.
    """
    found: list[BrokenLink] = []
    if not bounds.is_empty():
        broken = _coverage(bounds, log.filter(pl.col("_segment").is_not_null()))
        if broken is not None:
            found.append(broken)
    events = log.drop("_segment")
    differing = _differs(sealed_rows, events, s.EVENT_COLUMNS)
    if not differing.is_empty():
        found.append(
            _link(
                differing.row(0, named=True),
                "stored row differs from its sealed segment copy (event edited)",
            )
        )
    missing = events.join(keys, on=s.POSITION, how="anti").sort(s.POSITION)
    if missing.height or keys.height != events.height:
        row = (missing if missing.height else events.tail(1)).row(0, named=True)
        found.append(_link(row, "key rows and stored events do not match one to one"))
    mismatched = _differs(events, keys, _KEY_COLUMNS)
    if not mismatched.is_empty():
        found.append(
            _link(
                mismatched.row(0, named=True),
                "key rows disagree with the stored event (event or key edited)",
            )
        )
    return first_broken_link(found)


def first_broken_link(links: Iterable[BrokenLink | None]) -> BrokenLink | None:
    """Return the broken link of lowest position (None when there is none)."""
    present = [link for link in links if link is not None]
    return min(present, key=lambda link: link.position) if present else None

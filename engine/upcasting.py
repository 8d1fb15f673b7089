"""Upcasters: pure functions that lift old event layouts to the current one.

Stored events are never rewritten (the log is append-only and hash-chained);
instead, reads pass the frame through a chain of upcasters keyed by
``schema_version``. Version history:

* **1**: the topic of an event was kept as ``attributes.topic``; there was no
  ``workstream`` field.
* **2** (current): ``workstream`` is a field of its own.

Examples
--------
>>> import polars as pl
>>> from engine import schema as s
>>> old = pl.DataFrame({s.SCHEMA_VERSION: [1], s.WORKSTREAM: [None],
...     s.ATTRIBUTES: ['{"topic":"funding","x":1}']},
...     schema={s.SCHEMA_VERSION: pl.Int16, s.WORKSTREAM: pl.String, s.ATTRIBUTES: pl.String})
>>> upcast_event_frame(old).row(0)
(2, 'funding', '{"topic":"funding","x":1}')
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from engine import schema as s

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["UPCASTERS", "upcast_event_frame"]


def _upcast_v1_to_v2(frame: pl.DataFrame) -> pl.DataFrame:
    is_v1 = pl.col(s.SCHEMA_VERSION) == 1
    topic = pl.col(s.ATTRIBUTES).str.json_path_match("$.topic")
    return frame.with_columns(
        pl.when(is_v1)
        .then(pl.coalesce(pl.col(s.WORKSTREAM), topic))
        .otherwise(pl.col(s.WORKSTREAM))
        .alias(s.WORKSTREAM),
        pl.when(is_v1)
        .then(pl.lit(2, pl.Int16))
        .otherwise(pl.col(s.SCHEMA_VERSION))
        .alias(s.SCHEMA_VERSION),
    )


# from-version -> function lifting rows of that version by one.
UPCASTERS: dict[int, Callable[[pl.DataFrame], pl.DataFrame]] = {1: _upcast_v1_to_v2}


def upcast_event_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """Return ``frame`` with every row lifted to the current schema version."""
    for version in sorted(UPCASTERS):
        if frame.is_empty():
            break
        if frame.select((pl.col(s.SCHEMA_VERSION) == version).any()).item():
            frame = UPCASTERS[version](frame)
    return frame

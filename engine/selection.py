"""Selecting the partners' own events out of a log.

The log also holds events partnermine writes itself (``alert_raised``,
``personal_data_erased``). They are facts about the monitoring, not about the
partnership: mining, rules and indicators read the partners' events only.

Examples
--------
>>> import polars as pl
>>> frame = pl.DataFrame({"concept:name": ["start_action", "alert_raised"]})
>>> drop_engine_events(frame)["concept:name"].to_list()
['start_action']
"""

from __future__ import annotations

from typing import TypeVar

import polars as pl

from engine import schema as s

__all__ = ["drop_engine_events"]

FrameT = TypeVar("FrameT", pl.DataFrame, pl.LazyFrame)


def drop_engine_events(frame: FrameT) -> FrameT:
    """Return ``frame`` without the events partnermine wrote itself."""
    engine_written = pl.col(s.ACTIVITY).is_in(sorted(s.ENGINE_ACTIVITIES))
    return frame.filter(~engine_written.fill_null(value=False))

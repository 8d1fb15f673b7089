"""Columnar segments: runs of recorded events kept as Arrow IPC in the store.

A bulk batch is stored once, as segments: each a run of consecutive positions
(at most :data:`SEGMENT_MAX_EVENTS` events) serialized as one Arrow IPC file
(zstd level 1 buffers: cheap to write, and the fewer bytes pass through
SQLite's pages and the WAL, the faster both ways) in the ``segments`` table, beside the key rows that
enforce uniqueness and carry the hash chain (``event_ids``, ``streams``).
Reading a segment back is a buffer decode, not a value-by-value row decode,
which is what makes whole-log reads fast.

Small appends are stored as rows of ``events`` first; once
:data:`SEAL_EVENTS` of them have accumulated past the last segment they are
*sealed*: copied, unchanged, into one more segment. The rows stay (every table
is append-only). So segments always cover positions ``1..sealed`` without gap,
and every position after ``sealed`` is a row of ``events``.

The IPC bytes hold the raw (not upcast) event frame in
:data:`engine.schema.EVENT_SCHEMA`, so a segment decodes to exactly what the
row path decodes to; ``verify`` checks that this stays true.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Final

import polars as pl
import pyarrow as pa
import pyarrow.ipc as ipc

from engine import schema as s

__all__ = [
    "CACHE_EVENTS",
    "SEAL_EVENTS",
    "SEGMENT_FORMAT",
    "SEGMENT_MAX_EVENTS",
    "SegmentCache",
    "decode_segment",
    "encode_segment",
    "split_into_segments",
]

# Identifies the payload encoding, so a later layout can be told apart.
SEGMENT_FORMAT: Final = "arrow-ipc-zstd/1"
# Upper bound on the events of one segment: a reader of a few positions
# decodes at most this many.
SEGMENT_MAX_EVENTS: Final = 1 << 18
# Row-stored events past the last segment that trigger sealing; also the
# smallest batch written straight to segments.
SEAL_EVENTS: Final = 4096
# Decoded segments kept in memory per store handle, in events.
CACHE_EVENTS: Final = 1 << 21


_OPTIONS: Final = ipc.IpcWriteOptions(compression=pa.Codec("zstd", 1))


def encode_segment(frame: pl.DataFrame) -> bytes:
    """Return the Arrow IPC file bytes of a raw event frame."""
    # Offset-based strings, not views: a view column of a slice still points
    # into the whole frame's buffers, which IPC would write out in full.
    table = (
        frame.select(s.EVENT_COLUMNS)
        .cast(s.EVENT_SCHEMA)
        .to_arrow(compat_level=pl.CompatLevel.oldest())
    )
    sink = pa.BufferOutputStream()
    with ipc.new_file(sink, table.schema, options=_OPTIONS) as writer:
        writer.write_table(table)
    payload: bytes = sink.getvalue().to_pybytes()
    return payload


def decode_segment(payload: bytes | pa.Buffer) -> pl.DataFrame:
    """Return the raw event frame stored as ``payload`` (no copy of a Buffer)."""
    table = ipc.open_file(
        pa.py_buffer(payload) if isinstance(payload, bytes) else payload
    ).read_all()
    frame = pl.from_arrow(table)
    if not isinstance(frame, pl.DataFrame):  # pragma: no cover - a table gives a frame
        msg = "a segment must decode to a table"
        raise TypeError(msg)
    return frame.cast(s.EVENT_SCHEMA)


def split_into_segments(frame: pl.DataFrame) -> list[pl.DataFrame]:
    """Return position-ordered ``frame`` as runs of at most SEGMENT_MAX_EVENTS."""
    return [
        frame.slice(offset, SEGMENT_MAX_EVENTS)
        for offset in range(0, frame.height, SEGMENT_MAX_EVENTS)
    ]


class SegmentCache:
    """Decoded segments by first position; the least recently used go first.

    Segments never change once written, so a decoded one stays right for the
    life of the handle: a process that reads the same history again (``watch``
    re-reading the partnerships a new event touched) decodes it once. Frames
    share their buffers with whoever received them, so a hit costs no copy.
    ``verify`` bypasses the cache: it must read what is on disk.
    """

    def __init__(self, max_events: int = CACHE_EVENTS) -> None:
        self._max_events = max_events
        self._events = 0
        self._frames: OrderedDict[int, pl.DataFrame] = OrderedDict()

    def get(self, first_position: int) -> pl.DataFrame | None:
        """Return the cached segment starting at ``first_position``, if any."""
        frame = self._frames.get(first_position)
        if frame is not None:
            self._frames.move_to_end(first_position)
        return frame

    def put(self, first_position: int, frame: pl.DataFrame) -> None:
        """Keep a decoded segment, evicting the least recently used beyond the cap."""
        if frame.height > self._max_events or first_position in self._frames:
            return
        self._frames[first_position] = frame
        self._events += frame.height
        while self._events > self._max_events:
            _, evicted = self._frames.popitem(last=False)
            self._events -= evicted.height

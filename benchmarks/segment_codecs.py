"""Print the size and decode time of segment encodings the SQLite store could use.

Usage::

    .venv/bin/python -m benchmarks.segment_codecs [--events 1000000] [--repeat 3]

Records ``--events`` synthetic events (benchmarks/data.py) in a temporary
SQLite store, reads them back, splits them into segments as the store does
(:func:`adapters.storage._sqlite_segments.split_into_segments`) and, for each
encoding, prints the bytes of all segments and the best wall and CPU time of
decoding them all into polars frames: the store's own (Arrow IPC through
pyarrow, zstd level 1), Arrow IPC with lz4, and polars' native IPC with lz4 or
no compression. A whole-log read is this decode plus copying the bytes out of
SQLite, so fewer bytes also count (on writes too: every byte passes through
the WAL).
"""

from __future__ import annotations

import argparse
import io
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl
import pyarrow as pa
import pyarrow.ipc as ipc

from adapters.clock import SystemClock
from adapters.storage._sqlite_segments import (
    decode_segment,
    encode_segment,
    split_into_segments,
)
from adapters.storage.sqlite import SqliteEventStore
from benchmarks.data import generate_input_frame
from engine import schema as s

if TYPE_CHECKING:
    from collections.abc import Callable

_LZ4 = ipc.IpcWriteOptions(compression=pa.Codec("lz4_frame"))


def _encode_arrow_lz4(frame: pl.DataFrame) -> bytes:
    table = frame.to_arrow(compat_level=pl.CompatLevel.oldest())
    sink = pa.BufferOutputStream()
    with ipc.new_file(sink, table.schema, options=_LZ4) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def _polars_ipc(compression: str) -> Callable[[pl.DataFrame], bytes]:
    def encode(frame: pl.DataFrame) -> bytes:
        sink = io.BytesIO()
        frame.write_ipc(sink, compression=compression)  # type: ignore[arg-type]
        return sink.getvalue()

    return encode


def _decode_polars(payload: bytes) -> pl.DataFrame:
    return pl.read_ipc(io.BytesIO(payload))


CODECS: dict[
    str, tuple[Callable[[pl.DataFrame], bytes], Callable[..., pl.DataFrame]]
] = {
    "store (Arrow IPC, zstd 1)": (encode_segment, decode_segment),
    "Arrow IPC, lz4": (_encode_arrow_lz4, decode_segment),  # reads any codec
    "polars IPC, lz4": (_polars_ipc("lz4"), _decode_polars),
    "polars IPC, uncompressed": (_polars_ipc("uncompressed"), _decode_polars),
}


def recorded_events(n_events: int, folder: Path) -> pl.DataFrame:
    """Return ``n_events`` recorded events (raw layout) from a new SQLite store."""
    store = SqliteEventStore(folder / "store.db", clock=SystemClock(), create=True)
    try:
        store.append_frame(
            generate_input_frame(
                n_events=n_events, n_partnerships=max(1, n_events // 500), seed=42
            )
        )
        return store.to_frame().select(s.EVENT_COLUMNS).cast(s.EVENT_SCHEMA)
    finally:
        store.close()


def main() -> None:
    """Record the events, then print each encoding's size and decode time."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        events = recorded_events(args.events, Path(tmp))
    segments = split_into_segments(events)
    print(f"{events.height:,} events in {len(segments)} segments")
    print(f"{'encoding':<28} {'MB':>8} {'decode s':>9} {'cpu s':>7}")
    for name, (encode, decode) in CODECS.items():
        payloads = [encode(segment) for segment in segments]
        best, cpu = float("inf"), float("inf")
        for _ in range(args.repeat):
            start, start_cpu = time.perf_counter(), time.process_time()
            decoded = pl.concat([decode(payload) for payload in payloads])
            wall = time.perf_counter() - start
            if wall < best:
                best, cpu = wall, time.process_time() - start_cpu
        assert decoded.equals(events), f"{name} does not round-trip"
        size = sum(len(payload) for payload in payloads) / 1e6
        print(f"{name:<28} {size:>8.1f} {best:>9.3f} {cpu:>7.3f}")


if __name__ == "__main__":
    main()

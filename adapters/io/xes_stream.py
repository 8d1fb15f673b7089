"""Stream an XES file in blocks of whole traces, each read the fastest way it allows.

The file (plain or gzip) is read in blocks of about ``block_bytes``
decompressed bytes, each cut just after a ``</trace>``, so every block holds
whole traces and can be assembled on its own: memory is bounded by the block
size plus the events assembled so far. A block in the canonical layout is read
by the numpy scanner (:mod:`adapters.io.xes_bytes`); any other block by the
polars tag reader (:mod:`adapters.io.xes_text`); a file neither handles raises
:class:`adapters.io.xes_text.UnusualLayout` for the lxml fallback.
"""

from __future__ import annotations

import gzip
import zlib
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, cast

import numpy as np

from adapters.io.xes_bytes import scan_block_bytes
from adapters.io.xes_text import UnusualLayout, XesParts, scan_block_text
from engine.errors import ValidationError

if TYPE_CHECKING:
    from collections.abc import Callable, Generator, Iterator
    from pathlib import Path

__all__ = [
    "DEFAULT_BLOCK_BYTES",
    "Block",
    "ScannedBlock",
    "check_blocks",
    "iter_blocks",
    "open_xes_binary",
    "scan_block",
]

DEFAULT_BLOCK_BYTES = 8 << 20
_NEWLINE = 10


def open_xes_binary(path: Path) -> tuple[IO[bytes], IO[bytes]]:
    """Return ``(stream, raw file)``: decompressed when the file is gzip."""
    raw = path.open("rb")
    magic = raw.read(2)
    raw.seek(0)
    if magic == b"\x1f\x8b":
        return cast("IO[bytes]", gzip.GzipFile(fileobj=raw, mode="rb")), raw
    return raw, raw


def _count_newlines(data: bytes) -> int:
    # numpy counts without holding the GIL (bytes.count holds it), so the
    # block workers are not stalled while this thread reads ahead.
    return int(np.count_nonzero(np.frombuffer(data, dtype=np.uint8) == _NEWLINE))


def _read_blocks(
    path: Path, block_bytes: int, on_progress: Callable[[int], None] | None
) -> Iterator[tuple[bytes, int]]:
    """Yield ``(block, its newline count)``.

    The next block is read (and decompressed: zlib releases the GIL) by a
    helper thread while the caller works on the current one; at most one
    block is read ahead.
    """
    stream, raw = open_xes_binary(path)

    def read_next() -> tuple[bytes, int]:
        return stream.read(block_bytes), raw.tell()

    buffer = b""
    lines_done = 1

    def take(pending: Future[tuple[bytes, int]]) -> bytes:
        try:
            data, done = pending.result()
        except (EOFError, OSError, zlib.error) as e:
            lines = lines_done + buffer.count(b"\n")
            msg = f"truncated or corrupt compressed file: {e}"
            raise ValidationError(msg, source=str(path), line=lines) from e
        if on_progress is not None:
            on_progress(done)
        return data

    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="xes-read")
    try:
        data = take(pool.submit(read_next))
        while data:
            pending = pool.submit(read_next)
            buffer += data
            # A short read is most likely the end: then the tail (``</log>``)
            # joins the last block instead of being scanned on its own.
            following = take(pending) if len(data) < block_bytes else None
            if following == b"":
                break
            cut = buffer.rfind(b"</trace>")
            if cut >= 0:
                newline = buffer.find(b"\n", cut)
                cut = newline + 1 if newline >= 0 else cut + len(b"</trace>")
                block, buffer = buffer[:cut], buffer[cut:]
                newlines = _count_newlines(block)
                lines_done += newlines
                yield block, newlines
            data = following if following is not None else take(pending)
        yield buffer, _count_newlines(buffer)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        stream.close()
        raw.close()


@dataclass(frozen=True)
class Block:
    """A block of whole traces as read: its bytes, where it starts, its place."""

    data: bytes
    first_line: int
    index: int


@dataclass(frozen=True)
class ScannedBlock:
    """The long form of one block, its indexes counted from the block's start."""

    parts: XesParts
    has_root: bool
    closes_log: bool


def iter_blocks(
    path: Path,
    *,
    block_bytes: int = DEFAULT_BLOCK_BYTES,
    on_progress: Callable[[int], None] | None = None,
) -> Generator[Block, None, None]:
    """Yield the XES file at ``path`` in blocks of whole traces, each numbered.

    Blocks end after a ``</trace>``, so each holds whole traces and can be
    scanned and assembled on its own (:func:`scan_block`), in any order.
    """
    first_line = 1
    for index, (data, newlines) in enumerate(
        _read_blocks(path, block_bytes, on_progress)
    ):
        yield Block(data=data, first_line=first_line, index=index)
        first_line += newlines


def scan_block(block: Block, *, source: str, use_bytes: bool = True) -> ScannedBlock:
    """Return the long form of one block, its event and trace indexes from 0.

    The block is read by the numpy scanner of :mod:`adapters.io.xes_bytes` when
    it has the canonical layout (and ``use_bytes``), else by the polars
    line/tag path of :mod:`adapters.io.xes_text`. The first block holds the
    root element, which is checked there.

    Raises
    ------
    UnusualLayout
        The block needs the general parser (also when it is malformed, so that
        the general parser can name the line).
    ValidationError
        The file is not XES (wrong root) or not UTF-8.
    """
    first = block.index == 0
    scan = None
    if use_bytes:
        # Character references and CDATA are found by the scanner itself.
        try:
            scan = scan_block_bytes(block.data, block.first_line)
        except UnusualLayout:
            scan = None
        except ValidationError as e:
            raise ValidationError(e.reason, source=source, line=e.line) from e
    if scan is None:
        scan = scan_block_text(
            block.data, block.first_line, check_root=first, source=source
        )
    root = scan.root if first else None
    if root is not None:
        name, line = root
        if name != "log":
            if name.endswith(":log"):
                msg = "namespace-prefixed XES"
                raise UnusualLayout(msg)
            msg = f"not an XES file: the root element is <{name}>, not <log>"
            raise ValidationError(msg, source=source, line=line, field="log")
    return ScannedBlock(
        parts=XesParts(
            events=[scan.events],
            event_attrs=[scan.event_attrs],
            trace_attrs=[scan.trace_attrs],
        ),
        has_root=root is not None,
        closes_log=scan.closes_log,
    )


def check_blocks(*, opens_log: bool, last: ScannedBlock, source: str) -> None:
    """Raise unless the file's first block opened the log and its last closes it.

    Raises
    ------
    ValidationError
        No ``<log>`` element: not an XES file.
    UnusualLayout
        No closing ``</log>``: the general parser names where the file ends.
    """
    if not opens_log:
        msg = "not an XES file: no <log> element"
        raise ValidationError(msg, source=source, line=1, field="log")
    if not last.closes_log:
        msg = "no closing </log>"
        raise UnusualLayout(msg)

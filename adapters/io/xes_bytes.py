"""The fastest XES path: locate every tag, quote and newline with numpy, at once.

For the canonical layout that XES writers (OpenXES, pm4py, ProM, partnermine)
produce, every tag is ``<kind key="k" value="v"/>``, ``<event>``,
``</event>``, ``<trace>`` or ``</trace>`` inside traces. This module finds the
byte positions of all ``<``, ``>`` and ``"`` of a block with numpy, checks that
every tag inside a trace has exactly that shape, recovers the nesting with
cumulative sums, and cuts keys and values out of the block as one Arrow string
array. No Python step runs per element.

Any other shape in a block raises :class:`adapters.io.xes_text.UnusualLayout`,
and that block is read by the (slower, more general) polars path instead.
"""

from __future__ import annotations

import re

import numpy as np
import polars as pl
import pyarrow as pa

from adapters.io.xes_text import (
    ATTRIBUTE_KINDS,
    BlockScan,
    UnusualLayout,
    normalize_attribute_values,
)
from engine.errors import ValidationError

__all__ = ["BlockScan", "scan_block_bytes"]

_LT, _GT, _QUOTE, _SLASH, _NL = 60, 62, 34, 47, 10
_STRUCTURE = ("event", "/event", "trace", "/trace", "/log", "log")
_NAMES = (*ATTRIBUTE_KINDS, *_STRUCTURE)
_EVENT, _END_EVENT, _TRACE, _END_TRACE, _END_LOG, _LOG = range(
    len(ATTRIBUTE_KINDS), len(_NAMES)
)
_OTHER = len(_NAMES)
_PAD = 16  # reads past the end of a block (names, short strings) see zeros
_KIND_NAMES = pl.Series("kind", ATTRIBUTE_KINDS, dtype=pl.String)


def _positions(arr: np.ndarray, byte: int) -> np.ndarray:
    return np.flatnonzero(arr == byte)


_DELIMITER = np.zeros(256, dtype=bool)
_DELIMITER[[32, 9, 10, 13, _GT, _SLASH]] = True
_NAMES_BY_LENGTH: dict[int, list[tuple[int, np.uint64]]] = {}
for _code, _name in enumerate(_NAMES):
    _NAMES_BY_LENGTH.setdefault(len(_name), []).append(
        (_code, np.uint64(int.from_bytes(_name.encode(), "little")))
    )


def _name_codes(padded: np.ndarray, lt: np.ndarray) -> np.ndarray:
    """Return the code of each tag's name (``_OTHER`` when not one we know).

    The 8 bytes after each ``<`` are read as one little-endian integer (one
    gather through a 1-byte-stride view), so a name test is a mask, a compare
    and a delimiter lookup per tag, the mask and lookup shared by the names
    of one length.
    """
    words = np.ndarray(
        shape=(padded.size - 8,), dtype="<u8", buffer=padded, strides=(1,)
    )[lt + 1]
    codes = np.full(lt.size, _OTHER, dtype=np.int8)
    for length, names in _NAMES_BY_LENGTH.items():
        masked = words & np.uint64((1 << (8 * length)) - 1)
        follower = (words >> np.uint64(8 * length)).astype(np.uint8)
        delimited = _DELIMITER[follower]
        for code, word in names:
            codes[delimited & (masked == word)] = code
    return codes


def _words(padded: np.ndarray, dtype: str) -> np.ndarray:
    """Return a view of ``padded`` whose element i is the integer at byte i."""
    size = np.dtype(dtype).itemsize
    return np.ndarray(
        shape=(padded.size - size + 1,), dtype=dtype, buffer=padded, strides=(1,)
    )


def _low_bytes(words: np.ndarray, count: np.ndarray) -> np.ndarray:
    """Return ``words`` (uint64) keeping only their first ``count`` bytes (0..8)."""
    bits = (np.clip(count, 0, 8) * 8).astype(np.uint64)
    mask = np.where(
        bits >= 64, np.uint64(0xFFFFFFFFFFFFFFFF), (np.uint64(1) << bits) - np.uint64(1)
    )
    return words & mask


def _strings(
    block: bytes, padded: np.ndarray, starts: np.ndarray, ends: np.ndarray
) -> pl.Series:
    """Return ``block[starts[i]:ends[i]]`` for every i as a String column, zero-copy.

    Builds Arrow string views (16 bytes each: length, then the string itself
    when it fits in 12 bytes, else its first 4 bytes and its offset in the
    block), so the text is never copied; polars stores strings as views too.
    The 12 inline bytes are read as one 8-byte and one 4-byte integer each.
    """
    n = starts.size
    lengths = ends - starts
    head = _low_bytes(_words(padded, "<u8")[starts], lengths)
    tail = _low_bytes(_words(padded, "<u4")[starts + 8].astype(np.uint64), lengths - 8)
    views = np.empty((n, 4), dtype=np.uint32)
    views[:, 0] = lengths
    views[:, 1] = head & np.uint64(0xFFFFFFFF)
    views[:, 2] = head >> np.uint64(32)
    views[:, 3] = tail
    long = lengths > 12
    views[long, 2] = 0
    views[long, 3] = starts[long]
    array = pa.Array.from_buffers(
        pa.string_view(), n, [None, pa.py_buffer(views), pa.py_buffer(block)]
    )
    return pl.Series(pl.from_arrow(array))


def _word_of(text: bytes) -> np.uint64:
    return np.uint64(int.from_bytes(text.ljust(8, b"\0"), "little"))


_KEY_WORD, _KEY_MASK = _word_of(b' key="'), _word_of(b"\xff" * 6)
_VALUE_WORD = _word_of(b' value="')
_KIND_LENGTHS = np.array([len(n) for n in ATTRIBUTE_KINDS])


def _check_attribute_tags(
    padded: np.ndarray,
    lt: np.ndarray,
    gt: np.ndarray,
    qs: np.ndarray,
    codes: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return the four quote positions of each tag; raise unless every tag is canonical.

    Canonical: ``<kind key="k" value="v"/>`` (or ``... />``), with nothing
    else in the tag; the fixed parts are compared as 8-byte integers.
    """
    k = np.searchsorted(qs, lt)
    if k.size and k.max() + 3 >= qs.size:
        msg = "attribute without quotes"
        raise UnusualLayout(msg)
    q1, q2, q3, q4 = qs[k], qs[k + 1], qs[k + 2], qs[k + 3]
    after = np.append(qs, np.iinfo(np.int64).max)[k + 4]
    words = _words(padded, "<u8")
    shape = (
        (q1 == lt + _KIND_LENGTHS[codes] + 6)  # '<' name ' key="'
        & ((words[q1 - 5] & _KEY_MASK) == _KEY_WORD)
        & (q3 == q2 + 8)  # '" value="'
        & (words[q2 + 1] == _VALUE_WORD)
        & (padded[gt - 1] == _SLASH)
        & ((gt == q4 + 2) | ((gt == q4 + 3) & (padded[q4 + 1] == 32)))
        & (after > gt)
    )
    if not shape.all():
        msg = "attribute element not in the canonical shape"
        raise UnusualLayout(msg)
    return q1, q2, q3, q4


def _root(
    arr: np.ndarray,
    lt: np.ndarray,
    gt: np.ndarray,
    codes: np.ndarray,
    line_of: np.ndarray,
) -> tuple[str, int] | None:
    first = arr[np.minimum(lt + 1, arr.size - 1)]
    elements = np.flatnonzero((first != ord("?")) & (first != ord("!")))
    if elements.size == 0:
        return None
    i = int(elements[0])
    if codes[i] == _LOG:
        head = arr[lt[0] : gt[0] + 1].tobytes() if first[0] == ord("?") else b""
        found = re.search(rb"""encoding\s*=\s*["']([^"']+)["']""", head)
        if found and found.group(1).lower() not in (b"utf-8", b"utf8"):
            msg = "not UTF-8"
            raise UnusualLayout(msg)
        return "log", int(line_of[i])
    tag = arr[lt[i] + 1 : gt[i]].tobytes().decode("utf-8", "replace")
    return re.split(r"[\s/>]", tag, maxsplit=1)[0], int(line_of[i])


def _nesting(
    codes: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    opens_trace = codes == _TRACE
    opens_event = codes == _EVENT
    trace_depth = np.cumsum(opens_trace, dtype=np.int64) - np.cumsum(
        codes == _END_TRACE, dtype=np.int64
    )
    event_depth = np.cumsum(opens_event, dtype=np.int64) - np.cumsum(
        codes == _END_EVENT, dtype=np.int64
    )
    inside = (trace_depth > 0) | (codes == _END_TRACE)
    bad = (
        (trace_depth < 0)
        | (trace_depth > 1)
        | (event_depth < 0)
        | (event_depth > 1)
        | (opens_event & (trace_depth != 1))
        | (event_depth > trace_depth)
        | (inside & (codes >= _END_LOG))
    )
    if bad.any() or (trace_depth.size and trace_depth[-1] != 0):
        msg = "nesting outside the canonical layout"
        raise UnusualLayout(msg)
    return (
        trace_depth,
        event_depth,
        np.cumsum(opens_trace, dtype=np.int64) - 1,
        np.cumsum(opens_event, dtype=np.int64) - 1,
    )


def _check_plain_text(block: bytes, padded: np.ndarray, lt: np.ndarray) -> np.ndarray:
    """Return the tags an ``&`` follows (by index), as a mask over ``lt``.

    Raises
    ------
    UnusualLayout
        The block has character references (``&#``) or CDATA.
    """
    after_amp = np.zeros(lt.size, dtype=bool)
    if b"&" in block:
        amp = _positions(padded[:-_PAD], ord("&"))
        if (padded[amp + 1] == ord("#")).any():
            msg = "character references"
            raise UnusualLayout(msg)
        tag = np.searchsorted(lt, amp, side="right") - 1
        after_amp[tag[tag >= 0]] = True
    if ((padded[lt + 1] == ord("!")) & (padded[lt + 2] == ord("["))).any():
        msg = "CDATA"
        raise UnusualLayout(msg)
    return after_amp


def scan_block_bytes(block: bytes, first_line: int) -> BlockScan:
    """Return the events, event attributes and trace attributes of one block.

    Event and trace indexes count from the block's start.

    Raises
    ------
    UnusualLayout
        The block is not in the canonical layout (read it another way).
    ValidationError
        The block is not UTF-8.
    """
    try:
        if not block.isascii():
            block.decode("utf-8")
    except UnicodeDecodeError as e:
        line = first_line + block[: e.start].count(b"\n")
        msg = f"not UTF-8 text: {e.reason}"
        raise ValidationError(msg, line=line) from e
    arr = np.frombuffer(block, dtype=np.uint8)
    lt, gt = _positions(arr, _LT), _positions(arr, _GT)
    if lt.size != gt.size or (
        lt.size and ((lt >= gt).any() or (gt[:-1] >= lt[1:]).any())
    ):
        msg = "'<' and '>' do not alternate"
        raise UnusualLayout(msg)
    padded = np.concatenate([arr, np.zeros(_PAD, dtype=np.uint8)])
    after_amp = _check_plain_text(block, padded, lt)
    codes = _name_codes(padded, lt)
    newlines = _positions(arr, _NL)
    structural = (codes >= _EVENT) & (codes <= _END_TRACE)
    if (
        structural & (gt != lt + 1 + np.array([len(n) for n in _NAMES] + [0])[codes])
    ).any():
        msg = "structural element with attributes"
        raise UnusualLayout(msg)
    trace_depth, event_depth, trace_idx, event_idx = _nesting(codes)
    is_attr = codes < len(ATTRIBUTE_KINDS)
    inside = is_attr & (trace_depth == 1)
    rows = np.flatnonzero(inside)
    q1, q2, q3, q4 = _check_attribute_tags(
        padded, lt[rows], gt[rows], _positions(arr, _QUOTE), codes[rows]
    )
    in_event = event_depth[rows] == 1
    has_entities = b"&" in block
    escaped = after_amp[rows]

    def attributes(which: np.ndarray, index: str, numbers: np.ndarray) -> pl.DataFrame:
        frame = pl.DataFrame(
            {
                index: numbers[rows[which]],
                "key": _strings(block, padded, q1[which] + 1, q2[which]),
                "kind": _KIND_NAMES.gather(codes[rows[which]]),
                "value": _strings(block, padded, q3[which] + 1, q4[which]),
            }
        )
        return normalize_attribute_values(
            frame,
            has_entities=has_entities,
            escaped=pl.Series(np.flatnonzero(escaped[which]), dtype=pl.UInt32),
        )

    event_attrs = attributes(in_event, "event_idx", event_idx)
    trace_attrs = attributes(~in_event, "trace_idx", trace_idx)
    event_rows = np.flatnonzero(codes == _EVENT)
    line_of_event = first_line + np.searchsorted(newlines, lt[event_rows])
    root_line = first_line + np.searchsorted(newlines, lt[: min(lt.size, 64)])
    return BlockScan(
        events=pl.DataFrame(
            {
                "event_idx": event_idx[event_rows],
                "trace_idx": trace_idx[event_rows],
                "line": line_of_event.astype(np.int64),
            }
        ),
        event_attrs=event_attrs.with_columns(pl.lit(None, pl.Int64).alias("line")),
        trace_attrs=trace_attrs,
        root=_root(arr, lt[:64], gt[:64], codes[:64], root_line),
        closes_log=bool((codes == _END_LOG).any()),
    )

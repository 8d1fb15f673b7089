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
_KIND_TEXT = dict(enumerate(ATTRIBUTE_KINDS))


def _positions(arr: np.ndarray, byte: int) -> np.ndarray:
    return np.flatnonzero(arr == byte)


_DELIMITER = np.zeros(256, dtype=bool)
_DELIMITER[[32, 9, 10, 13, _GT, _SLASH]] = True


def _name_codes(padded: np.ndarray, lt: np.ndarray) -> np.ndarray:
    """Return the code of each tag's name (``_OTHER`` when not one we know).

    The 8 bytes after each ``<`` are read as one little-endian integer, so a
    name test is a mask, a compare and a delimiter lookup per tag.
    """
    window = padded[lt[:, None] + np.arange(1, 9)]
    words = np.ascontiguousarray(window).view("<u8").ravel()
    codes = np.full(lt.size, _OTHER, dtype=np.int8)
    for code, name in enumerate(_NAMES):
        raw = name.encode()
        mask = (1 << (8 * len(raw))) - 1
        follower = (words >> np.uint64(8 * len(raw))) & np.uint64(0xFF)
        hit = (
            (words & np.uint64(mask)) == np.uint64(int.from_bytes(raw, "little"))
        ) & _DELIMITER[follower]
        codes[hit] = code
    return codes


def _strings(
    block: bytes, padded: np.ndarray, starts: np.ndarray, ends: np.ndarray
) -> pl.Series:
    """Return ``block[starts[i]:ends[i]]`` for every i as a String column, zero-copy.

    Builds Arrow string views (16 bytes each: length, then the string itself
    when it fits in 12 bytes, else its first 4 bytes and its offset in the
    block), so the text is never copied; polars stores strings as views too.
    """
    n = starts.size
    lengths = (ends - starts).astype(np.int32)
    views = np.empty((n, 16), dtype=np.uint8)
    views[:, 4:] = np.lib.stride_tricks.sliding_window_view(padded, 12)[starts]
    views[:, 4:][np.arange(12) >= lengths[:, None]] = 0
    words = views.view(np.int32)  # (n, 4): length, prefix, buffer, offset
    words[:, 0] = lengths
    long = np.flatnonzero(lengths > 12)
    words[long, 2] = 0
    words[long, 3] = starts[long]
    array = pa.Array.from_buffers(
        pa.string_view(), n, [None, pa.py_buffer(views), pa.py_buffer(block)]
    )
    return pl.Series(pl.from_arrow(array))


def _check_attribute_tags(
    arr: np.ndarray, lt: np.ndarray, gt: np.ndarray, qs: np.ndarray, codes: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return the four quote positions of each tag; raise unless every tag is canonical."""
    k = np.searchsorted(qs, lt)
    if k.size and k.max() + 3 >= qs.size:
        msg = "attribute without quotes"
        raise UnusualLayout(msg)
    q1, q2, q3, q4 = qs[k], qs[k + 1], qs[k + 2], qs[k + 3]
    name_len = np.array([len(n) for n in ATTRIBUTE_KINDS])[codes]
    after = np.append(qs, np.iinfo(np.int64).max)[k + 4]
    shape = (
        (q1 == lt + name_len + 6)  # '<' name ' key="'
        & (arr[q1 - 5] == 32)
        & (arr[q1 - 4] == ord("k"))
        & (arr[q1 - 3] == ord("e"))
        & (arr[q1 - 2] == ord("y"))
        & (arr[q1 - 1] == ord("="))
        & (q3 == q2 + 8)  # '" value="'
        & (arr[q2 + 1] == 32)
        & (arr[q3 - 6] == ord("v"))
        & (arr[q3 - 5] == ord("a"))
        & (arr[q3 - 4] == ord("l"))
        & (arr[q3 - 3] == ord("u"))
        & (arr[q3 - 2] == ord("e"))
        & (arr[q3 - 1] == ord("="))
        & (arr[gt - 1] == _SLASH)
        & ((gt == q4 + 2) | ((gt == q4 + 3) & (arr[q4 + 1] == 32)))
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


def scan_block_bytes(
    block: bytes, first_line: int, *, traces: int, events: int
) -> BlockScan:
    """Return the events, event attributes and trace attributes of one block.

    ``traces`` and ``events`` are the counts before this block (global indexes).

    Raises
    ------
    UnusualLayout
        The block is not in the canonical layout (read it another way).
    ValidationError
        The block is not UTF-8.
    """
    try:
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
        arr, lt[rows], gt[rows], _positions(arr, _QUOTE), codes[rows]
    )
    kinds = pl.Series(codes[rows]).replace_strict(_KIND_TEXT, return_dtype=pl.String)
    long = pl.DataFrame(
        {
            "event_idx": event_idx[rows] + events,
            "trace_idx": trace_idx[rows] + traces,
            "in_event": event_depth[rows] == 1,
            "key": _strings(block, padded, q1 + 1, q2),
            "kind": kinds,
            "value": _strings(block, padded, q3 + 1, q4),
        }
    )
    long = normalize_attribute_values(long, has_entities=b"&" in block)
    event_rows = np.flatnonzero(codes == _EVENT)
    line_of_event = first_line + np.searchsorted(newlines, lt[event_rows])
    root_line = first_line + np.searchsorted(newlines, lt[: min(lt.size, 64)])
    return BlockScan(
        events=pl.DataFrame(
            {
                "event_idx": event_idx[event_rows] + events,
                "trace_idx": trace_idx[event_rows] + traces,
                "line": line_of_event.astype(np.int64),
            }
        ),
        event_attrs=long.filter(pl.col("in_event")).select(
            "event_idx", "key", "kind", "value", pl.lit(None, pl.Int64).alias("line")
        ),
        trace_attrs=long.filter(~pl.col("in_event")).select(
            "trace_idx", "key", "kind", "value"
        ),
        traces=int((codes == _TRACE).sum()),
        root=_root(arr, lt[:64], gt[:64], codes[:64], root_line),
        closes_log=bool((codes == _END_LOG).any()),
    )

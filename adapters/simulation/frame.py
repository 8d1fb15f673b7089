"""Slots -> the canonical input frame (:data:`engine.schema.INPUT_SCHEMA`), vectorized.

Strings are never built per event in Python: participants are indices into a
small roster of actor names, gathered and assembled as Arrow list arrays;
event ids are 128-bit hashes of ``(seed, partnership, slot)`` written as
canonical lowercase UUID text straight into an Arrow buffer.

Organizations are named ``org01`` .. ``org16`` (``org01`` leads), third parties
``mediator`` and ``facilitation``; actors ``org03.tm`` (top manager), ``.mgr``,
``.pro`` or ``.spec`` (each organization has a professional or a specialist).
Names repeat across partnerships: they identify people within a partnership.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final

import numpy as np
import polars as pl
import pyarrow as pa

from adapters.simulation import slots as k
from adapters.simulation.params import MAX_ORGS, active_orgs
from adapters.simulation.slots import WORKSTREAMS
from engine import schema as s

if TYPE_CHECKING:
    from adapters.simulation.params import Params
    from adapters.simulation.timeline import Schedule

__all__ = ["ROSTER", "build_event_frame", "format_uuids", "partnership_ids"]

_ORGS: Final = MAX_ORGS + 1
_TP_BASE: Final = 3 * _ORGS


def _org_roster(o: int) -> tuple[tuple[str, str, str], ...]:
    org = f"org{o + 1:02d}"
    # every third organization employs a specialist rather than a professional
    third = ("spec", "specialist") if o % 3 == 2 else ("pro", "professional")
    return (
        (f"{org}.tm", org, "top_manager"),
        (f"{org}.mgr", org, "manager"),
        (f"{org}.{third[0]}", org, third[1]),
    )


# (actor, organization, role) by roster index: 3 per organization, then third parties
ROSTER: Final = (
    *(entry for o in range(_ORGS) for entry in _org_roster(o)),
    ("mediator.m", "mediator", "mediator"),
    ("facilitation.f", "facilitation", "facilitator"),
)


def _participant_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return per-key (count, start) and the flat (relative index, is partner) table.

    A key is ``(roles mask * 4 + third-party mask) * (_ORGS + 1) + org span``;
    its participants are, for each organization of the span in order, the roles
    of the mask (top manager, manager, professional), then the third parties.
    """
    counts: list[int] = []
    starts: list[int] = []
    rel: list[int] = []
    partner: list[int] = []
    for roles in range(8):
        for tp in range(4):
            for span in range(_ORGS + 1):
                starts.append(len(rel))
                for o in range(span):
                    for r in range(3):
                        if roles >> r & 1:
                            rel.append(3 * o + r)
                            partner.append(1)
                for b in range(2):
                    if tp >> b & 1:
                        rel.append(_TP_BASE + b)
                        partner.append(0)
                counts.append(len(rel) - starts[-1])
    return (
        np.array(counts, dtype=np.int64),
        np.array(starts, dtype=np.int64),
        np.array(rel, dtype=np.int32),
        np.array(partner, dtype=np.int32),
    )


_COUNT, _START, _REL, _PARTNER = _participant_tables()
_STAGE: Final = np.array(
    [s.PHASES.index(v) if v is not None else -1 for v in s.ACTIVITY_STAGE.values()],
    dtype=np.int8,
)
_HEX: Final = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


def partnership_ids(seed: int, n: int, *, first: int = 0) -> list[str]:
    """Return the ids of ``n`` simulated partnerships of ``seed`` from index ``first``.

    Examples
    --------
    >>> partnership_ids(7, 2, first=5)
    ['sim7-000005', 'sim7-000006']
    """
    return [f"sim{seed}-{i:06d}" for i in range(first, first + n)]


def _splitmix(x: np.ndarray) -> np.ndarray:
    z = x + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def format_uuids(keys: np.ndarray, *, seed: int) -> pl.Series:
    """Return version-4-shaped UUID text for unique uint64 ``keys`` (deterministic).

    Examples
    --------
    >>> import numpy as np
    >>> ids = format_uuids(np.array([1, 2], dtype=np.uint64), seed=0)
    >>> ids.str.len_chars().to_list(), ids.n_unique()
    ([36, 36], 2)
    """
    salt = _splitmix(np.array([seed & 0xFFFFFFFFFFFFFFFF], dtype=np.uint64))[0]
    hi = _splitmix(keys ^ salt)
    lo = _splitmix(keys ^ _splitmix(np.array([salt], dtype=np.uint64))[0])
    hi = (hi & np.uint64(0xFFFFFFFFFFFF0FFF)) | np.uint64(0x4000)
    lo = (lo & np.uint64(0x3FFFFFFFFFFFFFFF)) | np.uint64(0x8000000000000000)
    n = keys.size
    raw = np.stack([hi, lo], axis=1).astype(">u8").view(np.uint8).reshape(n, 16)
    nibbles = np.stack([raw >> 4, raw & 0xF], axis=2).reshape(n, 32)
    hexed = _HEX[nibbles]
    text = np.full((n, 36), ord("-"), dtype=np.uint8)
    for src, dst in ((0, 0), (8, 9), (12, 14), (16, 19), (20, 24)):
        width = 12 if src == 20 else (8 if src == 0 else 4)
        text[:, dst : dst + width] = hexed[:, src : src + width]
    offsets = np.arange(0, 36 * (n + 1), 36, dtype=np.int64)
    arr = pa.LargeStringArray.from_buffers(
        n, pa.py_buffer(offsets), pa.py_buffer(text.tobytes())
    )
    return pl.Series(s.EVENT_ID, pl.from_arrow(arr)).cast(pl.String)


def _resolve_hi(lo: np.ndarray, hi: np.ndarray, n_act: np.ndarray) -> np.ndarray:
    excl = np.maximum(1, -(-n_act // 2) - 1)
    nearly = np.where(n_act >= 5, n_act - 1, n_act)
    out = np.where(hi == k.HI_ALL, n_act, hi)
    out = np.where(hi == k.HI_EXCL, excl, out)
    out = np.where(hi == k.HI_NEARLY, nearly, out)
    return np.asarray(np.maximum(out, lo))


def _roster_index(
    sl: dict[str, np.ndarray], hi: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Return (list offsets, roster index of every participant), by lookup tables."""
    lo = sl["lo"].astype(np.int64)
    key = (sl["roles"].astype(np.int64) * 4 + sl["tp"]) * (_ORGS + 1) + (hi - lo)
    count = _COUNT[key]
    offsets = np.zeros(count.size + 1, dtype=np.int64)
    np.cumsum(count, out=offsets[1:])
    flat = np.arange(offsets[-1], dtype=np.int64) - np.repeat(
        offsets[:-1] - _START[key], count
    )
    lo3 = np.repeat((3 * lo).astype(np.int32), count)
    idx = _REL[flat] + lo3 * _PARTNER[flat]
    return offsets, idx


def _participants(offsets: np.ndarray, idx: np.ndarray) -> pl.Series:
    newest = pl.CompatLevel.newest()
    children = [
        pl.Series([r[i] for r in ROSTER], dtype=pl.String)
        .gather(idx)
        .to_arrow(compat_level=newest)
        for i in range(3)
    ]
    struct = pa.StructArray.from_arrays(
        children, names=["actor", "organization", "role"]
    )
    lists = pa.LargeListArray.from_arrays(pa.array(offsets, type=pa.int64()), struct)
    return pl.Series(s.PARTICIPANTS, pl.from_arrow(lists))


def _phases(sl: dict[str, np.ndarray], par: Params, sched: Schedule) -> pl.Series:
    p, day = sl["p"], sl["day"]
    period = np.where(day >= sched.x0[p], 2, np.where(day < par.ln[p], 0, 1))
    code = np.where(sl["phase"] == k.PERIOD, period, sl["phase"])
    code = np.where(code == -1, _STAGE[sl["act"]], code)
    names = pl.Series([*s.PHASES, None], dtype=pl.String)
    return names.gather(np.where(code < 0, 3, code)).alias(s.PHASE)


def _attribute_text(akind: int, aval: int, vis: int, aud: int) -> str | None:
    """Return the canonical JSON (sorted keys, no spaces) of one attribute template."""
    num = aval + 1
    if akind == k.A_IDEA:
        return f'{{"idea_id":"idea-{num}"}}'
    if akind == k.A_OBJ:
        shown = {1: ',"visibility":"shared"', 2: ',"visibility":"private"'}.get(vis, "")
        return f'{{"objective_id":"obj-{num}"{shown}}}'
    if akind == k.A_OBJS:
        ids = ",".join(f'"obj-{b + 1}"' for b in range(16) if aval >> b & 1)
        return f'{{"objective_ids":[{ids}]}}'
    if akind == k.A_SHARE:
        audience = "all" if aud == k.AUD_ALL else "subset"
        listed = f',"objective_ids":["obj-{num}"]' if aval >= 0 else ""
        return f'{{"audience":"{audience}"{listed}}}'
    if akind == k.A_CONFLICT:
        return f'{{"conflict_id":"conflict-{num}"}}'
    return None


def _attributes(sl: dict[str, np.ndarray]) -> pl.Series:
    """Return the attributes column: templates have few distinct values, format each once."""
    cols = [sl[c].astype(np.int64) for c in ("akind", "aval", "vis", "aud")]
    key = ((cols[0] * 4 + cols[2]) * 4 + cols[3]) * 65536 + (cols[1] + 1)
    uniq, inverse = np.unique(key, return_inverse=True)
    texts = [
        _attribute_text(int(u // 65536 // 16), int(u % 65536) - 1,
                        int(u // 65536 // 4 % 4), int(u // 65536 % 4))
        for u in uniq
    ]  # fmt: skip
    return pl.Series(s.ATTRIBUTES, texts, dtype=pl.String).gather(inverse)


def slot_ranks(p: np.ndarray, n: int) -> np.ndarray:
    """Return each slot's 0-based position within its partnership (slots sorted)."""
    starts = np.cumsum(np.bincount(p, minlength=n)) - np.bincount(p, minlength=n)
    return np.asarray(np.arange(p.size) - starts[p])


def build_event_frame(
    *,
    sl: dict[str, np.ndarray],
    par: Params,
    sched: Schedule,
    seed: int,
    start: datetime,
    first: int = 0,
) -> pl.DataFrame:
    """Return the input frame of the slots, plus helper columns ``_p``, ``_rule``, ``_inst``, ``_ord``.

    ``first`` is the global index of the batch's first partnership (ids and
    event ids are global, so batches can be generated independently).
    """
    p, day = sl["p"], sl["day"]
    n_act = active_orgs(par, sched.leave_start, p, day)
    hi = _resolve_hi(sl["lo"].astype(np.int64), sl["hi"].astype(np.int64), n_act)
    offsets, idx = _roster_index(sl, hi)
    rank = slot_ranks(p, par.n)
    base = int(start.astimezone(UTC).timestamp()) * 1_000_000
    first_s = np.round(par.t0 * 86400).astype(np.int64)[p]
    second = first_s + np.round(day * 86400).astype(np.int64)
    ts = base + second * 1_000_000 + rank
    keys = ((p + first).astype(np.uint64) << np.uint64(24)) | rank.astype(np.uint64)
    lead = idx[offsets[:-1]]
    ids = pl.Series(partnership_ids(seed, par.n, first=first), dtype=pl.String)
    acts = pl.Series(list(s.ACTIVITIES), dtype=pl.String)
    roster = [pl.Series([r[i] for r in ROSTER], dtype=pl.String) for i in range(2)]
    ws = pl.Series([*WORKSTREAMS, None], dtype=pl.String)
    wcode = np.where(sl["ws"] < 0, len(WORKSTREAMS), sl["ws"])
    frame = pl.DataFrame(
        [
            format_uuids(keys, seed=seed),
            ids.gather(p).alias(s.PARTNERSHIP_ID),
            acts.gather(sl["act"].astype(np.int64)).alias(s.ACTIVITY),
            pl.Series(s.TIMESTAMP, ts)
            .cast(pl.Datetime("us"))
            .dt.replace_time_zone("UTC"),
            pl.Series(s.TZ_OFFSET, np.zeros(p.size, dtype=np.int32)),
            _phases(sl, par, sched),
            roster[0].gather(lead).alias(s.ACTOR),
            roster[1].gather(lead).alias(s.ORGANIZATION),
            _participants(offsets, idx),
            ws.gather(wcode.astype(np.int64)).alias(s.WORKSTREAM),
            _attributes(sl),
            pl.Series(
                s.SCHEMA_VERSION, np.full(p.size, s.CURRENT_SCHEMA_VERSION, np.int16)
            ),
            pl.Series("_p", p),
            pl.Series("_rule", sl["rule"]),
            pl.Series("_inst", np.where(sl["inst"] < 0, 1_000_000 + rank, sl["inst"])),
            pl.Series("_ord", sl["ord"]),
        ]
    )
    return frame.cast(s.INPUT_SCHEMA)

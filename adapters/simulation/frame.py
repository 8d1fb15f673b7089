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
import pyarrow.compute as pc

from adapters.simulation import slots as k
from adapters.simulation.params import MAX_ORGS, active_orgs
from adapters.simulation.slots import WORKSTREAMS, expand_counts
from engine import schema as s

if TYPE_CHECKING:
    from adapters.simulation.params import Params
    from adapters.simulation.timeline import Schedule

__all__ = ["ROSTER", "build_event_frame", "format_uuids", "partnership_ids"]

_ORGS: Final = MAX_ORGS + 1
_ROLE_NAMES: Final = ("top_manager", "manager", "professional", "specialist")
_ROLE_ABBR: Final = ("tm", "mgr", "pro", "spec")
_TP_BASE: Final = 4 * _ORGS
# (actor, organization, role) by roster index: 4 per organization, then third parties
ROSTER: Final = (
    *(
        (f"org{o + 1:02d}.{_ROLE_ABBR[r]}", f"org{o + 1:02d}", _ROLE_NAMES[r])
        for o in range(_ORGS)
        for r in range(4)
    ),
    ("mediator.m", "mediator", "mediator"),
    ("facilitation.f", "facilitation", "facilitator"),
)
_POP: Final = np.array([bin(i).count("1") for i in range(8)], dtype=np.int64)
# _NTH[mask, i] = position of the i-th set bit of mask
_NTH: Final = np.array(
    [[[b for b in range(3) if m >> b & 1][i] if i < _POP[m] else 0 for i in range(3)]
     for m in range(8)],
    dtype=np.int64,
)  # fmt: skip
_STAGE: Final = np.array(
    [s.PHASES.index(v) if v is not None else -1 for v in s.ACTIVITY_STAGE.values()],
    dtype=np.int8,
)
_M64: Final = np.uint64(0xFFFFFFFFFFFFFFFF)


def partnership_ids(seed: int, n: int) -> list[str]:
    """Return the ids of ``n`` simulated partnerships of ``seed``.

    Examples
    --------
    >>> partnership_ids(7, 2)
    ['sim7-000000', 'sim7-000001']
    """
    return [f"sim{seed}-{i:06d}" for i in range(n)]


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
    raw = np.stack([hi, lo], axis=1).astype(">u8").view(np.uint8).reshape(-1, 16)
    table = np.frombuffer(b"".join(f"{i:02x}".encode() for i in range(256)), np.uint8)
    hexed = table.reshape(256, 2)[raw].reshape(-1, 32)
    text = np.full((raw.shape[0], 36), ord("-"), dtype=np.uint8)
    text[:, [i for i in range(36) if i not in (8, 13, 18, 23)]] = hexed
    n = raw.shape[0]
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
    """Return (offsets, roster index per participant), participants in org, role order."""
    lo, roles, tp = sl["lo"].astype(np.int64), sl["roles"], sl["tp"]
    nr = _POP[roles]
    partner = (hi - lo) * nr
    count = partner + _POP[tp]
    ev, within = expand_counts(count)
    nr_e = np.maximum(nr[ev], 1)
    is_partner = within < partner[ev]
    org = lo[ev] + within // nr_e
    role = _NTH[roles[ev], within % nr_e]
    p = sl["p"][ev]
    spec = (role == 2) & ((p * 7 + org * 3) % 10 < 3)
    partner_idx = 4 * org + role + spec
    third = _TP_BASE + _NTH[tp[ev], np.clip(within - partner[ev], 0, 2)]
    idx = np.where(is_partner, partner_idx, third)
    offsets = np.concatenate([[0], np.cumsum(count)]).astype(np.int64)
    return offsets, idx


def _participants(offsets: np.ndarray, idx: np.ndarray) -> pl.Series:
    take = pa.array(idx, type=pa.int64())
    children = [pc.take(pa.array([r[i] for r in ROSTER]), take) for i in range(3)]
    struct = pa.StructArray.from_arrays(
        children, names=["actor", "organization", "role"]
    )
    lists = pa.LargeListArray.from_arrays(pa.array(offsets, type=pa.int64()), struct)
    return pl.Series(s.PARTICIPANTS, pl.from_arrow(lists)).cast(
        pl.List(s.PARTICIPANT_DTYPE)
    )


def _phases(sl: dict[str, np.ndarray], par: Params, sched: Schedule) -> pl.Series:
    p, day = sl["p"], sl["day"]
    period = np.where(day >= sched.x0[p], 2, np.where(day < par.ln[p], 0, 1))
    code = np.where(sl["phase"] == k.PERIOD, period, sl["phase"])
    code = np.where(code == -1, _STAGE[sl["act"]], code)
    names = pl.Series([*s.PHASES, None], dtype=pl.String)
    return names.gather(np.where(code < 0, 3, code)).alias(s.PHASE)


def _attributes() -> pl.Expr:
    """Canonical JSON (sorted keys, no spaces) of each slot's attribute template."""
    num = (pl.col("aval") + 1).cast(pl.String)
    vis = pl.col("vis").replace_strict(
        {0: "", 1: ',"visibility":"shared"', 2: ',"visibility":"private"'},
        return_dtype=pl.String,
    )
    masks = {
        m: '{"objective_ids":['
        + ",".join(f'"obj-{b + 1}"' for b in range(8) if m >> b & 1)
        + "]}"
        for m in range(16)
    }
    aud = (
        pl.when(pl.col("aud") == k.AUD_ALL)
        .then(pl.lit("all"))
        .otherwise(pl.lit("subset"))
    )
    share_obj = (
        pl.when(pl.col("aval") >= 0)
        .then(pl.concat_str(pl.lit(',"objective_ids":["obj-'), num, pl.lit('"]')))
        .otherwise(pl.lit(""))
    )
    kind = pl.col("akind")
    return (
        pl.when(kind == k.A_IDEA).then(pl.concat_str(pl.lit('{"idea_id":"idea-'), num, pl.lit('"}')))
        .when(kind == k.A_OBJ).then(pl.concat_str(pl.lit('{"objective_id":"obj-'), num, pl.lit('"'), vis, pl.lit("}")))
        .when(kind == k.A_OBJS).then(pl.col("aval").replace_strict(masks, default=None, return_dtype=pl.String))
        .when(kind == k.A_SHARE).then(pl.concat_str(pl.lit('{"audience":"'), aud, pl.lit('"'), share_obj, pl.lit("}")))
        .when(kind == k.A_CONFLICT).then(pl.concat_str(pl.lit('{"conflict_id":"conflict-'), num, pl.lit('"}')))
        .otherwise(pl.lit(None, pl.String))
        .alias(s.ATTRIBUTES)
    )  # fmt: skip


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
) -> pl.DataFrame:
    """Return the input frame of the slots, plus helper columns ``_p``, ``_rule``, ``_inst``, ``_ord``."""
    p, day = sl["p"], sl["day"]
    n_act = active_orgs(par, sched.leave_start, p, day)
    hi = _resolve_hi(sl["lo"].astype(np.int64), sl["hi"].astype(np.int64), n_act)
    offsets, idx = _roster_index(sl, hi)
    rank = slot_ranks(p, par.n)
    base = int(start.astimezone(UTC).timestamp()) * 1_000_000
    ts = base + np.round((par.t0[p] + day) * 86400).astype(np.int64) * 1_000_000 + rank
    keys = (p.astype(np.uint64) << np.uint64(24)) | rank.astype(np.uint64)
    first = idx[offsets[:-1]]
    ids = pl.Series(partnership_ids(seed, par.n), dtype=pl.String)
    acts = pl.Series(list(s.ACTIVITIES), dtype=pl.String)
    roster = [pl.Series([r[i] for r in ROSTER], dtype=pl.String) for i in range(2)]
    ws = pl.Series([*WORKSTREAMS, None], dtype=pl.String)
    wcode = np.where(sl["ws"] < 0, len(WORKSTREAMS), sl["ws"])
    helpers = pl.DataFrame(
        {k_: sl[k_] for k_ in ("akind", "aval", "vis", "aud")}
    ).select(_attributes())
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
            roster[0].gather(first).alias(s.ACTOR),
            roster[1].gather(first).alias(s.ORGANIZATION),
            _participants(offsets, idx),
            ws.gather(wcode.astype(np.int64)).alias(s.WORKSTREAM),
            helpers.to_series(),
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

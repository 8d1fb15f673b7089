"""Execution-stage blocks of the simulated lifecycle, and the events of any stage.

Progress reports, feedback meetings, the per-window full updates, conflicts,
members joining and leaving, renegotiation cycles and the drifting profile's
degradation after its onset. See :mod:`adapters.simulation.timeline` for the
margins kept against every rule threshold.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from adapters.simulation import slots as k
from adapters.simulation.draws import RULE_CODE as _R
from adapters.simulation.draws import add_decision, draw_periodic, draw_uniform
from adapters.simulation.slots import expand_counts

if TYPE_CHECKING:
    from adapters.simulation.params import Params
    from adapters.simulation.slots import SlotBuffer

__all__ = ["add_execution"]

_WINDOW = 90.0


def add_execution(
    buf: SlotBuffer,
    rng: np.random.Generator,
    par: Params,
    *,
    x0: np.ndarray,
    onset: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Add every block after the commitment stage; return (leave start, loss window)."""
    _progress(buf, rng, par, x0)
    _feedback(buf, rng, par, x0, onset)
    _full_updates(buf, rng, par)
    _conflicts(buf, rng, par, onset)
    _joiner(buf, par)
    leave_start, loss_window = _leavers(buf, rng, par, x0)
    _renegotiation(buf, rng, par, x0, onset)
    _drift(buf, rng, par, onset)
    return leave_start, loss_window


def _progress(
    buf: SlotBuffer, rng: np.random.Generator, par: Params, x0: np.ndarray
) -> None:
    p, _, day = draw_periodic(
        rng, x0 + draw_uniform(rng, 10, 60, par.n), par.span - 2, (25, 60)
    )
    owner = rng.integers(0, par.k_min[p])
    buf.add(p, day, "report_progress", lo=owner, hi=owner + 1,
            roles=k.MGR | k.PRO, ws=3)  # fmt: skip


def _feedback(
    buf: SlotBuffer,
    rng: np.random.Generator,
    par: Params,
    x0: np.ndarray,
    onset: np.ndarray,
) -> None:
    # an assessment during commitment, managers only (not an execution meeting)
    pre = np.flatnonzero(rng.uniform(size=par.n) < 0.5)
    day = par.ln[pre] + par.lc[pre] * draw_uniform(rng, 0.4, 0.6, pre.size)
    in_exec = day >= x0[pre]  # phase_skipping pilots start execution early
    buf.add(pre, day, "feedback_meeting", lo=0, hi=k.HI_ALL,
            roles=np.where(in_exec, k.TM | k.MGR | k.PRO, k.MGR | k.PRO),
            phase=k.PERIOD)  # fmt: skip
    p, j, day = draw_periodic(
        rng, x0 + draw_uniform(rng, 20, 100, par.n), par.span - 2, (60, 120)
    )
    absent = par.is_profile("absent_top_managers")[p] & (j >= par.variant[p] % 2)
    drifted = day > np.nan_to_num(onset, nan=np.inf)[p]
    lacking = absent | drifted
    buf.add(p, day, "feedback_meeting", lo=0, hi=k.HI_ALL,
            roles=np.where(lacking, k.MGR | k.PRO, k.TM | k.MGR),
            tp=np.where(par.has_fac[p] & (j % 3 == 0), k.FAC, 0), phase=k.PERIOD,
            rule=np.where(lacking, _R["missing_top_manager_feedback"], -1))  # fmt: skip


def _full_updates(buf: SlotBuffer, rng: np.random.Generator, par: Params) -> None:
    """One update to every actor of every active partner per 90-day window."""
    windows = np.floor(par.span / _WINDOW).astype(np.int64)
    p, j = expand_counts(windows)
    day = _WINDOW * j + draw_uniform(rng, 10, 80, p.size)
    last = np.arange(par.n)
    buf.add(np.concatenate([p, last]), np.concatenate([day, par.span]),
            "share_information", lo=0, hi=k.HI_ALL, roles=k.TM | k.MGR | k.PRO,
            akind=k.A_SHARE, aval=-1, aud=k.AUD_ALL, phase=k.PERIOD)  # fmt: skip


def _conflict_block(
    buf: SlotBuffer,
    rng: np.random.Generator,
    par: Params,
    block: tuple[np.ndarray, np.ndarray, np.ndarray],
    *,
    unresolved: np.ndarray,
) -> None:
    p, cid, raised = block
    a = rng.integers(0, np.maximum(par.k_min[p] - 1, 1))
    hi = np.minimum(a + 2, par.k_min[p])
    rule = np.where(unresolved, _R["unresolved_conflict"], -1)
    buf.add(p, raised, "raise_conflict", lo=a, hi=hi, roles=k.MGR | k.PRO,
            akind=k.A_CONFLICT, aval=cid, phase=k.PERIOD, rule=rule, inst=cid)  # fmt: skip
    late = unresolved & (rng.uniform(size=p.size) < 0.4)
    after = np.where(
        unresolved,
        draw_uniform(rng, 170, 300, p.size),
        draw_uniform(rng, 10, 80, p.size),
    )
    done = ~unresolved | late
    buf.add(p[done], raised[done] + after[done], "resolve_conflict", lo=a[done],
            hi=hi[done], roles=k.TM | k.MGR, akind=k.A_CONFLICT, aval=cid[done],
            phase=k.PERIOD, rule=rule[done], inst=cid[done], ord=1)  # fmt: skip
    med = par.has_med[p] & (rng.uniform(size=p.size) < 0.7)
    mday = raised + np.minimum(after, 100) * draw_uniform(rng, 0.2, 0.8, p.size)
    buf.add(p[med], mday[med], "mediate_conflict", lo=a[med], hi=hi[med],
            roles=k.MGR, tp=k.MED, akind=k.A_CONFLICT, aval=cid[med],
            phase=k.PERIOD)  # fmt: skip


def _conflicts(
    buf: SlotBuffer, rng: np.random.Generator, par: Params, onset: np.ndarray
) -> None:
    reinforcing = par.is_profile("conflict_reinforcing")
    counts = np.where(reinforcing, rng.integers(1, 4, par.n),
                      rng.choice(3, par.n, p=[0.4, 0.4, 0.2]))  # fmt: skip
    p, j = expand_counts(counts)
    unresolved = reinforcing[p]
    latest = np.where(unresolved, par.span[p] - 320, par.span[p] - 200)
    earliest = 0.3 * par.ln[p]
    raised = earliest + (latest - earliest) * rng.uniform(size=p.size)
    _conflict_block(buf, rng, par, (p, j, raised), unresolved=unresolved)
    # drifting: after the onset, conflicts stop being resolved
    dp, dj = expand_counts(np.where(np.isfinite(onset), rng.integers(1, 3, par.n), 0))
    start = onset[dp] + 10
    draised = start + (par.span[dp] - 320 - start) * rng.uniform(size=dp.size)
    _conflict_block(buf, rng, par, (dp, counts[dp] + dj, draised),
                    unresolved=np.ones(dp.size, dtype=bool))  # fmt: skip


def _joiner(buf: SlotBuffer, par: Params) -> None:
    pj = np.flatnonzero(par.joiner)
    org = par.k0[pj]
    buf.add(pj, par.join_day[pj], "member_joined", lo=org, hi=org + 1,
            roles=k.TM | k.MGR, phase=k.PERIOD)  # fmt: skip
    pl_ = pj[np.isfinite(par.leave_day[pj])]
    org = par.k0[pl_]
    buf.add(pl_, par.leave_day[pl_], "member_left", lo=org, hi=org + 1,
            roles=k.TM | k.MGR | k.PRO, phase=k.PERIOD)  # fmt: skip


def _leavers(
    buf: SlotBuffer, rng: np.random.Generator, par: Params, x0: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Add commitment loss: 40%+ of the founders leave together, 3 days apart."""
    lose = par.leavers > 0
    first_w = np.ceil((x0 + 10) / _WINDOW)
    last_w = np.floor(par.span / _WINDOW) - 3
    w = np.floor(first_w + (last_w - first_w + 1) * rng.uniform(size=par.n))
    w = np.minimum(w, last_w)
    leave_start = np.where(lose, _WINDOW * w + draw_uniform(rng, 10, 60, par.n), np.inf)
    p, i = expand_counts(par.leavers)
    org = par.k0[p] - 1 - i
    buf.add(p, leave_start[p] + 3.0 * i, "member_left", lo=org, hi=org + 1,
            roles=k.TM | k.MGR | k.PRO, phase=k.PERIOD,
            rule=np.where(i == 0, _R["commitment_loss"], -1))  # fmt: skip
    return leave_start, np.where(lose, _WINDOW * (w + 1), np.nan)


def _cycle(
    buf: SlotBuffer,
    rng: np.random.Generator,
    par: Params,
    p: np.ndarray,
    begin: np.ndarray,
    *,
    exclusive: bool,
) -> None:
    """Add a renegotiation: terms, a new idea, its plan, its start 20-80 days later.

    The start comes at most 160 days after the idea's proposal (stall: 180).
    """
    cols: dict[str, object] = {"hi": k.HI_EXCL} if exclusive else {}
    add_decision(buf, rng, par, p, begin, "negotiate_terms", roles=k.TM | k.MGR,
                  ws=2, phase=0, **cols)  # fmt: skip
    idea = par.n_idea[p]
    owner = idea % par.k_min[p]
    buf.add(p, begin + draw_uniform(rng, 10, 40, p.size), "propose_idea", lo=owner,
            hi=owner + 1, roles=k.MGR | k.PRO, ws=3, akind=k.A_IDEA, aval=idea)  # fmt: skip
    plan = begin + draw_uniform(rng, 50, 90, p.size)
    add_decision(buf, rng, par, p, plan, "agree_action_plan", roles=k.TM | k.MGR,
                  ws=3, akind=k.A_IDEA, aval=idea, **cols)  # fmt: skip
    buf.add(p, plan + draw_uniform(rng, 20, 80, p.size), "start_action", lo=owner,
            hi=owner + 1, roles=k.MGR | k.PRO, ws=3, akind=k.A_IDEA, aval=idea)  # fmt: skip


def _renegotiation(
    buf: SlotBuffer,
    rng: np.random.Generator,
    par: Params,
    x0: np.ndarray,
    onset: np.ndarray,
) -> None:
    calm = ~np.isfinite(onset) & (rng.uniform(size=par.n) < 0.3)
    p = np.flatnonzero(calm)
    room = np.maximum(par.span[p] - 300 - x0[p] - 150, 0)
    _cycle(buf, rng, par, p, x0[p] + 150 + room * rng.uniform(size=p.size),
           exclusive=False)  # fmt: skip
    d = np.flatnonzero(np.isfinite(onset))
    _cycle(
        buf, rng, par, d, onset[d] + draw_uniform(rng, 10, 60, d.size), exclusive=True
    )


def _drift(
    buf: SlotBuffer, rng: np.random.Generator, par: Params, onset: np.ndarray
) -> None:
    """After the onset: a private objective and updates to a subset only."""
    d = np.flatnonzero(np.isfinite(onset))
    buf.add(d, onset[d] + draw_uniform(rng, 5, 60, d.size), "propose_objective", lo=0, hi=1,
            roles=k.TM | k.MGR, ws=2, akind=k.A_OBJ, aval=par.n_obj[d],
            vis=k.VIS_PRIVATE, rule=_R["hidden_objective"])  # fmt: skip
    p, _, day = draw_periodic(rng, onset[d] + draw_uniform(rng, 5, 20, d.size), par.span[d] - 2,
                          (15, 35))  # fmt: skip
    buf.add(d[p], day, "share_information", lo=0, hi=k.HI_EXCL, roles=k.MGR,
            akind=k.A_SHARE, aval=-1, aud=k.AUD_SUBSET, phase=k.PERIOD)  # fmt: skip

"""The lifecycle of every simulated partnership, drawn block by block as slots.

Each block is one kind of event for all partnerships at once (numpy arrays),
never a loop per partnership or per event. Margins against the default
thresholds of docs/rules.md (all in days):

* plans come at most 140 after their idea's proposal; healthy starts follow
  their plan by 20-120 and their proposal by at most 170 (stall: 180, from the
  earlier of proposal and plan); stalled ideas never start, or start 230-400
  after the plan;
* healthy conflicts resolve after 10-80 (120); unresolved ones never do, or
  after 170-300, and are raised at least 320 before the end;
* execution feedback meetings are 60-120 apart, the first 20-100 after the
  first start, the last within 122 of the end (gap: 180);
* a full update (``share_information`` to every actor of every active partner)
  falls in every 90-day window from the first event, so participation only
  drops where commitment loss is injected (4 or more in 10 leave together);
* decisions include every active partner, or all but one of 5+ (share 0.8;
  exclusive ones: fewer than half);
* objectives are shared (visibility ``shared``, or listed in an update 5-40
  days after the proposal); hidden ones are private or never listed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from adapters.simulation import slots as k
from adapters.simulation.draws import RULE_CODE as _R
from adapters.simulation.draws import add_decision, draw_decision_hi, draw_uniform
from adapters.simulation.execution import add_execution
from adapters.simulation.slots import SlotBuffer, expand_counts

if TYPE_CHECKING:
    from adapters.simulation.params import Params

__all__ = ["Schedule", "draw_timeline"]


@dataclass(frozen=True)
class Schedule:
    """Days (after each partnership's first event) the timeline decided."""

    x0: np.ndarray  # first start_action: execution begins
    onset: np.ndarray  # drift onset (nan unless drifting)
    leave_start: np.ndarray  # first leaver leaves (inf without leavers)
    loss_window: np.ndarray  # start of the window where participation drops (nan)


def _within(
    rng: np.random.Generator, par: Params, p: np.ndarray, a: float, b: float
) -> np.ndarray:
    """Days uniformly in ``[a, b]`` x the negotiation length."""
    return np.asarray(par.ln[p] * draw_uniform(rng, a, b, p.size))


def _commit_days(
    rng: np.random.Generator, par: Params, p: np.ndarray, a: float, b: float
) -> np.ndarray:
    """Days uniformly in ``[a, b]`` x the commitment length, after negotiation."""
    return np.asarray(par.ln[p] + par.lc[p] * draw_uniform(rng, a, b, p.size))


def _negotiation(buf: SlotBuffer, rng: np.random.Generator, par: Params) -> None:
    n = par.n
    everyone = np.arange(n)
    # phase_skipping variant 0: a values workshop before any negotiation
    skip_b = par.is_profile("phase_skipping") & (par.variant == 0)
    pb = everyone[skip_b]
    buf.add(pb, 0.0, "define_values", lo=0, hi=2, roles=k.TM | k.MGR,
            tp=np.where(par.has_fac[pb], k.FAC, 0), ws=3,
            rule=_R["phase_order_violation"])  # fmt: skip
    init_day = np.where(skip_b, draw_uniform(rng, 0.5, 3, n), 0.0)
    buf.add(everyone, init_day, "initiate_partnership", lo=0, hi=2,
            roles=k.TM | k.MGR, ws=0)  # fmt: skip
    p, _ = expand_counts(rng.integers(1, 4, n))
    buf.add(p, _within(rng, par, p, 0.05, 0.35), "explore_expectations", lo=0,
            hi=k.HI_ALL, roles=k.TM | k.MGR,
            tp=np.where(par.has_fac[p], k.FAC, 0), ws=0)  # fmt: skip
    _objectives(buf, rng, par)
    p, j = expand_counts(rng.integers(1, 3, n))
    add_decision(buf, rng, par, p, _within(rng, par, p, 0.65, 0.95),
                  "negotiate_terms", roles=k.TM | k.MGR, ws=1 + j,
                  hi=np.where(par.is_profile("exclusive")[p] & (j == 0),
                              k.HI_EXCL, draw_decision_hi(rng, par, p)))  # fmt: skip


def _objectives(buf: SlotBuffer, rng: np.random.Generator, par: Params) -> None:
    p, j = expand_counts(par.n_obj)
    owner = j % par.k_min[p]
    day = _within(rng, par, p, 0.3, 0.6)
    hidden = par.is_profile("hidden_objectives")[p] & (j == 0)
    private = hidden & (par.variant[p] == 0)
    listed_later = ~hidden & (rng.uniform(size=p.size) < 0.3)
    vis = np.where(private, k.VIS_PRIVATE, np.where(hidden | listed_later, 0, 1))
    buf.add(p, day, "propose_objective", lo=owner, hi=owner + 1,
            roles=k.TM | k.MGR, ws=0, akind=k.A_OBJ, aval=j, vis=vis,
            rule=np.where(hidden, _R["hidden_objective"], -1))  # fmt: skip
    m = listed_later
    buf.add(p[m], day[m] + draw_uniform(rng, 5, 40, int(m.sum())), "share_information",
            lo=0, hi=k.HI_ALL, roles=k.MGR, akind=k.A_SHARE, aval=j[m],
            aud=k.AUD_ALL, phase=k.PERIOD)  # fmt: skip


def _agreed_mask(par: Params) -> np.ndarray:
    """Bit mask of the objectives listed by agree_objectives (hidden ones left out)."""
    full = (1 << par.n_obj) - 1
    return np.where(par.is_profile("hidden_objectives"), full & ~1, full)


def _commitment(
    buf: SlotBuffer, rng: np.random.Generator, par: Params
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Add the commitment stage; return ``(idea p, idea j, proposal day, plan day)``."""
    n = par.n
    p, _ = expand_counts(rng.integers(1, 3, n))
    buf.add(p, _commit_days(rng, par, p, 0.01, 0.2), "define_values", lo=0,
            hi=k.HI_ALL, roles=k.TM | k.MGR | k.PRO,
            tp=np.where(par.has_fac[p], k.FAC, 0), ws=3)  # fmt: skip
    p, _ = expand_counts(rng.integers(1, 4, n))
    buf.add(p, _commit_days(rng, par, p, 0.1, 0.4), "assess_needs", lo=0,
            hi=k.HI_ALL, roles=k.MGR | k.PRO, ws=3)  # fmt: skip
    p, j = expand_counts(par.n_idea)
    owner = j % par.k_min[p]
    stalled = par.is_profile("stalled")[p] & (j == par.n_idea[p] - 1)
    never_planned = stalled & (par.variant[p] == 2)
    proposed = _commit_days(rng, par, p, 0.2, 0.5)
    buf.add(p, proposed, "propose_idea", lo=owner, hi=owner + 1,
            roles=k.MGR | k.PRO, ws=3, akind=k.A_IDEA, aval=j,
            rule=np.where(stalled, _R["stalled_idea_to_action"], -1),
            inst=j)  # fmt: skip
    everyone = np.arange(n)
    add_decision(buf, rng, par, everyone, _commit_days(rng, par, everyone, 0.5, 0.65),
                  "agree_objectives", roles=k.TM | k.MGR, ws=0, akind=k.A_OBJS,
                  aval=_agreed_mask(par))  # fmt: skip
    plan = np.minimum(_commit_days(rng, par, p, 0.7, 0.95), proposed + 140)
    keep = ~never_planned
    add_decision(buf, rng, par, p[keep], plan[keep], "agree_action_plan",
                  roles=k.TM | k.MGR, ws=3, akind=k.A_IDEA, aval=j[keep])  # fmt: skip
    add_decision(buf, rng, par, everyone, _commit_days(rng, par, everyone, 0.95, 1.0),
                  "sign_agreement", roles=k.TM, ws=1)  # fmt: skip
    return p, j, proposed, np.where(keep, plan, np.nan)


def _starts(
    buf: SlotBuffer,
    rng: np.random.Generator,
    par: Params,
    ideas: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
) -> np.ndarray:
    """Add the start of every idea; return the execution start x0 per partnership."""
    p, j, proposed, plan = ideas
    stalled = par.is_profile("stalled")[p] & (j == par.n_idea[p] - 1)
    late = stalled & (par.variant[p] == 1)
    delay = np.where(
        late, draw_uniform(rng, 230, 400, p.size), draw_uniform(rng, 20, 120, p.size)
    )
    go = ~stalled | late
    owner = j % par.k_min[p]
    # The proposal anchors the stall (it precedes the plan): a healthy idea
    # reaches its pilot within 170 days of it.
    day = np.where(late, plan + delay, np.minimum(plan + delay, proposed + 170))
    buf.add(p[go], day[go], "start_action", lo=owner[go], hi=owner[go] + 1,
            roles=k.MGR | k.PRO, ws=3, akind=k.A_IDEA, aval=j[go],
            rule=np.where(late[go], _R["stalled_idea_to_action"], -1),
            inst=j[go], ord=1)  # fmt: skip
    x0 = np.full(par.n, np.inf)
    np.minimum.at(x0, p[go & ~late], day[go & ~late])
    # phase_skipping variant 1: a pilot starts during negotiation, without a plan
    early = par.is_profile("phase_skipping") & (par.variant >= 1)
    pe = np.flatnonzero(early)
    eday = _within(rng, par, pe, 0.3, 0.6)
    buf.add(pe, eday, "start_action", lo=0, hi=1, roles=k.MGR | k.PRO, ws=3,
            akind=k.A_IDEA, aval=par.n_idea[pe] + 1,
            rule=_R["phase_order_violation"])  # fmt: skip
    x0[pe] = eday
    return x0


def draw_timeline(
    *, par: Params, rng: np.random.Generator
) -> tuple[dict[str, np.ndarray], Schedule]:
    """Return all slots of all partnerships, sorted, and the schedule drawn."""
    buf = SlotBuffer()
    _negotiation(buf, rng, par)
    ideas = _commitment(buf, rng, par)
    x0 = _starts(buf, rng, par, ideas)
    onset = _onset(rng, par, x0)
    leave_start, loss_window = add_execution(buf, rng, par, x0=x0, onset=onset)
    sched = Schedule(
        x0=x0, onset=onset, leave_start=leave_start, loss_window=loss_window
    )
    return buf.concat(), sched


def _onset(rng: np.random.Generator, par: Params, x0: np.ndarray) -> np.ndarray:
    """Drift onset: 120+ days into execution, 330+ days before the end."""
    drifting = par.is_profile("drifting")
    room = np.maximum(par.span - 330 - x0 - 120, 0)
    onset = x0 + 120 + room * rng.uniform(size=par.n)
    return np.where(drifting, onset, np.nan)

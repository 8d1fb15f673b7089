"""Per-partnership parameters of the simulator, drawn as numpy arrays.

Durations follow the reference lifecycle of DOMAIN.md (negotiation ->
commitment -> execution) with realistic spreads: 2-8 months of negotiation,
3-9 months of commitment, then execution until the end of observation, which is
the same day for every partnership (so rules that wait until ``as_of`` see the
same end everywhere). Every day below is counted from the partnership's first
event.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np

from adapters.simulation.profiles import PROFILES

__all__ = ["HORIZON_DAYS", "MAX_ORGS", "Params", "draw_params"]

HORIZON_DAYS: Final = 1460  # four years of observation
MAX_ORGS: Final = 15
_START_SPREAD: Final = 365  # partnerships begin during the first year


def _code(name: str) -> int:
    return PROFILES.index(name)


@dataclass(frozen=True)
class Params:
    """Arrays of length ``n`` (one entry per partnership)."""

    n: int
    profile: np.ndarray  # int8 codes into PROFILES
    t0: np.ndarray  # first event, days after the simulation start
    span: np.ndarray  # last event (a closing update), days after t0
    k0: np.ndarray  # founding partner organizations
    ln: np.ndarray  # negotiation length (days)
    lc: np.ndarray  # commitment length (days)
    n_obj: np.ndarray
    n_idea: np.ndarray
    has_med: np.ndarray
    has_fac: np.ndarray
    variant: np.ndarray  # profile-specific variant 0..2
    joiner: np.ndarray  # bool: an organization joins during the partnership
    join_day: np.ndarray  # inf when no joiner
    leave_day: np.ndarray  # the joiner leaves again (inf when it stays)
    leavers: np.ndarray  # founding organizations leaving (commitment_loss)
    k_min: np.ndarray  # founding organizations that never leave

    def is_profile(self, name: str) -> np.ndarray:
        """Return the mask of partnerships of profile ``name``."""
        return np.asarray(self.profile == _code(name))


def _draw_orgs(rng: np.random.Generator, profile: np.ndarray) -> np.ndarray:
    # Most partnerships are small, a few are large (2..15, P(k) ~ k^-1.3).
    ks = np.arange(2, MAX_ORGS + 1)
    weights = ks**-1.3
    k0 = rng.choice(ks, size=profile.size, p=weights / weights.sum())
    # exclusive decisions need 3+ active partners (docs/rules.md)
    need3 = (profile == _code("exclusive")) | (profile == _code("drifting"))
    return np.where(need3, np.maximum(k0, 3), k0).astype(np.int64)


def draw_params(*, profile: np.ndarray, rng: np.random.Generator) -> Params:
    """Return the parameters of ``profile.size`` partnerships."""
    n = profile.size
    t0 = rng.uniform(0, _START_SPREAD, n)
    span = HORIZON_DAYS - t0 - rng.uniform(0, 1, n)
    k0 = _draw_orgs(rng, profile)
    closs = profile == _code("commitment_loss")
    leavers = np.where(closs, np.ceil(0.4 * k0), 0).astype(np.int64)
    joiner = (~closs) & (k0 >= 3) & (k0 < MAX_ORGS) & (rng.uniform(size=n) < 0.25)
    ln = rng.uniform(60, 240, n)
    join_day = np.where(joiner, ln + rng.uniform(0, 300, n), np.inf)
    stays = rng.uniform(size=n) < 0.5
    leave_day = np.where(joiner & ~stays, join_day + rng.uniform(150, 400, n), np.inf)
    need2 = (profile == _code("stalled")) | (profile == _code("hidden_objectives"))
    return Params(
        n=n,
        profile=profile,
        t0=t0,
        span=span,
        k0=k0,
        ln=ln,
        lc=rng.uniform(90, 270, n),
        n_obj=np.where(need2, rng.integers(2, 4, n), rng.integers(1, 4, n)),
        n_idea=rng.integers(2, 5, n),
        has_med=rng.uniform(size=n) < 0.3,
        has_fac=rng.uniform(size=n) < 0.5,
        variant=rng.integers(0, 3, n),
        joiner=joiner,
        join_day=join_day,
        leave_day=leave_day,
        leavers=leavers,
        k_min=k0 - leavers,
    )


def active_orgs(
    par: Params, leave_start: np.ndarray, p: np.ndarray, day: np.ndarray
) -> np.ndarray:
    """Return the number of active partner organizations of slot ``(p, day)``.

    Founders are ``0..k0-1``; the joiner is ``k0``; commitment-loss leavers are
    the highest founders, leaving 3 days apart from the highest down (the first
    on ``leave_start``), so the active organizations are always ``0..n-1``.
    """
    joined = par.joiner[p] & (day > par.join_day[p]) & (day < par.leave_day[p])
    first = leave_start[p]
    with np.errstate(invalid="ignore"):
        count = np.floor((day - first) / 3.0) + 1
    gone = np.clip(np.where(np.isfinite(count), count, 0), 0, par.leavers[p])
    return np.asarray(par.k0[p] + joined - gone, dtype=np.int64)

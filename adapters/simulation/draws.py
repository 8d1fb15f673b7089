"""Small seeded drawing primitives shared by the lifecycle blocks."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from adapters.simulation import slots as k
from adapters.simulation.profiles import RULES

if TYPE_CHECKING:
    from adapters.simulation.params import Params
    from adapters.simulation.slots import SlotBuffer

__all__ = [
    "RULE_CODE",
    "add_decision",
    "draw_decision_hi",
    "draw_periodic",
    "draw_uniform",
]

RULE_CODE = {name: i for i, name in enumerate(RULES)}


def draw_uniform(
    rng: np.random.Generator, lo: float | np.ndarray, hi: float | np.ndarray, size: int
) -> np.ndarray:
    """Return ``size`` uniform draws in ``[lo, hi)`` (bounds may be arrays)."""
    return rng.uniform(lo, hi, size)


def draw_periodic(
    rng: np.random.Generator,
    first: np.ndarray,
    stop: np.ndarray,
    gap: tuple[float, float],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return ``(row, j, day)``: from ``first[row]`` every ``gap`` days while < stop.

    Examples
    --------
    >>> import numpy as np
    >>> row, j, day = draw_periodic(np.random.default_rng(0), np.array([0.0, 5.0]),
    ...                             np.array([25.0, 6.0]), (10, 10))
    >>> row.tolist(), j.tolist(), day.tolist()
    ([0, 0, 0, 1], [0, 1, 2, 0], [0.0, 10.0, 20.0, 5.0])
    """
    n = first.size
    if n == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0)
    width = int(np.ceil(np.max(np.maximum(stop - first, 0)) / gap[0])) + 1
    gaps = rng.uniform(gap[0], gap[1], (n, width))
    gaps[:, 0] = 0.0
    days = first[:, None] + np.cumsum(gaps, axis=1)
    ok = days < stop[:, None]
    row, j = np.nonzero(ok)
    return row, j, days[ok]


def draw_decision_hi(
    rng: np.random.Generator, par: Params, p: np.ndarray
) -> np.ndarray:
    """Return the org-range end of decisions; the exclusive profile flags ~half."""
    excl = par.is_profile("exclusive")[p] & (rng.uniform(size=p.size) < 0.5)
    nearly = rng.uniform(size=p.size) < 0.3
    return np.where(excl, k.HI_EXCL, np.where(nearly, k.HI_NEARLY, k.HI_ALL))


def add_decision(
    buf: SlotBuffer,
    rng: np.random.Generator,
    par: Params,
    p: np.ndarray,
    day: np.ndarray,
    act: str,
    **cols: object,
) -> None:
    """Add decision slots; exclusive ones (``hi=HI_EXCL``) are truth evidence."""
    hi = cols.pop("hi", None)
    if hi is None:
        hi = draw_decision_hi(rng, par, p)
    hi = np.broadcast_to(np.asarray(hi), p.size)
    rule = np.where(hi == k.HI_EXCL, RULE_CODE["exclusive_decision"], -1)
    buf.add(p, day, act, lo=0, hi=hi, rule=rule, **cols)

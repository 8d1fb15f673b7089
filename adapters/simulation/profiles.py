"""Partnership profiles of the simulator, and how a mix of them is parsed and drawn.

Each profile injects exactly the deviations of ``docs/rules.md`` listed in
:data:`PROFILE_RULES` (healthy injects none), with a clear margin from every
default threshold, so the ground truth is known by construction.

Examples
--------
>>> parse_mix("healthy=3,stalled=1")
{'healthy': 0.75, 'stalled': 0.25}
>>> import numpy as np
>>> codes = assign_profiles(partnerships=4, mix={"healthy": 0.75, "stalled": 0.25},
...                         rng=np.random.default_rng(0))
>>> sorted(PROFILES[c] for c in codes)
['healthy', 'healthy', 'healthy', 'stalled']
"""

from __future__ import annotations

from types import MappingProxyType
from typing import TYPE_CHECKING, Final

import numpy as np

from engine.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "DEFAULT_MIX",
    "PROFILES",
    "PROFILE_RULES",
    "RULES",
    "assign_profiles",
    "parse_mix",
]

PROFILES: Final = (
    "healthy",
    "stalled",
    "absent_top_managers",
    "exclusive",
    "conflict_reinforcing",
    "hidden_objectives",
    "commitment_loss",
    "phase_skipping",
    "drifting",
)

# The seven rules of docs/rules.md, in a fixed order (truth codes index it).
RULES: Final = (
    "stalled_idea_to_action",
    "missing_top_manager_feedback",
    "phase_order_violation",
    "exclusive_decision",
    "unresolved_conflict",
    "hidden_objective",
    "commitment_loss",
)

# What each profile injects (drifting: what its degradation after onset creates).
PROFILE_RULES: Final = MappingProxyType(
    {
        "healthy": (),
        "stalled": ("stalled_idea_to_action",),
        "absent_top_managers": ("missing_top_manager_feedback",),
        "exclusive": ("exclusive_decision",),
        "conflict_reinforcing": ("unresolved_conflict",),
        "hidden_objectives": ("hidden_objective",),
        "commitment_loss": ("commitment_loss",),
        "phase_skipping": ("phase_order_violation",),
        "drifting": (
            "missing_top_manager_feedback",
            "exclusive_decision",
            "unresolved_conflict",
            "hidden_objective",
        ),
    }
)

DEFAULT_MIX: Final = MappingProxyType(
    {
        "healthy": 0.44,
        **{p: 0.07 for p in PROFILES if p != "healthy"},
    }
)


def parse_mix(text: str) -> dict[str, float]:
    """Return the normalized profile weights of ``name=weight,...`` text.

    Raises
    ------
    ConfigError
        An unknown profile, a weight that is not a non-negative number, or
        weights summing to zero.
    """
    weights: dict[str, float] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        name, sep, value = part.partition("=")
        name = name.strip()
        if not sep or name not in PROFILES:
            msg = f"mix entry {part!r}: expected PROFILE=WEIGHT with PROFILE one of {', '.join(PROFILES)}"
            raise ConfigError(msg)
        try:
            weight = float(value)
        except ValueError as e:
            msg = f"mix entry {part!r}: weight {value!r} is not a number"
            raise ConfigError(msg) from e
        if not weight >= 0:
            msg = f"mix entry {part!r}: weight must be >= 0"
            raise ConfigError(msg)
        weights[name] = weights.get(name, 0.0) + weight
    return normalize_mix(weights)


def normalize_mix(mix: Mapping[str, float]) -> dict[str, float]:
    """Return ``mix`` checked and scaled to sum to 1.

    Raises
    ------
    ConfigError
        An unknown profile, a negative weight, or a zero total.
    """
    unknown = [p for p in mix if p not in PROFILES]
    if unknown:
        msg = f"unknown profile(s) {', '.join(unknown)}; known: {', '.join(PROFILES)}"
        raise ConfigError(msg)
    if any(not w >= 0 for w in mix.values()):
        msg = "profile weights must be >= 0"
        raise ConfigError(msg)
    total = sum(mix.values())
    if total <= 0:
        msg = "profile weights sum to zero"
        raise ConfigError(msg)
    return {p: w / total for p, w in mix.items() if w > 0}


def assign_profiles(
    *, partnerships: int, mix: Mapping[str, float], rng: np.random.Generator
) -> np.ndarray:
    """Return one profile code (index into :data:`PROFILES`) per partnership.

    The counts honour the mix exactly (largest remainder), the order is a
    seeded shuffle.
    """
    weights = normalize_mix(mix)
    names = list(weights)
    exact = np.array([weights[n] for n in names]) * partnerships
    counts = np.floor(exact).astype(np.int64)
    short = partnerships - int(counts.sum())
    # largest remainders first; ties broken by the order of PROFILES
    order = np.lexsort((np.arange(len(names)), -(exact - counts)))
    counts[order[:short]] += 1
    codes = np.repeat([PROFILES.index(n) for n in names], counts).astype(np.int8)
    return rng.permutation(codes)

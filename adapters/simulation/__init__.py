"""Workload simulator: partnership logs with known ground truth (numpy, vectorized)."""

from __future__ import annotations

from adapters.simulation.profiles import (
    DEFAULT_MIX,
    PROFILE_RULES,
    PROFILES,
    RULES,
    parse_mix,
)
from adapters.simulation.simulator import (
    TRUTH_DEVIATIONS_SCHEMA,
    TRUTH_PARTNERSHIPS_SCHEMA,
    SimulatedLog,
    iter_simulation,
    simulate_partnerships,
    write_simulation,
)

__all__ = [
    "DEFAULT_MIX",
    "PROFILES",
    "PROFILE_RULES",
    "RULES",
    "TRUTH_DEVIATIONS_SCHEMA",
    "TRUTH_PARTNERSHIPS_SCHEMA",
    "SimulatedLog",
    "iter_simulation",
    "parse_mix",
    "simulate_partnerships",
    "write_simulation",
]

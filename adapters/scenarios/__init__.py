"""Built-in scenarios: the two seed cases of DOMAIN.md, encoded event by event."""

from __future__ import annotations

from adapters.scenarios.registry import SCENARIOS, load_scenario

__all__ = ["SCENARIOS", "load_scenario"]

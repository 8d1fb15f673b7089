"""The scenarios by name, and how to load one as an input frame.

Examples
--------
>>> sorted(SCENARIOS)
['oh-collaboration', 'urban-health-partnership']
>>> load_scenario("oh-collaboration")["case:concept:name"].unique().to_list()
['oh-collaboration']
"""

from __future__ import annotations

from types import MappingProxyType
from typing import TYPE_CHECKING, Final

from adapters.scenarios import oh_collaboration, urban_health
from adapters.scenarios.encoding import scenario_frame
from engine.errors import NotFoundError

if TYPE_CHECKING:
    import polars as pl

__all__ = ["SCENARIOS", "load_scenario"]

SCENARIOS: Final = MappingProxyType(
    {
        oh_collaboration.NAME: oh_collaboration.EVENTS,
        urban_health.NAME: urban_health.EVENTS,
    }
)


def load_scenario(name: str) -> pl.DataFrame:
    """Return the input frame (:data:`engine.schema.INPUT_SCHEMA`) of scenario ``name``.

    Raises
    ------
    NotFoundError
        No scenario has that name.
    """
    events = SCENARIOS.get(name)
    if events is None:
        msg = f"no scenario {name!r}; known: {', '.join(sorted(SCENARIOS))}"
        raise NotFoundError(msg)
    return scenario_frame(name, events)

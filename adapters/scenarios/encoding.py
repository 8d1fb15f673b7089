"""How scenario events are written down: one readable record per event of a seed.

Examples
--------
>>> people("PN", "physician", 2, "professional")
(('pn.physician01', 'PN', 'professional'), ('pn.physician02', 'PN', 'professional'))
>>> frame = scenario_frame("demo", (
...     ScenarioEvent("2020-01-02", "initiate_partnership", (("a", "A", "manager"),)),))
>>> frame["organization"].to_list(), frame["phase"].to_list()
(['A'], ['negotiation'])
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Final
from uuid import NAMESPACE_URL, uuid5

from engine.events import AttributeValue, NewEvent, Participant, new_events_to_frame
from engine.schema import THIRD_PARTY_ROLES

if TYPE_CHECKING:
    from collections.abc import Sequence

    import polars as pl

__all__ = ["ScenarioEvent", "people", "scenario_frame"]

Person = tuple[str, str, str]  # (actor, organization, role)
_NAMESPACE: Final = uuid5(NAMESPACE_URL, "https://partnermine/scenarios")


@dataclass(frozen=True)
class ScenarioEvent:
    """One event of a seed case: a day, an activity, who took part, and details."""

    day: str  # ISO date
    activity: str
    participants: tuple[Person, ...]
    phase: str | None = None
    workstream: str | None = None
    attributes: dict[str, AttributeValue] = field(default_factory=dict)
    organization: str | None = None  # default: the first partner participant's
    minute: int = 0  # order of events on the same day (file order breaks ties)


def people(org: str, stem: str, n: int, role: str) -> tuple[Person, ...]:
    """Return ``n`` pseudonymous actors ``org.stemNN`` of ``org`` in ``role``."""
    return tuple((f"{org.lower()}.{stem}{i:02d}", org, role) for i in range(1, n + 1))


def _organization(event: ScenarioEvent) -> str | None:
    if event.organization is not None:
        return event.organization
    partners = [o for _, o, r in event.participants if r not in THIRD_PARTY_ROLES]
    return partners[0] if partners else None


def scenario_frame(name: str, events: Sequence[ScenarioEvent]) -> pl.DataFrame:
    """Return the input frame of a scenario: ids derived from its name and position."""
    out = []
    for i, e in enumerate(events):
        stamp = datetime.combine(date.fromisoformat(e.day), time(9), tzinfo=UTC)
        out.append(
            NewEvent(
                event_id=uuid5(_NAMESPACE, f"{name}/{i}"),
                partnership_id=name,
                activity=e.activity,
                timestamp=stamp + timedelta(minutes=e.minute, seconds=i),
                phase=e.phase,  # type: ignore[arg-type]
                actor=e.participants[0][0] if e.participants else None,
                organization=_organization(e),
                participants=tuple(
                    Participant(actor=a, organization=o, role=r)  # type: ignore[arg-type]
                    for a, o, r in e.participants
                ),
                workstream=e.workstream,
                attributes=dict(e.attributes),
            )
        )
    return new_events_to_frame(out)

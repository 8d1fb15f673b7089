"""Pydantic models of one event, at the boundaries (CLI, JSON, single appends).

Bulk paths never go through these models row by row: they use the polars
frames of :mod:`engine.schema` and :mod:`engine.validation`.

Examples
--------
>>> from datetime import datetime, timezone
>>> from uuid import UUID
>>> e = NewEvent(
...     event_id=UUID(int=1), partnership_id="p1", activity="propose_idea",
...     timestamp=datetime(2020, 1, 1, tzinfo=timezone.utc),
... )
>>> e.effective_phase
'commitment'
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Annotated, Literal
from uuid import UUID

import polars as pl
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from engine import schema as s

__all__ = [
    "AttributeValue",
    "NewEvent",
    "Participant",
    "Phase",
    "RecordedEvent",
    "Role",
    "canonical_attributes",
    "frame_to_recorded_events",
    "new_events_to_frame",
]

Phase = Literal["negotiation", "commitment", "execution"]
Role = Literal[
    "top_manager",
    "manager",
    "professional",
    "specialist",
    "facilitator",
    "mediator",
    "researcher",
    "other",
]
Scalar = str | int | float | bool | None
AttributeValue = Scalar | list[Scalar]
NonEmpty = Annotated[str, Field(min_length=1)]


class Participant(BaseModel):
    """One person (or organization) taking part in an event."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    actor: str | None = None
    organization: str | None = None
    role: Role = "other"

    @field_validator("role", mode="before")
    @classmethod
    def _spell_role(cls, value: object) -> object:
        return s.normalize_term(value, s.ROLES) if isinstance(value, str) else value


class NewEvent(BaseModel):
    """An event as written by a user, before the store records it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: UUID
    partnership_id: NonEmpty
    activity: NonEmpty
    timestamp: AwareDatetime
    phase: Phase | None = None
    actor: str | None = None
    organization: str | None = None
    participants: tuple[Participant, ...] = ()
    workstream: str | None = None
    attributes: dict[str, AttributeValue] = Field(default_factory=dict)
    schema_version: int = s.CURRENT_SCHEMA_VERSION

    @field_validator("phase", mode="before")
    @classmethod
    def _spell_phase(cls, value: object) -> object:
        return s.normalize_term(value, s.PHASES) if isinstance(value, str) else value

    @field_validator("attributes")
    @classmethod
    def _attributes_serializable(
        cls, value: dict[str, AttributeValue]
    ) -> dict[str, AttributeValue]:
        canonical_attributes(value)
        return value

    @property
    def effective_phase(self) -> str | None:
        """Return the given phase, else the stage of a canonical activity."""
        return self.phase or s.ACTIVITY_STAGE.get(self.activity)


class RecordedEvent(NewEvent):
    """An event as the store recorded it."""

    version: int = Field(ge=1)
    position: int = Field(ge=1)
    recorded_at: AwareDatetime
    content_hash: str
    hash: str


def canonical_attributes(attributes: dict[str, AttributeValue]) -> str | None:
    """Return the canonical JSON text of ``attributes`` (None when empty).

    Examples
    --------
    >>> canonical_attributes({"b": 1, "a": "x"})
    '{"a":"x","b":1}'
    >>> canonical_attributes({}) is None
    True
    """
    if not attributes:
        return None
    return json.dumps(
        attributes,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )


def _offset_seconds(ts: datetime) -> int:
    offset = ts.utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


def new_events_to_frame(events: list[NewEvent]) -> pl.DataFrame:
    """Return the input frame (:data:`engine.schema.INPUT_SCHEMA`) of ``events``.

    The phase is inferred from canonical activities when absent.
    """
    rows = {
        s.EVENT_ID: [str(e.event_id) for e in events],
        s.PARTNERSHIP_ID: [e.partnership_id for e in events],
        s.ACTIVITY: [e.activity for e in events],
        s.TIMESTAMP: [e.timestamp.astimezone(UTC) for e in events],
        s.TZ_OFFSET: [_offset_seconds(e.timestamp) for e in events],
        s.PHASE: [e.effective_phase for e in events],
        s.ACTOR: [e.actor for e in events],
        s.ORGANIZATION: [e.organization for e in events],
        s.PARTICIPANTS: [[p.model_dump() for p in e.participants] for e in events],
        s.WORKSTREAM: [e.workstream for e in events],
        s.ATTRIBUTES: [canonical_attributes(e.attributes) for e in events],
        s.SCHEMA_VERSION: [e.schema_version for e in events],
    }
    return pl.DataFrame(rows, schema=s.INPUT_SCHEMA)


def frame_to_recorded_events(frame: pl.DataFrame) -> list[RecordedEvent]:
    """Return the recorded events of an event frame, in frame order."""
    out: list[RecordedEvent] = []
    for row in frame.iter_rows(named=True):
        tz = timezone(timedelta(seconds=row[s.TZ_OFFSET] or 0))
        out.append(
            RecordedEvent(
                event_id=UUID(row[s.EVENT_ID]),
                partnership_id=row[s.PARTNERSHIP_ID],
                activity=row[s.ACTIVITY],
                timestamp=row[s.TIMESTAMP].astimezone(tz),
                phase=row[s.PHASE],
                actor=row[s.ACTOR],
                organization=row[s.ORGANIZATION],
                participants=tuple(
                    Participant(**p) for p in (row[s.PARTICIPANTS] or [])
                ),
                workstream=row[s.WORKSTREAM],
                attributes=json.loads(row[s.ATTRIBUTES]) if row[s.ATTRIBUTES] else {},
                schema_version=row[s.SCHEMA_VERSION],
                version=row[s.VERSION],
                position=row[s.POSITION],
                recorded_at=row[s.RECORDED_AT],
                content_hash=row[s.CONTENT_HASH],
                hash=row[s.HASH],
            )
        )
    return out

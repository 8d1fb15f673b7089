from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import pytest
from pydantic import ValidationError as PydanticValidationError

from engine.events import NewEvent, canonical_attributes, new_events_to_frame


def test_naive_timestamp_is_refused():
    with pytest.raises(PydanticValidationError):
        NewEvent(
            event_id=UUID(int=1),
            partnership_id="p",
            activity="x",
            timestamp=datetime(2020, 1, 1),
        )


def test_unknown_field_and_empty_ids_are_refused():
    with pytest.raises(PydanticValidationError):
        NewEvent(
            event_id=UUID(int=1),
            partnership_id="",
            activity="x",
            timestamp=datetime(2020, 1, 1, tzinfo=UTC),
        )
    with pytest.raises(PydanticValidationError):
        NewEvent.model_validate(
            {
                "event_id": str(UUID(int=1)),
                "partnership_id": "p",
                "activity": "x",
                "timestamp": "2020-01-01T00:00:00Z",
                "colour": "red",
            }
        )


def test_attributes_must_be_json_scalars():
    with pytest.raises(PydanticValidationError):
        NewEvent(
            event_id=UUID(int=1),
            partnership_id="p",
            activity="x",
            timestamp=datetime(2020, 1, 1, tzinfo=UTC),
            attributes={"x": float("nan")},
        )


def test_canonical_attributes_sorted_compact():
    assert canonical_attributes({"z": [1, "a"], "a": None}) == '{"a":null,"z":[1,"a"]}'


def test_frame_keeps_offset_seconds():
    e = NewEvent.model_validate(
        {
            "event_id": str(UUID(int=1)),
            "partnership_id": "p",
            "activity": "start_action",
            "timestamp": "2020-01-01T10:00:00+05:30",
        }
    )
    frame = new_events_to_frame([e])
    assert frame["tz_offset_s"].to_list() == [19800]
    assert frame["phase"].to_list() == ["execution"]

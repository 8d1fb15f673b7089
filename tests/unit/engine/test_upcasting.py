from __future__ import annotations

import polars as pl

from engine import schema as s
from engine.events import new_events_to_frame
from engine.upcasting import upcast_event_frame
from tests.conftest import make_event


def test_v1_topic_becomes_workstream_and_v2_untouched():
    frame = new_events_to_frame(
        [
            make_event(1, schema_version=1, attributes={"topic": "funding"}),
            make_event(2, workstream="contract", attributes={"topic": "ignored"}),
        ]
    )
    out = upcast_event_frame(frame)
    assert out[s.WORKSTREAM].to_list() == ["funding", "contract"]
    assert out[s.SCHEMA_VERSION].to_list() == [2, 2]


def test_empty_frame_passes_through():
    empty = pl.DataFrame(schema=s.INPUT_SCHEMA)
    assert upcast_event_frame(empty).is_empty()

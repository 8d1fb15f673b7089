"""Identifiers and fields carrying SQL, quotes, NULs or huge text are data."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cli.bootstrap import open_store
from engine import schema as s
from engine.events import NewEvent, Participant, new_events_to_frame

HOSTILE = [
    "'; DROP TABLE pm_events; --",
    'Robert"); DROP TABLE events;--',
    "a\x00b",
    "\x00",
    'O\'Brien "quoted" \\back\\slash \\x00ff',
    "%s %(x)s $1 ? :name",
    "tab\tnew\nline\rcr",
    "名前 émoji 🎉 \u202e",
    "x" * 100_000,
    # incompressible and long: beyond a btree index entry (~2.7 kB) if indexed raw
    "".join(chr(0x4E00 + (i * 7919) % 20_000) for i in range(20_000)),
]


def hostile_event(n: int, text: str) -> NewEvent:
    return NewEvent(
        event_id=UUID(int=n),
        partnership_id=text,
        activity=text,
        timestamp=datetime(2020, 1, 1, tzinfo=UTC),
        actor=text,
        organization=text,
        workstream=text,
        participants=(Participant(actor=text, organization=text, role="other"),),
        attributes={text: text, "k": text},
    )


@pytest.fixture
def store(store_url):
    opened = open_store(store_url)
    yield opened
    opened.close()


def assert_round_trip(store, events):
    for e in events:
        [read] = [
            r for r in store.read_stream(e.partnership_id) if r.event_id == e.event_id
        ]
        written = e.model_dump(exclude={"phase"})
        assert read.model_dump(include=set(written)) == written
    frame = store.read_all()
    assert set(frame[s.EVENT_ID]) >= {str(e.event_id) for e in events}
    one = store.to_frame(partnerships=[events[0].partnership_id])
    assert set(one[s.PARTNERSHIP_ID]) == {events[0].partnership_id}


def test_hostile_strings_are_stored_and_read_back(store):
    single = [hostile_event(i + 1, text) for i, text in enumerate(HOSTILE)]
    for e in single:
        store.append(e.partnership_id, [e], expected_version=0)
    bulk = [hostile_event(100 + i, text + "/bulk") for i, text in enumerate(HOSTILE)]
    report = store.append_frame(new_events_to_frame(bulk))
    assert report.appended == len(HOSTILE)
    assert_round_trip(store, single)
    assert_round_trip(store, bulk)
    assert store.head_position() == 2 * len(HOSTILE)
    assert store.verify().ok


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(texts=st.lists(st.text(min_size=1, max_size=40), min_size=1, max_size=4))
def test_random_text_round_trips(store, texts):
    start = 1_000_000 + store.head_position() * 10
    events = [hostile_event(start + i, t) for i, t in enumerate(texts)]
    # several events may share a partnership: append them as one frame
    store.append_frame(new_events_to_frame(events))
    assert_round_trip(store, events)
    assert store.verify().ok

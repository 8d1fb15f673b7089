"""The EventStore contract: written once, run against every store adapter."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import schema as s
from engine.errors import ConcurrencyError, DuplicateEventError, ValidationError
from engine.events import new_events_to_frame
from engine.ports import Checkpoint
from tests.conftest import make_event


def assert_same_event(read, original):
    """A recorded event equals what was written (the phase inferred when absent)."""
    fields = set(type(original).model_fields) - {"phase"}
    assert read.model_dump(include=fields) == original.model_dump(include=fields)
    assert read.phase == original.effective_phase


def test_append_read_round_trip(harness):
    store = harness.store
    events = [
        make_event(i, day=i, actor=f"a{i}", organization="EM") for i in range(1, 4)
    ]
    recorded = store.append("p1", events, expected_version=0)
    assert [r.version for r in recorded] == [1, 2, 3]
    back = store.read_stream("p1")
    assert [r.event_id for r in back] == [e.event_id for e in events]
    for original, read in zip(events, back, strict=True):
        assert_same_event(read, original)
    assert store.stream_version("p1") == 3
    assert store.stream_version("nobody") == 0


def test_expected_version_conflict_writes_nothing(harness):
    store = harness.store
    store.append("p1", [make_event(1)], expected_version=0)
    with pytest.raises(ConcurrencyError) as info:
        store.append("p1", [make_event(2)], expected_version=0)
    assert (info.value.expected, info.value.actual) == (0, 1)
    assert store.stream_version("p1") == 1
    assert store.head_position() == 1


def test_idempotent_retry_returns_originals(harness):
    store = harness.store
    first = store.append("p1", [make_event(1), make_event(2)], expected_version=0)
    # a retry after a lost acknowledgement: same events, same expected version
    again = store.append("p1", [make_event(1), make_event(2)], expected_version=0)
    assert again == first
    assert store.head_position() == 2


def test_same_id_other_content_is_refused(harness):
    store = harness.store
    store.append("p1", [make_event(1)], expected_version=0)
    with pytest.raises(DuplicateEventError):
        store.append("p1", [make_event(1, activity="sign_agreement")])
    assert store.head_position() == 1


def test_batch_is_all_or_nothing(harness):
    store = harness.store
    store.append("p1", [make_event(1)], expected_version=0)
    batch = new_events_to_frame([make_event(10, "p2"), make_event(1, activity="other")])
    with pytest.raises(DuplicateEventError):
        store.append_frame(batch)
    assert store.head_position() == 1
    assert store.stream_version("p2") == 0


def test_invalid_frame_is_refused_whole(harness):
    store = harness.store
    batch = new_events_to_frame([make_event(1), make_event(2)]).with_columns(
        pl.Series(s.PHASE, ["negotiation", "bogus"])
    )
    with pytest.raises(ValidationError) as info:
        store.append_frame(batch)
    assert info.value.row == 2
    assert info.value.field == s.PHASE
    assert store.head_position() == 0


def test_global_order_and_read_all(harness):
    store = harness.store
    store.append("a", [make_event(1, "a")])
    store.append("b", [make_event(2, "b"), make_event(3, "b")])
    store.append("a", [make_event(4, "a")])
    frame = store.read_all()
    assert frame[s.POSITION].to_list() == [1, 2, 3, 4]
    assert frame[s.PARTNERSHIP_ID].to_list() == ["a", "b", "b", "a"]
    assert frame[s.VERSION].to_list() == [1, 1, 2, 2]
    assert store.read_all(from_position=3, limit=1)[s.POSITION].to_list() == [3]
    assert frame.schema == s.EVENT_SCHEMA


def test_append_frame_many_partnerships(harness):
    store = harness.store
    events = [make_event(i, f"p{i % 3}", day=i) for i in range(1, 31)]
    report = store.append_frame(new_events_to_frame(events))
    assert (report.appended, report.duplicates) == (30, 0)
    assert (report.first_position, report.last_position) == (1, 30)
    again = store.append_frame(new_events_to_frame(events))
    assert (again.appended, again.duplicates) == (0, 30)
    frame = store.to_frame()
    versions = frame.group_by(s.PARTNERSHIP_ID).agg(pl.col(s.VERSION).sort())
    for row in versions.iter_rows():
        assert row[1] == list(range(1, len(row[1]) + 1))
    assert store.verify().ok


def test_to_frame_filters(harness):
    store = harness.store
    events = [make_event(i, f"p{i % 2}", day=i) for i in range(1, 11)]
    store.append_frame(new_events_to_frame(events))
    only = store.to_frame(partnerships=["p1"])
    assert set(only[s.PARTNERSHIP_ID]) == {"p1"}
    windowed = store.to_frame(
        start=datetime(2020, 1, 4, tzinfo=UTC), end=datetime(2020, 1, 7, tzinfo=UTC)
    )
    assert windowed[s.TIMESTAMP].dt.day().to_list() == [4, 5, 6]


def test_checkpoint_stored_with_batch(harness):
    store = harness.store
    assert store.read_checkpoint("watch") == 0
    store.append_frame(
        new_events_to_frame([make_event(1)]), checkpoint=Checkpoint("watch", 7)
    )
    assert store.read_checkpoint("watch") == 7
    store.append_frame(new_events_to_frame([]), checkpoint=Checkpoint("watch", 9))
    assert store.read_checkpoint("watch") == 9


def test_verify_catches_an_edited_row(harness):
    store = harness.store
    store.append("p1", [make_event(i, day=i) for i in range(1, 6)])
    assert store.verify().ok
    harness.tamper(3, s.ACTIVITY, "sign_agreement")
    report = store.verify()
    assert not report.ok
    assert report.first_broken is not None
    assert (report.first_broken.position, report.first_broken.version) == (3, 3)
    assert "edited" in report.first_broken.reason


def test_append_only_is_enforced(harness):
    if harness.raw_update is None:
        pytest.skip("this store exposes no update path at all")
    harness.store.append("p1", [make_event(1)])
    with pytest.raises(Exception, match=r"(?i)append-only"):
        harness.raw_update(1)


def test_timestamps_keep_offset_and_microseconds(harness):
    from datetime import timedelta, timezone

    ts = datetime(
        2021, 3, 4, 5, 6, 7, 891011, tzinfo=timezone(timedelta(hours=-5, minutes=-30))
    )
    harness.store.append("p1", [make_event(1, timestamp=ts)])
    back = harness.store.read_stream("p1")[0].timestamp
    assert back == ts
    assert back.utcoffset() == ts.utcoffset()


_text = st.text(min_size=1, max_size=30)
_maybe = st.none() | st.text(max_size=20)
_participant = st.tuples(_text, _text, st.sampled_from(s.ROLES))
_attr = st.dictionaries(
    st.text(min_size=1, max_size=10),
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=20),
    max_size=4,
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    rows=st.lists(
        st.tuples(
            _text,
            st.sampled_from(s.ACTIVITIES),
            _maybe,
            _maybe,
            st.lists(_participant, max_size=3),
            _attr,
        ),
        min_size=1,
        max_size=12,
    ),
)
def test_reads_equal_appends(harness, rows):
    store = harness.store
    # every example appends at least one event, so ids never repeat across examples
    base = (store.head_position() + 1) * 100
    events = [
        make_event(
            base + i,
            pid,
            act,
            day=i,
            actor=actor,
            organization=org,
            participants=tuple(parts),
            attributes=attrs,
        )
        for i, (pid, act, actor, org, parts, attrs) in enumerate(rows)
    ]
    before = store.head_position()
    store.append_frame(new_events_to_frame(events))
    frame = store.read_all(from_position=before + 1)
    assert frame[s.EVENT_ID].to_list() == [str(e.event_id) for e in events]
    for e in events:
        [read] = [
            r for r in store.read_stream(e.partnership_id) if r.event_id == e.event_id
        ]
        assert_same_event(read, e)
    assert store.verify().ok

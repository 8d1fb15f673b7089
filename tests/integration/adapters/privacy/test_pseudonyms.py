from __future__ import annotations

import hmac

import pytest

from adapters.privacy import pseudonym_of, pseudonymize_frame
from engine import schema as s
from engine.errors import ConfigError
from engine.events import new_events_to_frame
from engine.memory_store import MemoryEventStore
from tests.conftest import TickingClock, make_event

KEY = b"0123456789abcdef0123456789abcdef"


def sample_frame():
    return new_events_to_frame(
        [
            make_event(
                1,
                actor="Anna Virtanen",
                participants=(
                    ("Anna Virtanen", "EM", "manager"),
                    ("Bo", "SP", "other"),
                ),
            ),
            make_event(2, actor="Bo", participants=((None, "SP", "other"),)),
            make_event(3, actor=None),
        ]
    )


def test_pseudonym_is_keyed_hmac_sha256():
    expected = hmac.new(KEY, b"Anna Virtanen", "sha256").hexdigest()[:20]
    assert pseudonym_of("Anna Virtanen", key=KEY) == f"ps_{expected}"
    assert pseudonym_of("Anna Virtanen", key=b"x" * 32) != pseudonym_of(
        "Anna Virtanen", key=KEY
    )


def test_frame_names_replaced_everywhere_consistently():
    out = pseudonymize_frame(sample_frame(), key=KEY)
    anna, bo = pseudonym_of("Anna Virtanen", key=KEY), pseudonym_of("Bo", key=KEY)
    assert out[s.ACTOR].to_list() == [anna, bo, None]
    actors = out[s.PARTICIPANTS].to_list()
    assert [p["actor"] for p in actors[0]] == [anna, bo]
    assert actors[1][0]["actor"] is None
    # organizations and roles are not personal: kept
    assert [p["organization"] for p in actors[0]] == ["EM", "SP"]
    assert out.drop(s.ACTOR, s.PARTICIPANTS).equals(
        sample_frame().drop(s.ACTOR, s.PARTICIPANTS)
    )


def test_key_never_reaches_the_log():
    store = MemoryEventStore(clock=TickingClock())
    store.append_frame(pseudonymize_frame(sample_frame(), key=KEY))
    dumped = store.read_all().write_ndjson()
    assert "Anna" not in dumped
    assert KEY.decode() not in dumped
    assert KEY.hex() not in dumped
    assert store.verify().ok


def test_short_key_is_refused():
    with pytest.raises(ConfigError, match="16 bytes"):
        pseudonymize_frame(sample_frame(), key=b"short")

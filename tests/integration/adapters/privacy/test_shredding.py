from __future__ import annotations

import base64
from datetime import UTC, datetime

import polars as pl
import pytest

from adapters.privacy import (
    PersonKeyStore,
    encrypt_personal_fields,
    erase_person,
    reveal_personal_fields,
)
from adapters.privacy.cipher import IV_BYTES, KEY_BYTES, open_text, seal_text
from adapters.privacy.shredding import ERASED_ACTIVITY, TOKEN_PREFIX
from engine import schema as s
from engine.errors import ConfigError, IntegrityError, NotFoundError
from engine.events import new_events_to_frame
from engine.memory_store import MemoryEventStore
from tests.conftest import TickingClock, make_event


class FixedClock:
    def now(self) -> datetime:
        return datetime(2031, 5, 1, tzinfo=UTC)


@pytest.fixture
def keys(tmp_path):
    opened = PersonKeyStore(tmp_path / "keys.db", create=True)
    yield opened
    opened.close()


def events_frame() -> pl.DataFrame:
    return new_events_to_frame(
        [
            make_event(
                1, "p1", actor="Anna", participants=(("Anna", "EM", "manager"),)
            ),
            make_event(2, "p1", actor="Bo", participants=(("Anna", "EM", "manager"),)),
            make_event(3, "p2", actor="Anna"),
            make_event(4, "p3", actor="Bo"),
        ]
    )


def test_cipher_round_trip_is_deterministic_aes_siv():
    key = bytes(range(KEY_BYTES))
    sealed = seal_text("Ünïcødé name", key=key)
    assert open_text(sealed, key=key) == "Ünïcødé name"
    # one person, one token; SIV (16 bytes) + ciphertext as long as the UTF-8 text
    assert seal_text("Ünïcødé name", key=key) == sealed
    assert len(sealed) == IV_BYTES + len("Ünïcødé name".encode())
    assert seal_text("Ünïcødé name", key=bytes(KEY_BYTES)) != sealed
    assert open_text(seal_text("", key=key), key=key) == ""


@pytest.mark.parametrize("position", [0, IV_BYTES - 1, IV_BYTES, -1])
def test_cipher_refuses_a_flipped_bit(position):
    key = bytes(range(KEY_BYTES))
    sealed = bytearray(seal_text("Anna Virtanen", key=key))
    sealed[position] ^= 1
    with pytest.raises(IntegrityError, match="does not authenticate"):
        open_text(bytes(sealed), key=key)


def test_cipher_refuses_wrong_key_truncation_and_bad_key_size():
    key = bytes(range(KEY_BYTES))
    sealed = seal_text("Anna", key=key)
    with pytest.raises(IntegrityError):
        open_text(sealed, key=bytes(KEY_BYTES))
    with pytest.raises(IntegrityError):
        open_text(sealed[: IV_BYTES - 1], key=key)
    with pytest.raises(IntegrityError):
        open_text(b"", key=key)
    with pytest.raises(ConfigError, match="64 bytes"):
        seal_text("Anna", key=bytes(32))


def test_reveal_refuses_tampered_and_malformed_tokens(keys):
    sealed = encrypt_personal_fields(events_frame(), keys=keys)
    token = sealed[s.ACTOR][0]
    prefix, body = token.rsplit(".", 1)
    flipped = body[:-3] + ("A" if body[-3] != "A" else "B") + body[-2:]
    for bad in (f"{prefix}.{flipped}", f"{prefix}.{body[:8]}", prefix, f"{prefix}.é"):
        frame = sealed.with_columns(pl.lit(bad).alias(s.ACTOR))
        with pytest.raises(IntegrityError):
            reveal_personal_fields(frame, keys=keys)


def test_an_erased_token_does_not_open_under_a_new_key(keys):
    store = MemoryEventStore(clock=TickingClock())
    store.append_frame(encrypt_personal_fields(events_frame(), keys=keys))
    old_token = store.to_frame()[s.ACTOR][0]
    erase_person("Anna", keys=keys, store=store, clock=FixedClock())
    # Anna comes back later: she gets a fresh key and a fresh key id
    new_id, new_key = keys.keys_for(["Anna"])["Anna"]
    assert not old_token.startswith(f"{TOKEN_PREFIX}{new_id}.")
    sealed = base64.urlsafe_b64decode(old_token.rsplit(".", 1)[1])
    with pytest.raises(IntegrityError):
        open_text(sealed, key=new_key)
    still = reveal_personal_fields(store.to_frame(), keys=keys)
    assert still[s.ACTOR][0] == old_token


def test_log_holds_ciphertext_and_reveal_restores(keys):
    store = MemoryEventStore(clock=TickingClock())
    store.append_frame(encrypt_personal_fields(events_frame(), keys=keys))
    stored = store.to_frame()
    assert "Anna" not in stored.write_ndjson()
    assert stored[s.ACTOR].str.starts_with(TOKEN_PREFIX).all()
    # one person, one token: distinct actors are unchanged
    assert stored[s.ACTOR].n_unique() == 2
    revealed = reveal_personal_fields(stored, keys=keys)
    assert revealed[s.ACTOR].to_list() == ["Anna", "Bo", "Anna", "Bo"]
    assert revealed[s.PARTICIPANTS].to_list()[0][0]["actor"] == "Anna"
    # encrypting again is a no-op on tokens
    again = encrypt_personal_fields(stored, keys=keys)
    assert again[s.ACTOR].equals(stored[s.ACTOR])


def test_erasure_keeps_the_chain_and_shreds_the_person(keys, tmp_path):
    store = MemoryEventStore(clock=TickingClock())
    store.append_frame(encrypt_personal_fields(events_frame(), keys=keys))
    before = store.to_frame()
    report = erase_person("Anna", keys=keys, store=store, clock=FixedClock())
    assert report.partnerships == ("p1", "p2")
    assert (report.events_appended, report.key_deleted) == (2, True)
    after = store.to_frame()
    # stored events untouched; two erasure events appended; chain verifies
    assert after.head(before.height).equals(before)
    erasures = after.filter(pl.col(s.ACTIVITY) == ERASED_ACTIVITY)
    assert sorted(erasures[s.PARTNERSHIP_ID]) == ["p1", "p2"]
    assert erasures[s.ATTRIBUTES].str.contains(report.key_id).all()
    assert store.verify().ok
    # Anna can no longer be revealed; Bo still can; Anna stays one anonymous id
    revealed = reveal_personal_fields(after, keys=keys)
    actors = revealed.filter(pl.col(s.ACTIVITY) != ERASED_ACTIVITY)[s.ACTOR]
    assert actors[1] == "Bo"
    assert actors[0].startswith(TOKEN_PREFIX)
    assert actors[0] == actors[2]
    # the key file itself no longer holds anything about her
    assert keys.key_id_of("Anna") is None
    assert report.key_id.encode() not in (tmp_path / "keys.db").read_bytes()
    with pytest.raises(NotFoundError):
        erase_person("Anna", keys=keys, store=store, clock=FixedClock())


def test_erasure_retry_after_a_crash_between_steps(keys):
    store = MemoryEventStore(clock=TickingClock())
    store.append_frame(encrypt_personal_fields(events_frame(), keys=keys))

    class DeleteFails:
        """The key file dies after the erasure events were appended."""

        def key_id_of(self, name):
            return keys.key_id_of(name)

        def delete_key(self, key_id):
            msg = "disk gone"
            raise OSError(msg)

    with pytest.raises(OSError, match="disk gone"):
        erase_person("Anna", keys=DeleteFails(), store=store, clock=FixedClock())
    report = erase_person("Anna", keys=keys, store=store, clock=TickingClock())
    assert (report.events_appended, report.key_deleted) == (0, True)
    frame = store.to_frame()
    assert (frame[s.ACTIVITY] == ERASED_ACTIVITY).sum() == 2
    assert store.verify().ok

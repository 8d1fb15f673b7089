"""Crypto-shredding: personal fields encrypted per person, erased by key deletion.

``encrypt_personal_fields`` replaces each actor name (``org:resource`` and the
participants' ``actor``) by a token ``pm2.<key id>.<ciphertext>`` (AES-256-SIV, see
:mod:`adapters.privacy.cipher`) before the events are appended, so the hash
chain covers the ciphertext. Erasing a person
(:func:`erase_person`) appends one ``personal_data_erased`` event to every
partnership the person appears in, then deletes their key: the stored events
are untouched, the chain still verifies, and the tokens can no longer be
decrypted nor linked to the person (the key id is random). They remain
distinct, stable ids, so counts of distinct actors are unchanged.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import polars as pl

from adapters.privacy.cipher import open_text, seal_text
from adapters.privacy.pseudonyms import actor_names, replace_actor_names
from engine import schema as s
from engine.errors import IntegrityError, NotFoundError
from engine.events import NewEvent, new_events_to_frame

if TYPE_CHECKING:
    from adapters.privacy.keys import PersonKeyStore
    from engine.ports import Clock, EventStore

__all__ = [
    "ERASED_ACTIVITY",
    "PERSONAL_FIELDS",
    "TOKEN_PREFIX",
    "ErasureReport",
    "encrypt_personal_fields",
    "erase_person",
    "reveal_personal_fields",
]

TOKEN_PREFIX: Final = "pm2."
"""``pm2``: AES-256-SIV with 512-bit keys (``pm1`` was a stdlib HMAC construction)."""
ERASED_ACTIVITY: Final = "personal_data_erased"
PERSONAL_FIELDS: Final = (s.ACTOR, f"{s.PARTICIPANTS}.actor")
_ERASURE_NAMESPACE: Final = uuid.UUID("6f1c2a40-7d1e-4c55-9b1e-5a0d3e7c9f21")


def _token(key_id: str, sealed: bytes) -> str:
    return f"{TOKEN_PREFIX}{key_id}.{base64.urlsafe_b64encode(sealed).decode()}"


def encrypt_personal_fields(
    frame: pl.DataFrame, *, keys: PersonKeyStore
) -> pl.DataFrame:
    """Return ``frame`` with actor names encrypted under each person's key.

    Names that are already tokens are left alone, so it is idempotent.
    """
    names = actor_names(frame)
    names = names.filter(~names.str.starts_with(TOKEN_PREFIX))
    person_keys = keys.keys_for(names.to_list())
    mapping = {
        name: _token(key_id, seal_text(name, key=key))
        for name, (key_id, key) in person_keys.items()
    }
    return replace_actor_names(frame, mapping)


def _key_id_expr(tokens: pl.Expr) -> pl.Expr:
    return tokens.str.strip_prefix(TOKEN_PREFIX).str.split_exact(".", 1).struct[0]


def _sealed_of(token: str, body: str | None) -> bytes:
    try:
        return base64.urlsafe_b64decode((body or "").encode("ascii"))
    except (binascii.Error, ValueError) as e:
        msg = f"a personal-field token is malformed: {token[:40]!r}"
        raise IntegrityError(msg) from e


def reveal_personal_fields(
    frame: pl.DataFrame, *, keys: PersonKeyStore
) -> pl.DataFrame:
    """Return ``frame`` with every token whose key still exists decrypted.

    Tokens of erased persons stay as they are: anonymous, stable ids.

    Raises
    ------
    IntegrityError
        A token whose key exists is malformed, or does not authenticate under
        its key (it was altered).
    """
    names = actor_names(frame)
    tokens = names.filter(names.str.starts_with(TOKEN_PREFIX)).to_frame("token")
    parsed = tokens.with_columns(
        _key_id_expr(pl.col("token")).alias("key_id"),
        pl.col("token").str.split(".").list.get(2, null_on_oob=True).alias("body"),
    )
    known = keys.keys_by_id(parsed["key_id"].drop_nulls().to_list())
    mapping: dict[str, str] = {}
    for token, key_id, body in parsed.iter_rows():
        key = known.get(key_id)
        if key is None:  # erased (or never ours): stays an anonymous id
            continue
        mapping[token] = open_text(_sealed_of(token, body), key=key)
    return replace_actor_names(frame, mapping)


@dataclass(frozen=True, slots=True)
class ErasureReport:
    """What an erasure did."""

    key_id: str
    partnerships: tuple[str, ...]
    events_appended: int
    key_deleted: bool


def _mentions(frame: pl.DataFrame, prefix: str) -> pl.Expr:
    in_participants = (
        pl.col(s.PARTICIPANTS)
        .list.eval(pl.element().struct.field("actor").str.starts_with(prefix))
        .list.any()
        .fill_null(value=False)
    )
    return pl.col(s.ACTOR).str.starts_with(prefix).fill_null(value=False) | (
        in_participants if s.PARTICIPANTS in frame.columns else pl.lit(value=False)
    )


def erase_person(
    name: str, *, keys: PersonKeyStore, store: EventStore, clock: Clock
) -> ErasureReport:
    """Erase a person: record the erasure in the log, then delete their key.

    One ``personal_data_erased`` event (attributes: ``key_id``, ``fields``) is
    appended to each partnership the person appears in, with a deterministic
    id; partnerships that already hold it are skipped, so a retry after a
    failure between the two steps completes the erasure without duplicates.

    Raises
    ------
    NotFoundError
        The person has no key (unknown, or already erased).
    """
    key_id = keys.key_id_of(name)
    if key_id is None:
        msg = f"no personal key for {name!r}: unknown, or already erased"
        raise NotFoundError(msg)
    log = store.to_frame()
    touched = log.filter(_mentions(log, f"{TOKEN_PREFIX}{key_id}."))
    done = log.filter(
        (pl.col(s.ACTIVITY) == ERASED_ACTIVITY)
        & (pl.col(s.ATTRIBUTES).str.json_path_match("$.key_id") == key_id)
    )
    pending = sorted(
        set(touched[s.PARTNERSHIP_ID].unique()) - set(done[s.PARTNERSHIP_ID])
    )
    now = clock.now()
    events = [
        NewEvent(
            event_id=uuid.uuid5(_ERASURE_NAMESPACE, f"{key_id}/{pid}"),
            partnership_id=pid,
            activity=ERASED_ACTIVITY,
            timestamp=now,
            attributes={"key_id": key_id, "fields": list(PERSONAL_FIELDS)},
        )
        for pid in pending
    ]
    report = store.append_frame(new_events_to_frame(events))
    deleted = keys.delete_key(key_id)
    return ErasureReport(
        key_id=key_id,
        partnerships=tuple(sorted(set(touched[s.PARTNERSHIP_ID].unique()))),
        events_appended=report.appended,
        key_deleted=deleted,
    )

"""Keyed pseudonyms for actor names (HMAC-SHA256), computed once per name.

``ingest --pseudonymize`` replaces every actor name (``org:resource`` and each
participant's ``actor``) by ``ps_`` + the first 20 hex digits (80 bits) of
HMAC-SHA256(key, name). The same name always gets the same pseudonym under the
same key, so indicators that count distinct actors are unchanged; without the
key a pseudonym cannot be linked back to a name by hashing candidate names.
The key comes from the caller and is never written to the log.

Examples
--------
>>> import polars as pl
>>> from engine import schema as s
>>> frame = pl.DataFrame({s.ACTOR: ["Ann", None, "Ann"]})
>>> out = pseudonymize_frame(frame, key=b"k" * 32)
>>> out[s.ACTOR].to_list()[0] == pseudonym_of("Ann", key=b"k" * 32)
True
>>> out[s.ACTOR].n_unique(), out[s.ACTOR].null_count()
(2, 1)
"""

from __future__ import annotations

import hmac
from functools import partial
from typing import Final

import polars as pl

from engine import schema as s
from engine.errors import ConfigError

__all__ = [
    "MIN_KEY_BYTES",
    "PSEUDONYM_PREFIX",
    "actor_names",
    "pseudonym_of",
    "pseudonymize_frame",
    "replace_actor_names",
]

MIN_KEY_BYTES: Final = 16
PSEUDONYM_PREFIX: Final = "ps_"
_DIGITS: Final = 20


def _check_key(key: bytes) -> None:
    if len(key) < MIN_KEY_BYTES:
        msg = f"a pseudonymization key needs at least {MIN_KEY_BYTES} bytes"
        raise ConfigError(msg)


def pseudonym_of(name: str, *, key: bytes) -> str:
    """Return the pseudonym of one actor name under ``key``.

    Raises
    ------
    ConfigError
        The key is shorter than :data:`MIN_KEY_BYTES`.
    """
    _check_key(key)
    digest = hmac.digest(key, name.encode(), "sha256").hex()
    return PSEUDONYM_PREFIX + digest[:_DIGITS]


def actor_names(frame: pl.DataFrame) -> pl.Series:
    """Return the distinct actor names of a frame (actor and participants)."""
    parts: list[pl.Series] = []
    if s.ACTOR in frame.columns:
        parts.append(frame[s.ACTOR].cast(pl.String))
    if s.PARTICIPANTS in frame.columns:
        parts.append(
            frame[s.PARTICIPANTS].explode().struct.field("actor").cast(pl.String)
        )
    if not parts:
        return pl.Series("actor", [], pl.String)
    return pl.concat(parts).drop_nulls().unique().alias("actor")


def replace_actor_names(frame: pl.DataFrame, mapping: dict[str, str]) -> pl.DataFrame:
    """Return ``frame`` with actor names replaced through ``mapping``.

    Names absent from ``mapping`` are kept; nulls stay null.
    """
    exprs: list[pl.Expr] = []
    if s.ACTOR in frame.columns:
        exprs.append(pl.col(s.ACTOR).replace(mapping))
    if s.PARTICIPANTS in frame.columns:
        exprs.append(
            pl.col(s.PARTICIPANTS).list.eval(
                pl.element().struct.with_fields(pl.field("actor").replace(mapping))
            )
        )
    return frame.with_columns(exprs) if exprs else frame


def pseudonymize_frame(frame: pl.DataFrame, *, key: bytes) -> pl.DataFrame:
    """Return ``frame`` with every actor name replaced by its keyed pseudonym.

    Each distinct name is hashed once; the frame is rewritten with one
    ``replace`` per column. Works on input and event frames.

    Raises
    ------
    ConfigError
        The key is shorter than :data:`MIN_KEY_BYTES`.
    """
    _check_key(key)
    names = actor_names(frame).to_list()
    sign = partial(hmac.digest, key, digest="sha256")
    mapping = {
        name: PSEUDONYM_PREFIX + digest.hex()[:_DIGITS]
        for name, digest in zip(names, map(sign, map(str.encode, names)), strict=True)
    }
    return replace_actor_names(frame, mapping)

"""Tamper evidence: content hashes and the per-partnership SHA-256 chain.

Each event has

* a **content hash**: SHA-256 of a canonical serialization of what the user
  wrote (id, partnership, activity, timestamp and offset, phase, actor,
  organization, participants, workstream, attributes, schema version). It is
  how idempotent retries are told apart from conflicting re-uses of an id;
* a **chain hash**: ``sha256(previous_chain_hash ":" version ":" content_hash)``,
  chained within its partnership from :data:`GENESIS`. Editing, deleting or
  reordering any stored event breaks the chain from that event on.

The serialization is defined here, field by field (length-prefixed UTF-8, ``~``
for null), not by any JSON encoder, so it stays stable across library versions.
It is built as one polars expression over the whole frame; only the SHA-256
calls themselves run per event (hashlib, in C), since a chain is sequential by
definition.

Examples
--------
>>> import polars as pl
>>> from engine.hashing import chain_hash
>>> len(chain_hash(GENESIS, 1, "00" * 32))
64
"""

from __future__ import annotations

import hashlib
from operator import methodcaller
from typing import TYPE_CHECKING, Final

import polars as pl

from engine import schema as s

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = [
    "GENESIS",
    "chain_hash",
    "compute_chain_digests",
    "compute_chain_hashes",
    "compute_content_digests",
    "compute_content_hashes",
    "compute_link_hashes",
    "content_payload_expr",
    "hex_digests",
]

GENESIS: Final = "0" * 64
_NULL: Final = "~"


def _field(expr: pl.Expr) -> pl.Expr:
    # concat_str is null when any part is null: that null becomes the marker.
    text = expr.cast(pl.String)
    return pl.concat_str(
        [text.str.len_bytes().cast(pl.String), pl.lit(":"), text]
    ).fill_null(pl.lit(_NULL))


def _participants_field() -> pl.Expr:
    one = pl.concat_str(
        [
            _field(pl.element().struct.field(name))
            for name in ("actor", "organization", "role")
        ]
    )
    joined = pl.col(s.PARTICIPANTS).list.eval(one).list.join("")
    count = pl.col(s.PARTICIPANTS).list.len().cast(pl.String)
    return pl.concat_str([count, pl.lit("["), joined, pl.lit("]")]).fill_null(
        pl.lit(_NULL)
    )


def content_payload_expr() -> pl.Expr:
    """Return an expression of each event's canonical serialization (String).

    Works on a frame with the columns of :data:`engine.schema.INPUT_SCHEMA`.
    """
    return pl.concat_str(
        [
            _field(pl.col(s.EVENT_ID)),
            _field(pl.col(s.PARTNERSHIP_ID)),
            _field(pl.col(s.ACTIVITY)),
            _field(pl.col(s.TIMESTAMP).dt.epoch("us")),
            _field(pl.col(s.TZ_OFFSET)),
            _field(pl.col(s.PHASE)),
            _field(pl.col(s.ACTOR)),
            _field(pl.col(s.ORGANIZATION)),
            _participants_field(),
            _field(pl.col(s.WORKSTREAM)),
            _field(pl.col(s.ATTRIBUTES)),
            _field(pl.col(s.SCHEMA_VERSION)),
        ]
    ).alias("payload")


_hexdigest = methodcaller("hexdigest")
_digest = methodcaller("digest")


def _sha256_many(payloads: Iterable[bytes]) -> list[str]:
    # map over C callables: no Python-level frame per event.
    return list(map(_hexdigest, map(hashlib.sha256, payloads)))


def hex_digests(digests: pl.Series) -> pl.Series:
    """Return raw digests (Binary) as lowercase hex (String), the stored form."""
    return digests.bin.encode("hex")


def compute_content_digests(frame: pl.DataFrame) -> pl.Series:
    """Return the content hash of every row of an input frame as its 32 raw bytes.

    :func:`hex_digests` of it is :func:`compute_content_hashes`; a store that
    keeps hashes as bytes takes these and skips decoding the hex again.
    """
    payloads = frame.select(content_payload_expr().cast(pl.Binary)).to_series()
    digests = list(map(_digest, map(hashlib.sha256, payloads.to_list())))
    return pl.Series(s.CONTENT_HASH, digests, dtype=pl.Binary)


def compute_content_hashes(frame: pl.DataFrame) -> pl.Series:
    """Return the content hash (hex SHA-256) of every row of an input frame."""
    return hex_digests(compute_content_digests(frame))


def chain_hash(previous: str, version: int, content_hash: str) -> str:
    """Return the chain hash of one event from its predecessor's chain hash."""
    return hashlib.sha256(f"{previous}:{version}:{content_hash}".encode()).hexdigest()


def compute_link_hashes(frame: pl.DataFrame) -> pl.Series:
    """Return :func:`chain_hash` of every row from its *stored* predecessor.

    ``frame`` has the columns ``_previous`` (the predecessor's chain hash, or
    :data:`GENESIS`), ``version`` and ``content_hash``. Verifying needs no
    sequential pass: each link is checked against the hash stored before it.
    """
    texts = frame.select(
        pl.concat_str(
            [
                pl.col("_previous"),
                pl.lit(":"),
                pl.col(s.VERSION).cast(pl.String),
                pl.lit(":"),
                pl.col(s.CONTENT_HASH),
            ]
        ).cast(pl.Binary)
    ).to_series()
    return pl.Series(s.HASH, _sha256_many(texts.to_list()), dtype=pl.String)


def compute_chain_hashes(
    partnership_ids: pl.Series,
    versions: pl.Series,
    content_hashes: pl.Series,
    heads: dict[str, str],
) -> pl.Series:
    """Return chain hashes (hex) for rows grouped by partnership, in version order.

    :func:`hex_digests` of :func:`compute_chain_digests`, which see.
    """
    return hex_digests(
        compute_chain_digests(partnership_ids, versions, content_hashes, heads)
    )


def compute_chain_digests(
    partnership_ids: pl.Series,
    versions: pl.Series,
    content_hashes: pl.Series,
    heads: dict[str, str],
) -> pl.Series:
    """Return the chain hashes as raw 32-byte digests (Binary), for grouped rows.

    Parameters
    ----------
    partnership_ids, versions, content_hashes
        Columns of the new events, each partnership's rows together and in
        version order; the content hashes in hex, as they are chained.
    heads
        The chain hash (hex) of each partnership's last stored event;
        partnerships absent from it start from :data:`GENESIS`.
    """
    # Vectorized: each row's text after the predecessor, and where each chain
    # (re)starts. Only the sequential SHA-256 step runs per event.
    frame = pl.DataFrame(
        {"p": partnership_ids, "v": versions, "c": content_hashes},
        schema={"p": pl.String, "v": pl.Int64, "c": pl.String},
    )
    suffixes = frame.select(
        pl.concat_str([pl.lit(":"), pl.col("v"), pl.lit(":"), pl.col("c")]).cast(
            pl.Binary
        )
    ).to_series()
    firsts = frame.select(pl.int_range(pl.len()).alias("row"), "p").filter(
        (pl.col("row") == 0) | (pl.col("p") != pl.col("p").shift(1))
    )
    begins = firsts["row"].to_list()
    ends = [*begins[1:], frame.height] if begins else []
    out: list[bytes] = []
    append = out.append
    sha256 = hashlib.sha256
    every_suffix = suffixes.to_list()
    for name, begin, end in zip(firsts["p"].to_list(), begins, ends, strict=True):
        previous = heads.get(name, GENESIS).encode()
        for suffix in every_suffix[begin:end]:
            digest = sha256(previous + suffix).digest()
            append(digest)
            previous = digest.hex().encode()
    return pl.Series(s.HASH, out, dtype=pl.Binary)

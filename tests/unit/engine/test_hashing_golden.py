"""Pins the exact hashes: speed-ups of engine/hashing.py must not change one bit.

The digests below were computed by the first (unoptimized) implementation;
every stored log's chain depends on them.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone

import polars as pl

from engine import schema as s
from engine.events import new_events_to_frame
from engine.hashing import (
    GENESIS,
    compute_chain_hashes,
    compute_content_hashes,
    content_payload_expr,
)
from tests.conftest import make_event


def tricky_frame() -> pl.DataFrame:
    events = [
        make_event(1),
        make_event(
            2,
            "p2",
            "agree_action_plan",
            timestamp=datetime(
                2021,
                5,
                6,
                7,
                8,
                9,
                123456,
                tzinfo=timezone(timedelta(hours=-5, minutes=-30)),
            ),
            actor="ä¸€",
            organization="",
            participants=(("x", "EM", "top_manager"), ("", "SP", "other")),
            workstream="funding",
            attributes={"idea_id": "i1", "n": 3, "ok": True, "z": None},
        ),
        make_event(
            3, "p1", "custom activity", day=400, phase="execution", schema_version=1
        ),
        make_event(
            4,
            "p2",
            "feedback_meeting",
            day=2,
            participants=(("a:b", "1:2", "manager"),),
        ),
    ]
    frame = new_events_to_frame(events)
    people = pl.Series(
        s.PARTICIPANTS,
        [
            None,
            *frame[s.PARTICIPANTS].to_list()[1:3],
            [{"actor": None, "organization": None, "role": "other"}],
        ],
        dtype=pl.List(s.PARTICIPANT_DTYPE),
    )
    return frame.with_columns(people)


def digest(values) -> str:
    return hashlib.sha256("|".join(values).encode()).hexdigest()


def test_payloads_and_content_hashes_are_pinned():
    frame = tricky_frame()
    payloads = frame.select(content_payload_expr()).to_series().to_list()
    assert digest(payloads) == PAYLOADS
    assert digest(compute_content_hashes(frame).to_list()) == CONTENT


def test_chain_hashes_are_pinned():
    frame = tricky_frame().with_columns(compute_content_hashes(tricky_frame()))
    ordered = frame.with_columns(
        pl.int_range(1, pl.len() + 1)
        .over(s.PARTNERSHIP_ID)
        .cast(pl.Int64)
        .alias(s.VERSION)
    ).sort(s.PARTNERSHIP_ID, s.VERSION)
    heads = {"p2": "ab" * 32}
    chain = compute_chain_hashes(
        ordered[s.PARTNERSHIP_ID], ordered[s.VERSION], ordered[s.CONTENT_HASH], heads
    )
    assert digest(chain.to_list()) == CHAIN
    fresh = compute_chain_hashes(
        ordered[s.PARTNERSHIP_ID], ordered[s.VERSION], ordered[s.CONTENT_HASH], {}
    )
    assert (
        fresh.to_list()[0]
        == hashlib.sha256(
            f"{GENESIS}:1:{ordered[s.CONTENT_HASH][0]}".encode()
        ).hexdigest()
    )


def test_empty_inputs():
    empty = new_events_to_frame([])
    assert compute_content_hashes(empty).to_list() == []
    none = pl.Series([], dtype=pl.String)
    assert (
        compute_chain_hashes(none, pl.Series([], dtype=pl.Int64), none, {}).to_list()
        == []
    )


PAYLOADS = "06626172eb3347e55d6be0797d084b46fb3d265f06057a92c9b68b692c2a8213"
CONTENT = "9a756636d055d569354cf9b0fb70b922d8e279b81d0412ebddda368982441035"
CHAIN = "1037310746c16696aab7415eafb72aed9b0aad99c79c221ace4f877a14ce25fe"

from __future__ import annotations

import polars as pl

from engine import schema as s
from engine.events import new_events_to_frame
from engine.hashing import (
    GENESIS,
    chain_hash,
    compute_chain_hashes,
    compute_content_hashes,
)
from engine.recording import verify_event_frame
from tests.conftest import make_event


def test_content_hash_is_stable_and_sensitive():
    frame = new_events_to_frame(
        [make_event(1), make_event(1, activity="sign_agreement")]
    )
    first = compute_content_hashes(frame)
    assert compute_content_hashes(frame).to_list() == first.to_list()
    assert first[0] != first[1]
    # pinned: a change of serialization would silently break every stored chain
    assert first[0] == compute_content_hashes(new_events_to_frame([make_event(1)]))[0]


def test_payload_is_unambiguous_between_fields():
    # "ab" + "c" must not hash like "a" + "bc": fields are length-prefixed
    a = new_events_to_frame([make_event(1, actor="ab", organization="c")])
    b = new_events_to_frame([make_event(1, actor="a", organization="bc")])
    assert compute_content_hashes(a)[0] != compute_content_hashes(b)[0]


def test_null_differs_from_empty_string():
    a = new_events_to_frame([make_event(1, actor="")])
    b = new_events_to_frame([make_event(1)])
    assert compute_content_hashes(a)[0] != compute_content_hashes(b)[0]


def test_chain_restarts_per_partnership_and_continues_from_heads():
    pids = pl.Series(["a", "a", "b"])
    versions = pl.Series([3, 4, 1])
    contents = pl.Series(["c1", "c2", "c3"])
    out = compute_chain_hashes(pids, versions, contents, {"a": "h2"}).to_list()
    assert out[0] == chain_hash("h2", 3, "c1")
    assert out[1] == chain_hash(out[0], 4, "c2")
    assert out[2] == chain_hash(GENESIS, 1, "c3")


def _recorded(n: int) -> pl.DataFrame:
    from engine.recording import HEADS_SCHEMA, plan_append
    from tests.conftest import TickingClock

    batch = new_events_to_frame([make_event(i, day=i) for i in range(1, n + 1)])
    plan = plan_append(
        batch,
        existing=pl.DataFrame(
            schema={s.EVENT_ID: pl.String, s.CONTENT_HASH: pl.String}
        ),
        heads=pl.DataFrame(schema=HEADS_SCHEMA),
        next_position=1,
        recorded_at=TickingClock().now(),
    )
    return plan.new_rows


def test_verify_reports_the_first_broken_link():
    rows = _recorded(4)
    assert verify_event_frame(rows).ok
    reordered = rows.with_columns(
        pl.when(pl.col(s.VERSION) == 2)
        .then(5)
        .otherwise(pl.col(s.VERSION))
        .alias(s.VERSION)
    )
    report = verify_event_frame(reordered)
    assert report.first_broken is not None
    assert "version" in report.first_broken.reason
    rehashed = rows.with_columns(
        pl.when(pl.col(s.VERSION) == 3)
        .then(pl.lit("0" * 64))
        .otherwise(pl.col(s.HASH))
        .alias(s.HASH)
    )
    report = verify_event_frame(rehashed)
    assert report.first_broken is not None
    assert report.first_broken.version == 3
    assert "chain" in report.first_broken.reason


def test_deleting_an_event_breaks_the_chain():
    rows = _recorded(4).filter(pl.col(s.VERSION) != 2)
    report = verify_event_frame(rows)
    assert not report.ok
    assert report.first_broken is not None
    assert report.first_broken.version == 3

"""Indicator values on a small hand-built log, checked against hand computation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.alignment import IndicatorConfig
from engine.events import NewEvent, Participant, new_events_to_frame
from engine.indicators import compute_indicators
from engine.participation import gini_expr
from engine.windows import LifecycleStages, RollingWindows, parse_periods

T0 = datetime(2020, 1, 1, tzinfo=UTC)
A = ("a1", "A", "manager")
B = ("b1", "B", "manager")
C = ("c1", "C", "top_manager")
M = ("m", "M", "mediator")
ROLLING = RollingWindows(timedelta(days=90), timedelta(days=30))


def ev(n, activity, day, parts=(), *, pid="p", ws=None, org=None, **attributes):
    return NewEvent(
        event_id=UUID(int=n),
        partnership_id=pid,
        activity=activity,
        timestamp=T0 + timedelta(days=day),
        participants=tuple(
            Participant(actor=a, organization=o, role=r) for a, o, r in parts
        ),
        workstream=ws,
        organization=org,
        attributes=attributes,
    )


LOG = [
    ev(1, "initiate_partnership", 0, (A, B, C)),
    ev(2, "negotiate_terms", 10, (A, B, M), ws="contract"),
    ev(3, "share_information", 20, (A,), audience="all"),
    ev(4, "propose_objective", 25, (A,), objective_id="o1", visibility="private"),
    ev(5, "agree_objectives", 40, (A, B, C), objective_ids=["o1"]),
    ev(6, "raise_conflict", 50, (A, B), conflict_id="c"),
    ev(7, "agree_action_plan", 60, (A, B, C), idea_id="i"),
    ev(8, "start_action", 100, (A,), idea_id="i"),
    ev(
        9,
        "feedback_meeting",
        120,
        (A, ("c2", "C", "top_manager"), ("x", "B", "top_manager")),
    ),
    ev(10, "member_left", 130, org="B"),
    ev(11, "feedback_meeting", 140, (("a2", "A", "top_manager"), C)),
]


@pytest.fixture(scope="module")
def rolling() -> pl.DataFrame:
    return compute_indicators(new_events_to_frame(LOG), windows=ROLLING)


def row(frame, **where):
    out = frame.filter(*[pl.col(k) == v for k, v in where.items()])
    assert out.height == 1
    return out.row(0, named=True)


def test_rolling_grid_and_columns(rolling):
    assert rolling["window_index"].to_list() == [0, 1, 2, 3, 4]
    assert rolling.columns[:5] == [
        "partnership_id",
        "period",
        "workstream",
        "window_start",
        "window_end",
    ]
    assert rolling["workstream"].null_count() == 5


def test_first_window_by_hand(rolling):
    r = row(rolling, window_index=0)
    # decisions: negotiate_terms 2 of 3 active (mediator M is a third party), then 3/3 twice
    assert r["inclusiveness"] == pytest.approx((2 / 3 + 1 + 1) / 3)
    # events per org A=7, B=5, C=3: Gini 8/45
    assert r["participation_equality"] == pytest.approx(1 - 8 / 45)
    assert r["transparency"] == pytest.approx(
        0.5
    )  # audience all (1), private objective (0)
    assert r["conflict_mitigation"] == 0.0
    assert r["commitment"] == 1.0
    assert r["objective_convergence"] == 1.0
    assert r["idea_to_action_days"] is None
    assert r["top_manager_feedback"] is None
    expected = (8 / 9 + 37 / 45 + 0.5 + 0 + 1 + 1) / 6
    assert r["alignment_score"] == pytest.approx(expected)
    assert (r["mode"], r["status"]) == ("inclusive", "aligned")


def test_second_window_by_hand(rolling):
    r = row(rolling, window_index=1)
    assert r["inclusiveness"] == 1.0
    assert r["participation_equality"] == pytest.approx(23 / 27)  # counts 4, 3, 2
    assert r["idea_to_action_days"] == pytest.approx(40.0)
    assert r["transparency"] is None


def test_fourth_window_by_hand(rolling):
    r = row(rolling, window_index=3)
    assert r["inclusiveness"] is None
    assert r["mode"] is None
    # B appears in the feedback meeting and in its own member_left: counts A=3, B=2, C=2
    assert r["participation_equality"] == pytest.approx(19 / 21)
    # 5 partner actors against 6 in the previous window
    assert r["commitment"] == pytest.approx(5 / 6)
    # the day-120 meeting lacks A's top manager; at day 140 B has left, A and C attend
    assert r["top_manager_feedback"] == pytest.approx(0.5)
    assert r["conflict_mitigation"] == 1.0  # none raised
    assert r["complete"] is False


def test_named_periods_grouped_by_workstream():
    spec = parse_periods("I:2020-01-01..2020-03-31,II:2020-04-01..2020-12-31")
    out = compute_indicators(new_events_to_frame(LOG), windows=spec, by="workstream")
    assert out.height == 3
    general = out.filter(
        (pl.col("period") == "I") & pl.col("workstream").is_null()
    ).row(0, named=True)
    assert general["inclusiveness"] == 1.0
    assert general["participation_equality"] == pytest.approx(33 / 39)  # 6, 4, 3
    contract = row(out, period="I", workstream="contract")
    assert (
        contract["inclusiveness"] == 1.0
    )  # the contract workstream's partners are A, B
    later = out.filter((pl.col("period") == "II") & pl.col("workstream").is_null()).row(
        0, named=True
    )
    # the workstream-window's partners are A, B, C: neither meeting has all three
    assert later["top_manager_feedback"] == 0.0


def test_lifecycle_stages():
    out = compute_indicators(new_events_to_frame(LOG), windows=LifecycleStages())
    assert out["period"].to_list() == ["negotiation", "commitment", "execution"]
    negotiation = row(out, period="negotiation")
    assert negotiation["inclusiveness"] == pytest.approx(2 / 3)
    assert negotiation["objective_convergence"] == 0.0  # agreed only in commitment
    assert row(out, period="execution")["idea_to_action_days"] == pytest.approx(40.0)


def test_empty_window_has_nothing_to_measure():
    log = [
        ev(1, "explore_expectations", 0, (A, B)),
        ev(2, "explore_expectations", 200, (A,)),
    ]
    out = compute_indicators(new_events_to_frame(log), windows=ROLLING)
    empty = row(out, window_index=1)  # [d30, d120) holds nothing
    for name in (
        "commitment",
        "inclusiveness",
        "transparency",
        "conflict_mitigation",
        "objective_convergence",
    ):
        assert empty[name] is None
    # a null indicator is left out of the score, never read as 0
    assert empty["alignment_score"] is None
    # [d120, d210) holds 1 actor; the last window with events, [d0, d90), had 2
    assert row(out, window_index=4)["commitment"] == 0.5
    assert row(out, window_index=5)["commitment"] == 1.0  # 1 actor, as in window 4


def test_weights_change_the_score():
    config = IndicatorConfig.from_toml("[weights]\nconflict_mitigation = 0.0\n")
    out = compute_indicators(new_events_to_frame(LOG), windows=ROLLING, config=config)
    r = row(out, window_index=0)
    assert r["alignment_score"] == pytest.approx((8 / 9 + 37 / 45 + 0.5 + 1 + 1) / 5)


def test_alert_events_are_ignored():
    log = [*LOG, ev(99, "alert_raised", 10, org="partnermine")]
    with_alert = compute_indicators(new_events_to_frame(log), windows=ROLLING)
    base = compute_indicators(new_events_to_frame(LOG), windows=ROLLING)
    assert with_alert.equals(base)


def test_partnerships_are_independent():
    other = [
        ev(100 + i, e.activity, i * 7, (A, B), pid="q") for i, e in enumerate(LOG[:4])
    ]
    both = compute_indicators(new_events_to_frame([*LOG, *other]), windows=ROLLING)
    alone = compute_indicators(new_events_to_frame(LOG), windows=ROLLING)
    assert both.filter(pl.col("partnership_id") == "p").equals(alone)


def _gini_oracle(xs):
    n, total = len(xs), sum(xs)
    if total == 0:
        return None
    return sum(abs(a - b) for a in xs for b in xs) / (2 * n * total)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(0, 20), min_size=1, max_size=8), st.integers(0, 4))
def test_gini_matches_the_pairwise_definition(xs, zeros):
    population = pl.lit(len(xs) + zeros)
    got = (
        pl.DataFrame({"x": xs})
        .select(gini_expr(pl.col("x"), population=population).alias("g"))
        .item()
    )
    expected = _gini_oracle(xs + [0] * zeros)
    assert (got is None) == (expected is None)
    if expected is not None:
        assert got == pytest.approx(expected, abs=1e-12)


@settings(max_examples=15, deadline=None)
@given(
    events=st.lists(
        st.tuples(st.integers(0, 200), st.sampled_from("abcd"), st.sampled_from("XY")),
        min_size=1,
        max_size=10,
    ),
    width=st.integers(5, 90),
    step=st.integers(5, 45),
)
def test_rolling_commitment_matches_brute_force(events, width, step):
    log = [
        ev(i + 1, "explore_expectations", day, ((actor, org, "manager"),))
        for i, (day, actor, org) in enumerate(events)
    ]
    spec = RollingWindows(timedelta(days=width), timedelta(days=step))
    got = compute_indicators(new_events_to_frame(log), windows=spec)
    first = min(d for d, _, _ in events)
    count = (max(d for d, _, _ in events) - first) // step + 1
    actors = [
        {a for d, a, _ in events if first + k * step <= d < first + k * step + width}
        for k in range(count)
    ]
    held = [
        any(first + k * step <= d < first + k * step + width for d, _, _ in events)
        for k in range(count)
    ]
    expected, last = [], 0  # last: actors of the last window that held events
    for now, has_events in zip(actors, held, strict=True):
        if not has_events:  # nothing to measure
            expected.append(None)
            continue
        most = max(len(now), last)
        expected.append(len(now) / most if most else None)
        last = len(now)
    assert got["commitment"].to_list() == pytest.approx(expected)


@settings(max_examples=15, deadline=None)
@given(
    events=st.lists(
        st.tuples(st.integers(0, 200), st.sampled_from("XYZ"), st.booleans()),
        min_size=1,
        max_size=12,
    ),
    width=st.integers(5, 90),
    step=st.integers(5, 45),
)
def test_rolling_participation_equality_matches_brute_force(events, width, step):
    # an event of one org, or of two (X and the drawn one) when the flag is set
    log = [
        ev(
            i + 1,
            "explore_expectations",
            day,
            (("x", "X", "manager"), ("o", org, "manager"))
            if both
            else (("o", org, "manager"),),
        )
        for i, (day, org, both) in enumerate(events)
    ]
    spec = RollingWindows(timedelta(days=width), timedelta(days=step))
    got = compute_indicators(new_events_to_frame(log), windows=spec)
    first = min(d for d, _, _ in events)
    count = (max(d for d, _, _ in events) - first) // step + 1
    appearances = [(d, {o, "X"} if b else {o}) for d, o, b in events]
    expected = []
    for k in range(count):
        start, end = first + k * step, first + k * step + width
        # no member leaves: the partners active in the window are those seen before its end
        active = set().union(*(orgs for d, orgs in appearances if d < end))
        inside = [orgs for d, orgs in appearances if start <= d < end]
        if not inside:
            expected.append(None)
            continue
        counts = [sum(org in orgs for orgs in inside) for org in sorted(active)]
        gini = _gini_oracle(counts)
        expected.append(None if gini is None else 1 - gini)
    assert got["participation_equality"].to_list() == pytest.approx(expected)


def test_config_from_toml_and_errors():
    from engine.errors import ConfigError

    config = IndicatorConfig.from_toml(
        '[windows]\nwindow = "60d"\nstep = "2w"\n[alerts]\nx = 1\n'
    )
    assert config.windows.to_spec() == RollingWindows(
        timedelta(days=60), timedelta(days=14)
    )
    for bad in (
        "[weights]\nunknown = 1.0\n",
        "[thresholds]\naligned_min = 0.3\nat_risk_min = 0.5\n",
        '[windows]\nwindow = "ninety"\n',
        "[weights\n",
    ):
        with pytest.raises(ConfigError):
            IndicatorConfig.from_toml(bad)


def test_partitions_give_the_same_result():
    other = [
        ev(200 + i, e.activity, e.timestamp.day, (A, C), pid=f"q{i % 3}")
        for i, e in enumerate(LOG)
    ]
    frame = new_events_to_frame([*LOG, *other])
    whole = compute_indicators(frame, windows=ROLLING, by="workstream")
    parts = compute_indicators(frame, windows=ROLLING, by="workstream", partitions=3)
    assert parts.equals(whole)


def _active_at(rows, org, t):
    """Partner semantics (DOMAIN.md): rows are (day, kind, org) of one partnership."""
    first = min((d for d, _, o in rows if o == org), default=None)
    joins = [d for d, k, o in rows if k == "joined" and o == org and d <= t]
    leaves = [d for d, k, o in rows if k == "left" and o == org and d <= t]
    entered = (first is not None and first <= t) or bool(joins)
    gone = bool(leaves) and (not joins or max(leaves) > max(joins))
    return entered and not gone


def _equality_oracle(rows, start, end):
    inside = [o for d, _, o in rows if start <= d < end]
    if not inside:
        return None
    orgs = {o for _, _, o in rows}
    times = [start, *(d for d, _, _ in rows if start <= d < end)]
    active = {o for o in orgs if any(_active_at(rows, o, t) for t in times)}
    counts = [inside.count(o) for o in sorted(set(inside))]
    zeros = len(active | set(inside)) - len(counts)
    gini = _gini_oracle([*counts, *([0] * zeros)])
    return None if gini is None else 1 - gini


@settings(max_examples=15, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from("pq"),
            st.integers(0, 120),
            st.sampled_from(["meet", "meet", "joined", "left"]),
            st.sampled_from("XYZ"),
        ),
        min_size=1,
        max_size=14,
    )
)
def test_participation_equality_with_members_leaving_matches_brute_force(rows):
    # Two partnerships sharing organization names; members leave and rejoin.
    log = [
        ev(i + 1, "explore_expectations", day, (("a", org, "manager"),), pid=pid)
        if kind == "meet"
        else ev(i + 1, f"member_{kind}", day, pid=pid, org=org)
        for i, (pid, day, kind, org) in enumerate(rows)
    ]
    spec = RollingWindows(timedelta(days=30), timedelta(days=20))
    got = compute_indicators(new_events_to_frame(log), windows=spec)
    for pid in sorted({r[0] for r in rows}):
        mine = [(d, k, o) for p, d, k, o in rows if p == pid]
        first = min(d for d, _, _ in mine)
        count = (max(d for d, _, _ in mine) - first) // 20 + 1
        expected = [
            _equality_oracle(mine, first + k * 20, first + k * 20 + 30)
            for k in range(count)
        ]
        values = got.filter(pl.col("partnership_id") == pid)["participation_equality"]
        assert values.to_list() == pytest.approx(expected)

"""Time-based rules against a naive pure-Python oracle (hypothesis)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.rules import RuleThresholds, detect_deviations
from engine.schema import ACTIVITY_STAGE
from tests.unit.engine.rules.conftest import build_log, day

T = RuleThresholds(
    stall_days=60,
    feedback_gap_days=50,
    conflict_days=40,
    hidden_days=45,
    commitment_window_days=30,
    commitment_drop=0.3,
    commitment_min_actors=2,
)
ACTORS = [("a1", "A"), ("a2", "A"), ("a3", "A"), ("b1", "B"), ("b2", "B")]


@st.composite
def events(draw, pid: str):
    n = draw(st.integers(0, 14))
    rows = [
        {
            "id": f"{pid}-0",
            "pid": pid,
            "act": "initiate_partnership",
            "day": 0,
            "parts": [("a1", "A", "manager"), ("b1", "B", "manager")],
        }
    ]
    for i in range(1, n + 1):
        kind = draw(
            st.sampled_from(
                [
                    "plan",
                    "idea",
                    "start",
                    "raise",
                    "resolve",
                    "objective",
                    "agree",
                    "share",
                    "meeting",
                    "left",
                    "work",
                ]
            )
        )
        d = draw(st.integers(0, 400)) / 2
        row = {"id": f"{pid}-{i}", "pid": pid, "day": d}
        people = draw(st.lists(st.sampled_from(ACTORS), unique=True, max_size=5))
        row["parts"] = [(a, o, "professional") for a, o in people]
        idea = {"idea_id": draw(st.sampled_from(["i1", "i2"]))}
        conflict = {"conflict_id": draw(st.sampled_from(["c1", "c2"]))}
        objectives = draw(
            st.lists(st.sampled_from(["o1", "o2", "o3"]), unique=True, max_size=2)
        )
        if kind in ("plan", "idea", "start"):
            act = {
                "plan": "agree_action_plan",
                "idea": "propose_idea",
                "start": "start_action",
            }[kind]
            row |= {"act": act, "attrs": idea}
        elif kind in ("raise", "resolve"):
            row |= {"act": f"{kind}_conflict", "attrs": conflict}
        elif kind == "objective":
            vis = draw(st.sampled_from([None, "private", "shared"]))
            attrs = {"objective_id": draw(st.sampled_from(["o1", "o2", "o3"]))}
            row |= {
                "act": "propose_objective",
                "attrs": attrs | ({"visibility": vis} if vis else {}),
            }
        elif kind in ("agree", "share"):
            act = "agree_objectives" if kind == "agree" else "share_information"
            row |= {"act": act, "attrs": {"objective_ids": objectives}}
        elif kind == "left":
            row |= {
                "act": "member_left",
                "org": draw(st.sampled_from("AB")),
                "parts": [],
            }
        else:
            row["act"] = "feedback_meeting" if kind == "meeting" else "report_progress"
        rows.append(row)
    return rows


def _ordered(rows):
    return sorted(rows, key=lambda r: (r["day"], rows.index(r)))


def _first(rows, pred):
    return next((r for r in _ordered(rows) if pred(r)), None)


def _attr(r, key):
    return (r.get("attrs") or {}).get(key)


def _first_with(rows, act, key, value):
    return _first(rows, lambda r: r["act"] == act and _attr(r, key) == value)


def oracle_stalled(rows, as_of):
    out = []
    for idea in {_attr(r, "idea_id") for r in rows if _attr(r, "idea_id")}:
        anchor = _first(
            rows,
            lambda r: (
                r["act"] in ("agree_action_plan", "propose_idea")
                and _attr(r, "idea_id") == idea  # noqa: B023 (called at once)
            ),
        )
        if anchor is None:
            continue
        start = _first_with(rows, "start_action", "idea_id", idea)
        deadline = anchor["day"] + T.stall_days
        left = {
            r["org"] for r in rows if r["act"] == "member_left" and r["day"] <= deadline
        }
        if start is not None and start["day"] > deadline:
            out.append((deadline, (anchor["id"], start["id"])))
        elif start is None and deadline <= as_of and left != {"A", "B"}:
            out.append((deadline, (anchor["id"],)))
    return out


def oracle_conflicts(rows, as_of):
    out = []
    for cid in {_attr(r, "conflict_id") for r in rows if _attr(r, "conflict_id")}:
        raise_ = _first_with(rows, "raise_conflict", "conflict_id", cid)
        if raise_ is None:
            continue
        fix = _first_with(rows, "resolve_conflict", "conflict_id", cid)
        deadline = raise_["day"] + T.conflict_days
        if fix is not None and fix["day"] > deadline:
            out.append((deadline, (raise_["id"], fix["id"])))
        elif fix is None and deadline <= as_of:
            out.append((deadline, (raise_["id"],)))
    return out


def oracle_hidden(rows, as_of):
    found = {}
    for p in _ordered(rows):
        if p["act"] != "propose_objective":
            continue
        oid, vis = _attr(p, "objective_id"), _attr(p, "visibility")
        told = [
            r["day"]
            for r in rows
            if r["act"] in ("agree_objectives", "share_information")
            and oid in (_attr(r, "objective_ids") or [])
        ]
        deadline = p["day"] + T.hidden_days
        if vis == "private":
            hit = p["day"]
        elif vis is None and (
            (told and min(told) > deadline) or (not told and deadline <= as_of)
        ):
            hit = deadline
        else:
            continue
        if oid not in found or hit < found[oid][0]:
            found[oid] = (hit, (p["id"],))
    return list(found.values())


def oracle_feedback_gaps(rows, as_of):
    # Execution runs from an execution-phase event (start_action,
    # report_progress, or any event recorded with phase execution) until a
    # phased event of another stage; a gap opens at a start or resumption, or
    # at a feedback meeting while execution runs, and closes at the next point.
    # Commitment steps taken while execution runs do not stop it.
    points, running = [], False
    for r in _ordered(rows):
        phase = r.get("phase") or ACTIVITY_STAGE.get(r["act"])
        if phase in ("negotiation", "execution") and (phase == "execution") != running:
            running = phase == "execution"
            points.append((r, running))
            continue
        if r["act"] == "feedback_meeting" and running:
            points.append((r, True))
    if not points:
        return []
    # the last gap ends at the partnership's last event (by as_of)
    last_seen = min(max(r["day"] for r in rows), as_of)
    ends = [p["day"] for p, _ in points[1:]] + [last_seen]
    # a closed gap of exactly the limit is in time; an open one has run it
    last = len(points) - 1
    return [
        (p["day"] + T.feedback_gap_days, (p["id"],))
        for i, ((p, opens), end) in enumerate(zip(points, ends, strict=True))
        if opens
        and (
            end - p["day"] > T.feedback_gap_days
            or (i == last and end - p["day"] >= T.feedback_gap_days)
        )
    ]


def oracle_windows(rows, as_of):
    first, last = min(r["day"] for r in rows), max(r["day"] for r in rows)
    w = T.commitment_window_days
    out, k, previous = [], 0, None
    while first + k * w <= last and first + (k + 1) * w <= as_of:
        lo, hi = first + k * w, first + (k + 1) * w
        inside = [r for r in _ordered(rows) if lo <= r["day"] < hi]
        if not inside:  # nothing recorded: nothing to measure, skipped
            k += 1
            continue
        actors = {a for r in inside for a, _, _ in r["parts"] if a}
        if (
            previous is not None
            and previous >= T.commitment_min_actors
            and previous - len(actors) >= 0.3 * previous - 1e-9
        ):
            out.append((lo, tuple(r["id"] for r in inside[:20])))
        previous, k = len(actors), k + 1
    return out


ORACLES = {
    "stalled_idea_to_action": oracle_stalled,
    "unresolved_conflict": oracle_conflicts,
    "hidden_objective": oracle_hidden,
    "missing_top_manager_feedback": oracle_feedback_gaps,
    "commitment_loss": oracle_windows,
}


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(p1=events("p1"), p2=events("p2"))
def test_time_based_rules_match_the_oracle(p1, p2):
    rows = p1 + p2
    as_of = max(r["day"] for r in rows)
    got = detect_deviations(build_log(rows), thresholds=T, rules=list(ORACLES))
    # Only the time-based parts: top-manager absences are (a), net departures are (a).
    got = got.filter(
        ~got["message"].str.starts_with("Feedback meeting")
        & ~got["message"].str.contains("members have left")
    )
    actual = sorted(
        (r["partnership_id"], r["rule"], r["time"], tuple(r["evidence"]))
        for r in got.iter_rows(named=True)
    )
    expected = sorted(
        (pid, rule, day(t), ev)
        for pid, part in (("p1", p1), ("p2", p2))
        for rule, oracle in ORACLES.items()
        for t, ev in oracle(part, as_of)
    )
    assert actual == expected

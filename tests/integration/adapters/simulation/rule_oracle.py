"""A naive, pure-Python reading of docs/rules.md, used to check the simulator's truth.

It is deliberately slow and literal (one partnership at a time, lists and
dicts, no polars expressions) so it documents the semantics; it is never used
to produce the truth, only to check it.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import timedelta

THIRD_PARTY = {"facilitator", "mediator", "researcher"}
DECISIONS = {
    "agree_objectives",
    "agree_action_plan",
    "sign_agreement",
    "negotiate_terms",
}
STALL = timedelta(days=180)
FEEDBACK_GAP = timedelta(days=180)
CONFLICT = timedelta(days=120)
HIDDEN = timedelta(days=180)
WINDOW = timedelta(days=90)


def _appearances(e):
    if e["participants"]:
        return [(p["organization"], p["role"]) for p in e["participants"]]
    own = "mediator" if e["activity"] == "mediate_conflict" else "other"
    return [(e["organization"], own)]


class Partnership:
    def __init__(self, events, as_of):
        self.events = events  # sorted by timestamp (then version / input order)
        self.as_of = as_of
        self.partners = set()
        self.first_seen = {}
        for e in events:
            seen = [o for o, r in _appearances(e) if r not in THIRD_PARTY and o]
            if e["activity"] == "member_joined" and e["organization"]:
                seen.append(e["organization"])
            for o in seen:
                self.partners.add(o)
                self.first_seen.setdefault(o, e["ts"])

    def active(self, t):
        out = set()
        for o in self.partners:
            if self.first_seen[o] > t:
                continue
            lefts = [
                e["ts"]
                for e in self.events
                if e["activity"] == "member_left"
                and e["organization"] == o
                and e["ts"] <= t
            ]
            if lefts:
                last_left = max(lefts)
                joins = [
                    e["ts"]
                    for e in self.events
                    if e["activity"] == "member_joined"
                    and e["organization"] == o
                    and e["ts"] <= last_left
                ]
                if not joins or last_left > max(joins):
                    continue
            out.add(o)
        return out

    def of(self, *activities):
        return [e for e in self.events if e["activity"] in activities]


def _stalled(pt):
    out = []
    ideas = []
    for e in pt.of("agree_action_plan", "propose_idea"):
        idea = e["attrs"].get("idea_id")
        if idea is not None and idea not in ideas:
            ideas.append(idea)
    for idea in ideas:
        # The earlier of the idea's first proposal and first plan.
        anchor = next(
            e
            for e in pt.of("agree_action_plan", "propose_idea")
            if e["attrs"].get("idea_id") == idea
        )
        starts = [
            e
            for e in pt.of("start_action")
            if e["attrs"].get("idea_id") == idea and e["ts"] >= anchor["ts"]
        ]
        if any(s["ts"] - anchor["ts"] <= STALL for s in starts):
            continue
        if starts:
            out.append([anchor["id"], starts[0]["id"]])
        elif pt.as_of - anchor["ts"] >= STALL and pt.active(pt.as_of):
            out.append([anchor["id"]])
    return out


def _missing_top_manager(pt):
    out = []
    starts = pt.of("start_action")
    x0 = starts[0]["ts"] if starts else None
    for e in pt.of("feedback_meeting"):
        if e["phase"] == "execution" or (x0 is not None and e["ts"] > x0):
            tm = {
                p["organization"]
                for p in e["participants"]
                if p["role"] == "top_manager"
            }
            if pt.active(e["ts"]) - tm:
                out.append([e["id"]])
    if x0 is not None:
        openers = [starts[0]] + [e for e in pt.of("feedback_meeting") if e["ts"] >= x0]
        # the last gap ends at the partnership's last event (by as_of)
        ends = [e["ts"] for e in openers[1:]] + [min(pt.events[-1]["ts"], pt.as_of)]
        out.extend(
            [o["id"]]
            for o, end in zip(openers, ends, strict=True)
            if end - o["ts"] > FEEDBACK_GAP
        )
    return out


def _phase_order(pt):
    out = []
    phases = [(e["phase"], e) for e in pt.events if e["phase"] is not None]
    for later, earlier in (("commitment", "negotiation"), ("execution", "commitment")):
        seen_earlier = False
        for phase, e in phases:
            if phase == earlier:
                seen_earlier = True
            if phase == later:
                if not seen_earlier:
                    out.append([e["id"]])
                break
    return out


def _exclusive(pt):
    out = []
    for e in pt.of(*DECISIONS):
        active = pt.active(e["ts"])
        present = {
            p["organization"] for p in e["participants"] if p["role"] not in THIRD_PARTY
        }
        if len(active) >= 3 and len(present) < 0.5 * len(active):
            out.append([e["id"]])
    return out


def _unresolved(pt):
    out = []
    raised = {}
    for e in pt.of("raise_conflict"):
        raised.setdefault(e["attrs"].get("conflict_id"), e)
    for cid, r in raised.items():
        resolves = [
            e
            for e in pt.of("resolve_conflict")
            if e["attrs"].get("conflict_id") == cid and e["ts"] >= r["ts"]
        ]
        if any(e["ts"] - r["ts"] <= CONFLICT for e in resolves):
            continue
        if resolves:
            out.append([r["id"], resolves[0]["id"]])
        elif pt.as_of - r["ts"] >= CONFLICT:
            out.append([r["id"]])
    return out


def _objective_ids(e):
    ids = list(e["attrs"].get("objective_ids") or [])
    if e["attrs"].get("objective_id") is not None:
        ids.append(e["attrs"]["objective_id"])
    return ids


def _hidden(pt):
    out = []
    for e in pt.of("propose_objective"):
        vis = e["attrs"].get("visibility")
        if vis == "private":
            out.append([e["id"]])
        elif vis is None:
            obj = e["attrs"].get("objective_id")
            listed = any(
                obj in _objective_ids(o) and e["ts"] <= o["ts"] <= e["ts"] + HIDDEN
                for o in pt.of("agree_objectives", "share_information")
            )
            if not listed and pt.as_of - e["ts"] >= HIDDEN:
                out.append([e["id"]])
    return out


def _commitment_loss(pt):
    out = []
    joined = left = 0
    lefts = []
    for e in pt.events:
        if e["activity"] == "member_joined":
            joined += 1
        elif e["activity"] == "member_left":
            left += 1
            lefts.append(e["id"])
            if left > joined:
                out.append(list(lefts))
                break
    first, last = pt.events[0]["ts"], pt.events[-1]["ts"]
    counts = []
    i = 0
    while first + i * WINDOW <= last and first + (i + 1) * WINDOW <= pt.as_of:
        lo, hi = first + i * WINDOW, first + (i + 1) * WINDOW
        inside = [e for e in pt.events if lo <= e["ts"] < hi]
        if not inside:  # nothing recorded: nothing to measure (docs/rules.md)
            i += 1
            continue
        actors = {
            p["actor"]
            for e in inside
            for p in e["participants"]
            if p["organization"] in pt.partners
        }
        if (
            counts
            and counts[-1] >= 3
            and counts[-1] - len(actors) >= 0.3 * counts[-1] - 1e-9
        ):
            out.append([e["id"] for e in inside[:20]])
        counts.append(len(actors))
        i += 1
    return out


CHECKS = {
    "stalled_idea_to_action": _stalled,
    "missing_top_manager_feedback": _missing_top_manager,
    "phase_order_violation": _phase_order,
    "exclusive_decision": _exclusive,
    "unresolved_conflict": _unresolved,
    "hidden_objective": _hidden,
    "commitment_loss": _commitment_loss,
}


def check_rules(frame):
    """Return ``{(partnership_id, rule, tuple(evidence))}`` for an input frame."""
    as_of = frame["time:timestamp"].max()
    by_case = defaultdict(list)
    for row in frame.iter_rows(named=True):
        by_case[row["case:concept:name"]].append(
            {
                "id": row["event_id"],
                "activity": row["concept:name"],
                "ts": row["time:timestamp"],
                "phase": row["phase"],
                "organization": row["organization"],
                "participants": row["participants"] or [],
                "attrs": json.loads(row["attributes"]) if row["attributes"] else {},
            }
        )
    found = set()
    for case, events in by_case.items():
        events.sort(key=lambda e: e["ts"])  # stable: input order breaks ties
        pt = Partnership(events, as_of)
        for rule, check in CHECKS.items():
            found.update((case, rule, tuple(ev)) for ev in check(pt))
    return found

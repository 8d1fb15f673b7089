"""The compiled replay net computes pm4py's token-replay steps exactly.

:class:`adapters.pm4py._replay_net.ReplayNet` translates pm4py's replay helpers
to integers. Here every step and trace end it computes is checked against
pm4py's own helpers (``Pm4pyReplaySteps``, the way the automaton computed
them before, with pm4py ``Marking`` objects; the hidden paths against
``get_places_shortest_path_by_hidden``), including the order of the
resulting marking's places, over every marking reachable from the initial
one (bounded), and whole replays against
``pm4py.conformance_diagnostics_token_based_replay``: on models mined from
the real logs, on a net with duplicate labels, equal place names and
weighted arcs, and on seeded random nets.
"""

from __future__ import annotations

import random
from collections import deque
from copy import copy
from typing import Any

import polars as pl
import pytest

from adapters.pm4py._replay_net import ReplayNet
from adapters.pm4py.conformance import replay_variants
from adapters.pm4py.discovery import (
    discover_heuristics_model,
    discover_inductive_model,
)
from adapters.pm4py.models import Pm4pyModel, build_reference_net
from adapters.pm4py.replay import TokenReplayAutomaton, replay_tokens_natively
from engine import schema as s

NOT_IN_MODEL = "activity_not_in_model"
MINERS = (
    ("inductive", 0.0),
    ("inductive", 0.2),
    ("inductive", 0.5),
    ("heuristics", 0.5),
    ("heuristics", 0.9),
)


class Pm4pyReplaySteps:
    """A step and a trace end computed with pm4py's own helper functions."""

    def __init__(self, model: Pm4pyModel, paths: Any) -> None:
        from pm4py.algo.conformance.tokenreplay.variants import token_replay
        from pm4py.objects.petri_net import semantics

        self.tr, self.sem = token_replay, semantics
        self.net, self.final, self.paths = model.net, model.final_marking, paths
        self.trans_map = {
            t.label: t for t in sorted(self.net.transitions, key=lambda t: t.name)
        }
        labels = [t.label for t in self.net.transitions if t.label is not None]
        self.duplicates = {x for x in labels if labels.count(x) > 1}

    def tokens(self, transition: Any) -> tuple[int, int]:
        return (
            int(self.tr.get_consumed_tokens(transition)[0]),
            int(self.tr.get_produced_tokens(transition)[0]),
        )

    def step(self, marking: Any, activity: str) -> tuple[Any, int, int, int]:
        marking = copy(marking)
        if activity not in self.trans_map:
            return marking, 0, 0, 0
        net, sem = self.net, self.sem
        t = self.trans_map[activity]
        if activity in self.duplicates:
            enabled = [
                x for x in sem.enabled_transitions(net, marking) if x.label == activity
            ]
            t = enabled[0] if enabled else t
        missing = consumed = produced = 0
        if not sem.is_enabled(t, net, marking):
            _, marking, fired, _ = self.tr.apply_hidden_trans(
                t, net, copy(marking), self.paths, [], 0, set(), [], False
            )
            for hidden in fired:
                c, p = self.tokens(hidden)
                consumed, produced = consumed + c, produced + p
        if not sem.is_enabled(t, net, marking):
            missing += int(self.tr.add_missing_tokens(t, marking)[0])
        c, p = self.tokens(t)
        consumed, produced = consumed + c, produced + p
        if sem.is_enabled(t, net, marking):
            marking = sem.execute(t, net, marking)
        return marking, missing, consumed, produced

    def reach_final(self, marking: Any) -> tuple[Any, int, int]:
        tr, sem, net, final = self.tr, self.sem, self.net, self.final
        consumed = produced = 0
        for _ in range(tr.TechnicalParameters.MAX_IT_FINAL1.value):
            if tr.break_condition_final_marking(marking, final):
                break
            groups = tr.get_req_transitions_for_final_marking(
                marking, final, self.paths
            )
            for group in groups:
                for t in group:
                    if sem.is_enabled(t, net, marking):
                        marking = sem.execute(t, net, marking)
                        c, p = self.tokens(t)
                        consumed, produced = consumed + c, produced + p
                if tr.break_condition_final_marking(marking, final):
                    break
        if tr.break_condition_final_marking(marking, final) or len(final) != 1:
            return marking, consumed, produced
        sink = next(iter(final))
        paths = sorted(
            (self.paths[p][sink] for p in marking if sink in self.paths.get(p, {})),
            key=len,
        )
        for _ in range(tr.TechnicalParameters.MAX_IT_FINAL2.value):
            for path in paths:
                for t in path:
                    if not sem.is_enabled(t, net, marking):
                        break
                    marking = sem.execute(t, net, marking)
                    c, p = self.tokens(t)
                    consumed, produced = consumed + c, produced + p
        return marking, consumed, produced

    def end(self, marking: Any) -> tuple[int, int, int, int]:
        marking, consumed, produced = self.reach_final(copy(marking))
        missing = sum(max(0, n - marking[p]) for p, n in self.final.items())
        remaining = sum(
            max(0, n - self.final[p]) if p in self.final else n
            for p, n in marking.items()
        )
        consumed += int(sum(self.final.values()))
        return int(missing), consumed, produced, int(remaining)


def compile_model(model: Pm4pyModel) -> tuple[ReplayNet, Pm4pyReplaySteps]:
    from pm4py.algo.conformance.tokenreplay.variants import token_replay
    from pm4py.objects.petri_net.utils.petri_utils import (
        get_places_shortest_path_by_hidden,
    )

    paths = get_places_shortest_path_by_hidden(
        model.net, token_replay.TechnicalParameters.MAX_REC_DEPTH.value
    )
    compiled = ReplayNet(model.net, model.initial_marking, model.final_marking)
    index = {p: i for i, p in enumerate(compiled.places)}
    t_index = {t: i for i, t in enumerate(model.net.transitions)}
    expected_paths = tuple(
        {
            index[p2]: tuple(t_index[t] for t in path)
            for p2, path in paths.get(place, {}).items()
        }
        for place in compiled.places
    )
    assert compiled.paths == expected_paths
    return compiled, Pm4pyReplaySteps(model, paths)


def activities_of(model: Pm4pyModel) -> list[str]:
    labels = {t.label for t in model.net.transitions if t.label is not None}
    return [*sorted(labels), NOT_IN_MODEL]


def assert_steps_equal(model: Pm4pyModel, *, max_states: int) -> int:
    """Compare every step and end from up to ``max_states`` reachable markings."""
    from pm4py.objects.petri_net.obj import Marking

    compiled, reference = compile_model(model)
    index = {p: i for i, p in enumerate(compiled.places)}

    def as_pm4py(marking: dict[int, int]) -> Any:
        return Marking({compiled.places[i]: n for i, n in marking.items()})

    activities = activities_of(model)
    queue = deque([compiled.initial])
    seen = {tuple(sorted(compiled.initial.items()))}
    while queue:
        marking = queue.popleft()
        assert compiled.end(marking) == reference.end(as_pm4py(marking))
        for activity in activities:
            got, *counts = compiled.step(marking, activity)
            expected, *expected_counts = reference.step(as_pm4py(marking), activity)
            assert counts == expected_counts, (marking, activity)
            assert list(got.items()) == [(index[p], n) for p, n in expected.items()]
            key = tuple(sorted(got.items()))
            if key not in seen and len(seen) < max_states:
                seen.add(key)
                queue.append(got)
    return len(seen)


def assert_replays_equal(model: Pm4pyModel, traces: list[list[str]]) -> None:
    """Whole replays: the automaton vs pm4py's token-based replay, exactly."""
    variants = pl.DataFrame(
        {"variant_id": range(len(traces)), "trace": traces},
        schema={"variant_id": pl.Int64, "trace": pl.List(pl.String)},
    )
    ours = replay_tokens_natively(variants, automaton=TokenReplayAutomaton(model))
    expected = replay_variants(traces, model=model, method="token")
    assert ours.drop("variant_id").equals(expected)


def random_traces(model: Pm4pyModel, *, n: int, seed: int) -> list[list[str]]:
    rng = random.Random(seed)
    activities = activities_of(model)
    return [
        [rng.choice(activities) for _ in range(rng.randint(0, 12))] for _ in range(n)
    ]


def mine(frame: pl.DataFrame, miner: str, noise: float) -> Pm4pyModel:
    if miner == "inductive":
        return discover_inductive_model(frame, noise_threshold=noise)
    return discover_heuristics_model(frame, noise_threshold=noise)


@pytest.mark.parametrize(("miner", "noise"), MINERS)
def test_steps_equal_pm4py_helpers_on_mined_models(real_log, miner, noise):
    _, frame = real_log
    model = mine(frame, miner, noise)
    assert assert_steps_equal(model, max_states=150) > 1
    traces = frame.group_by(s.PARTNERSHIP_ID, maintain_order=True).agg(s.ACTIVITY)
    log_traces = traces[s.ACTIVITY].to_list()[:100]
    assert_replays_equal(model, log_traces + random_traces(model, n=100, seed=7))


def test_steps_equal_pm4py_helpers_on_the_reference_lifecycle():
    model = build_reference_net()
    assert assert_steps_equal(model, max_states=200) > 1
    assert_replays_equal(model, random_traces(model, n=200, seed=3))


def tricky_model() -> Pm4pyModel:
    """Duplicate labels, two places named alike, a weight-2 arc, hidden paths."""
    from pm4py.objects.petri_net.obj import Marking, PetriNet
    from pm4py.objects.petri_net.utils.petri_utils import add_arc_from_to

    net = PetriNet("tricky")
    names = ("source", "p1", "p1", "p2", "p3", "sink")
    places = [PetriNet.Place(name) for name in names]
    net.places.update(places)
    arcs = (
        ("tau_0", None, [0], [1, 2]),
        ("a_1", "a", [1], [3]),
        ("a_2", "a", [2], [4]),
        ("b", "b", [3, 4], [5]),
        ("tau_1", None, [3], [4]),
        ("tau_2", None, [4], [1]),
        ("c", "c", [2], [2]),
        ("tau_end", None, [1, 2], [5]),
    )
    for name, label, ins, outs in arcs:
        t = PetriNet.Transition(name, label)
        net.transitions.add(t)
        for i in ins:
            add_arc_from_to(places[i], t, net, weight=2 if name == "c" else 1)
        for i in outs:
            add_arc_from_to(t, places[i], net)
    return Pm4pyModel(
        "petri_net", net, Marking({places[0]: 1}), Marking({places[5]: 1})
    )


def random_model(seed: int, *, conservative: bool = False) -> Pm4pyModel:
    """A seeded random net: hidden and duplicate transitions, equal names, weights.

    ``conservative`` nets (as many input as output arcs, all of weight 1) keep
    the number of tokens bounded, which pm4py's whole-trace replay needs (its
    diagnostics explore what hidden transitions can reach).
    """
    from pm4py.objects.petri_net.obj import Marking, PetriNet
    from pm4py.objects.petri_net.utils.petri_utils import add_arc_from_to

    rng = random.Random(seed)
    net = PetriNet(f"random_{seed}")
    n_places = rng.randint(3, 7)
    places = [PetriNet.Place(f"p{i - (rng.random() < 0.2)}") for i in range(n_places)]
    net.places.update(places)

    def weight() -> int:
        return 1 if conservative else rng.choice([1, 1, 1, 2])

    for i in range(rng.randint(4, 10)):
        t = PetriNet.Transition(f"t{i}", rng.choice(["a", "b", "c", "d", None, None]))
        net.transitions.add(t)
        n_in = rng.randint(1, 2)
        for place in rng.sample(places, n_in):
            add_arc_from_to(place, t, net, weight=weight())
        for place in rng.sample(places, n_in if conservative else rng.randint(1, 2)):
            add_arc_from_to(t, place, net, weight=weight())
    final = places[-2:] if rng.random() < 0.3 else places[-1:]
    return Pm4pyModel(
        "petri_net", net, Marking({places[0]: 1}), Marking(dict.fromkeys(final, 1))
    )


def test_steps_equal_pm4py_helpers_on_duplicate_labels_and_names():
    model = tricky_model()
    assert assert_steps_equal(model, max_states=200) > 10
    assert_replays_equal(model, random_traces(model, n=200, seed=11))


@pytest.mark.parametrize("seed", range(30))
def test_steps_equal_pm4py_helpers_on_random_nets(seed):
    assert_steps_equal(random_model(seed), max_states=40)
    model = random_model(seed, conservative=True)
    assert_steps_equal(model, max_states=40)
    assert_replays_equal(model, random_traces(model, n=10, seed=seed))

"""pm4py's token-replay step functions, over a Petri net compiled to integers.

A line-by-line translation of the helpers pm4py 2.7's ``token_replay``
variant calls for one event and for the end of a trace (default parameters):
``apply_hidden_trans``, ``enable_hidden_transitions``,
``get_hidden_transitions_to_enable``, ``add_missing_tokens``, the final-marking
loops of ``apply_trace``, and ``semantics.is_enabled`` / ``execute``. Places and
transitions become integers, arcs tuples of ``(place, weight)`` in the
iteration order of pm4py's arc sets, and a marking a plain ``dict`` from place
to tokens whose insertion order follows pm4py's ``Marking`` (a ``Counter``)
exactly: ``execute`` deletes emptied places and appends new ones as pm4py
does, so every order pm4py depends on (places sorted by name with ties kept
in marking order, hidden paths sorted by length, stable) is the same.
Markings are never changed in place once built.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ReplayNet"]

Marking = dict[int, int]
Arcs = tuple[tuple[int, int], ...]

# pm4py's TechnicalParameters (token_replay.py), default replay.
_MAX_REC_DEPTH = 50
_MAX_REC_DEPTH_HIDTRANSENABL = 2
_MAX_IT_FINAL1 = 5
_MAX_IT_FINAL2 = 5
_MAX_ENABLE_ROUNDS = 10_000_000


class ReplayNet:
    """An accepting Petri net compiled for pm4py's token-replay steps.

    Parameters
    ----------
    net, initial_marking, final_marking
        The pm4py accepting Petri net.
    """

    def __init__(self, net: Any, initial_marking: Any, final_marking: Any) -> None:
        transitions = tuple(net.transitions)  # the set's own iteration order
        places = list(net.places)
        for marking in (initial_marking, final_marking):
            places += [p for p in marking if p not in set(places)]
        index = {p: i for i, p in enumerate(places)}
        self._transitions = transitions
        self._t_index = {t: i for i, t in enumerate(transitions)}
        self.pre: tuple[Arcs, ...] = tuple(
            tuple((index[a.source], a.weight) for a in t.in_arcs) for t in transitions
        )
        self.post: tuple[Arcs, ...] = tuple(
            tuple((index[a.target], a.weight) for a in t.out_arcs) for t in transitions
        )
        self.consumed = tuple(int(sum(w for _, w in arcs)) for arcs in self.pre)
        self.produced = tuple(int(sum(w for _, w in arcs)) for arcs in self.post)
        names = sorted({p.name for p in places})
        # Sorting by rank sorts by name, equal names kept in marking order.
        self._rank = tuple(names.index(p.name) for p in places)
        self._names_unique = len(names) == len(places)
        # pm4py's places: place ``i`` of a marking is ``places[i]``.
        self.places: tuple[Any, ...] = tuple(places)
        # Per place, its hidden successors: (transition, its output places),
        # both in pm4py's arc-set order; none for places outside the net.
        in_net = set(net.places)
        self._hidden_after = tuple(
            tuple(
                (
                    self._t_index[a.target],
                    tuple(p for p, _ in self.post[self._t_index[a.target]]),
                )
                for a in place.out_arcs
                if a.target.label is None
            )
            if place in in_net
            else ()
            for place in places
        )
        self.paths = self._find_paths()
        self.initial: Marking = {index[p]: n for p, n in initial_marking.items()}
        self.final: Marking = {index[p]: n for p, n in final_marking.items()}
        self._final_sorted = self._by_name(self.final)
        # pm4py: the transition map keeps the last transition by name per label.
        self._by_label = {
            t.label: self._t_index[t] for t in sorted(transitions, key=lambda t: t.name)
        }
        labels = [t.label for t in transitions if t.label is not None]
        self._duplicates = {x for x in labels if labels.count(x) > 1}

    def _find_paths(self) -> tuple[dict[int, tuple[int, ...]], ...]:
        """pm4py's ``get_places_shortest_path_by_hidden`` (``MAX_REC_DEPTH``).

        Per place, the hidden transitions leading to each other place, as the
        same depth-first search finds them (first found, replaced only by a
        strictly shorter one).
        """
        paths: list[dict[int, tuple[int, ...]]] = []
        for place in range(len(self.places)):
            found: dict[int, tuple[int, ...]] = {}
            self._extend_paths(found, place, (), 0)
            paths.append(found)
        return tuple(paths)

    def _extend_paths(
        self,
        found: dict[int, tuple[int, ...]],
        place: int,
        path: tuple[int, ...],
        depth: int,
    ) -> None:
        """pm4py's ``get_places_shortest_path`` from ``place`` after ``path``."""
        if depth > _MAX_REC_DEPTH:
            return
        for t, targets in self._hidden_after[place]:
            for p2 in targets:
                known = found.get(p2)
                if known is None or len(path) + 1 < len(known):
                    found[p2] = (*path, t)
                    self._extend_paths(found, p2, found[p2], depth + 1)

    def _by_name(self, places: Any) -> list[int]:
        return sorted(places, key=self._rank.__getitem__)

    def is_enabled(self, t: int, marking: Marking) -> bool:
        """pm4py's ``semantics.is_enabled``."""
        for p, w in self.pre[t]:  # noqa: SIM110 (hot: cheaper than all(genexpr))
            if marking.get(p, 0) < w:
                return False
        return True

    def execute(self, t: int, marking: Marking) -> Marking:
        """pm4py's ``semantics.execute`` of an enabled transition (a new marking)."""
        out = dict(marking)
        for p, w in self.pre[t]:
            n = out.get(p, 0) - w
            if n == 0:
                out.pop(p, None)
            else:
                out[p] = n
        for p, w in self.post[t]:
            out[p] = out.get(p, 0) + w
        return out

    def _missing_places(self, t: int, marking: Marking) -> list[int]:
        """``get_places_with_missing_tokens``, sorted as pm4py sorts that set."""
        missing = [p for p, w in self.pre[t] if marking.get(p, 0) < w]
        if self._names_unique:
            return self._by_name(set(missing))
        # Equal names: ties follow the iteration order of pm4py's set of places.
        chosen = sorted({self.places[p] for p in missing}, key=lambda p: p.name)
        return [self.places.index(p) for p in chosen]

    def _paths_between(
        self, marking: Marking, targets: list[int]
    ) -> list[tuple[int, ...]]:
        """``get_hidden_transitions_to_enable`` / ``..._for_final_marking``."""
        found = []
        for p1 in self._by_name(marking):
            reach = self.paths[p1]
            found += [reach[p2] for p2 in targets if p2 in reach]
        return sorted(found, key=len)

    def _enable_hidden(
        self,
        t: int,
        marking: Marking,
        groups: list[tuple[int, ...]],
        fired: list[int],
        visited: set[int],
    ) -> Marking:
        """pm4py's ``enable_hidden_transitions`` (non-exhaustive), j_indexes and all."""
        j_indexes = [0] * len(groups)
        for z in range(_MAX_ENABLE_ROUNDS):
            g = z % len(groups)
            something_changed = False
            for _ in range(j_indexes[g], len(groups[g])):
                t3 = groups[g][j_indexes[g]]
                if t3 != t and self.is_enabled(t3, marking) and t3 not in visited:
                    marking = self.execute(t3, marking)
                    fired.append(t3)
                    visited.add(t3)
                    something_changed = True
                j_indexes[g] += 1
                if self.is_enabled(t, marking):
                    break
            if self.is_enabled(t, marking) or not something_changed:
                break
        return marking

    def _apply_hidden(
        self,
        t: int,
        marking: Marking,
        fired: list[int],
        depth: int,
        visited: set[int],
    ) -> Marking:
        """pm4py's ``apply_hidden_trans``: fire hidden transitions to enable ``t``."""
        if depth >= _MAX_REC_DEPTH_HIDTRANSENABL or t in visited:
            return marking
        visited.add(t)
        at_start = marking
        missing = self._missing_places(t, marking)
        groups = self._paths_between(marking, missing)
        if not groups:
            return marking
        marking = self._enable_hidden(t, marking, groups, fired, visited)
        if not self.is_enabled(t, marking):
            for group in self._paths_between(marking, missing):
                for t4 in group:
                    if t4 == t or t4 in visited:
                        continue
                    if not self.is_enabled(t4, marking):
                        marking = self._apply_hidden(
                            t4, marking, fired, depth + 1, visited
                        )
                    if self.is_enabled(t4, marking):
                        marking = self.execute(t4, marking)
                        fired.append(t4)
                        visited.add(t4)
        if not self.is_enabled(t, marking) and at_start != marking:
            marking = self._apply_hidden(t, marking, fired, depth + 1, visited)
        return marking

    def _transition_of(self, activity: str, marking: Marking) -> int:
        """Return the transition pm4py fires for ``activity`` (enabled ones first)."""
        t = self._by_label[activity]
        if activity in self._duplicates:
            enabled = {
                x
                for i, x in enumerate(self._transitions)
                if self.is_enabled(i, marking)
            }
            matching = [x for x in enabled if x.label == activity]
            t = self._t_index[matching[0]] if matching else t
        return t

    def step(self, marking: Marking, activity: str) -> tuple[Marking, int, int, int]:
        """Return ``(marking, missing, consumed, produced)`` after one event.

        One iteration of pm4py's ``apply_trace`` loop; an activity without a
        transition leaves the marking (the same object) and counts nothing.
        """
        if activity not in self._by_label:
            return marking, 0, 0, 0
        t = self._transition_of(activity, marking)
        missing = consumed = produced = 0
        if not self.is_enabled(t, marking):
            fired: list[int] = []
            marking = self._apply_hidden(t, marking, fired, 0, set())
            consumed += sum(self.consumed[h] for h in fired)
            produced += sum(self.produced[h] for h in fired)
        if not self.is_enabled(t, marking):  # pm4py's add_missing_tokens
            marking = dict(marking)
            for p, w in self.pre[t]:
                n = marking.get(p, 0)
                if n < w:
                    missing += w - n
                    marking[p] = n + w
        consumed += self.consumed[t]
        produced += self.produced[t]
        if self.is_enabled(t, marking):
            marking = self.execute(t, marking)
        return marking, int(missing), consumed, produced

    def _reached(self, marking: Marking) -> bool:
        """pm4py's ``break_condition_final_marking``."""
        return self.final.keys() <= marking.keys()

    def _fire_towards_final(self, marking: Marking) -> tuple[Marking, int, int]:
        """pm4py's first attempt (``MAX_IT_FINAL1``) to reach the final marking."""
        consumed = produced = 0
        for _ in range(_MAX_IT_FINAL1):
            if self._reached(marking):
                break
            for group in self._paths_between(marking, self._final_sorted):
                for t in group:
                    if self.is_enabled(t, marking):
                        marking = self.execute(t, marking)
                        consumed += self.consumed[t]
                        produced += self.produced[t]
                if self._reached(marking):
                    break
        return marking, consumed, produced

    def _fire_towards_sink(self, marking: Marking) -> tuple[Marking, int, int]:
        """pm4py's second attempt (``MAX_IT_FINAL2``), paths in marking order."""
        consumed = produced = 0
        (sink,) = self.final
        paths = sorted(
            (self.paths[p][sink] for p in marking if sink in self.paths[p]), key=len
        )
        for _ in range(_MAX_IT_FINAL2):
            for path in paths:
                for t in path:
                    if not self.is_enabled(t, marking):
                        break
                    marking = self.execute(t, marking)
                    consumed += self.consumed[t]
                    produced += self.produced[t]
        return marking, consumed, produced

    def end(self, marking: Marking) -> tuple[int, int, int, int]:
        """Return ``(missing, consumed, produced, remaining)`` at a trace's end."""
        marking, consumed, produced = self._fire_towards_final(marking)
        if not self._reached(marking) and len(self.final) == 1:
            marking, c, p = self._fire_towards_sink(marking)
            consumed, produced = consumed + c, produced + p
        final = self.final
        missing = sum(max(0, n - marking.get(p, 0)) for p, n in final.items())
        remaining = sum(
            max(0, n - final[p]) if p in final else n for p, n in marking.items()
        )
        consumed += sum(final.values())
        return int(missing), int(consumed), int(produced), int(remaining)

"""pm4py's token-based replay, run as a memoized automaton over markings.

pm4py replays a trace event by event; with its default parameters each step
(enable the activity's transition through hidden transitions, add missing
tokens, fire) depends only on the current marking and the activity, and the
end of the trace (reach the final marking through hidden transitions, count
remaining tokens) only on the last marking. So each distinct
``(marking, activity)`` step is computed once, by a line-for-line translation
of pm4py's helper functions over the net compiled to integers
(:mod:`adapters.pm4py._replay_net`, same orders and tie-breaks), and stored
in a table; all variants then walk the
table in lockstep with polars joins (one join per trace position, never a
Python loop per event). Small logs (up to :data:`SMALL_REPLAY_EVENTS` variant
events), where those joins' fixed cost dominates, walk each variant through
the table in a plain loop instead. Results are identical to
``pm4py.conformance_diagnostics_token_based_replay`` (tested on real logs).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from adapters.pm4py._replay_net import ReplayNet

if TYPE_CHECKING:
    from adapters.pm4py.models import Pm4pyModel

__all__ = ["SMALL_REPLAY_EVENTS", "TokenReplayAutomaton", "replay_tokens_natively"]

# Up to this many variant events, variants are walked one by one (see
# _replay_small): cheaper than one polars join per trace position.
SMALL_REPLAY_EVENTS = 50_000

_STEP_SCHEMA = {
    "state": pl.Int64,
    "activity": pl.String,
    "next_state": pl.Int64,
    "step_missing": pl.Int64,
    "step_consumed": pl.Int64,
    "step_produced": pl.Int64,
}
_END_SCHEMA = {
    "state": pl.Int64,
    "end_missing": pl.Int64,
    "end_consumed": pl.Int64,
    "end_produced": pl.Int64,
    "remaining_tokens": pl.Int64,
}


class TokenReplayAutomaton:
    """The markings a model's token replay visits, and its steps between them.

    Parameters
    ----------
    model
        The accepting Petri net to replay on.
    """

    def __init__(self, model: Pm4pyModel) -> None:
        self._net = ReplayNet(model.net, model.initial_marking, model.final_marking)
        self._markings: list[dict[int, int]] = []
        self._ids: dict[tuple[tuple[int, int], ...], int] = {}
        self.initial_state = self._state_of(self._net.initial)
        self.initial_tokens = int(sum(model.initial_marking.values()))
        # (state, activity) -> (next_state, missing, consumed, produced), and
        # state -> (missing, consumed, produced, remaining) at the trace end.
        self._step_table: dict[tuple[int, str], tuple[int, int, int, int]] = {}
        self._end_table: dict[int, tuple[int, int, int, int]] = {}
        self._steps = pl.DataFrame(schema=_STEP_SCHEMA)
        self._ends = pl.DataFrame(schema=_END_SCHEMA)
        self._new_steps: list[tuple[int, str, int, int, int, int]] = []
        self._new_ends: list[tuple[int, int, int, int, int]] = []

    def _state_of(self, marking: dict[int, int]) -> int:
        """Return the state of a marking, its places in their order of insertion.

        pm4py's replay reads a marking's places in insertion order where it
        breaks ties (paths of equal length to the final marking, places of
        equal name), so two markings with the same tokens in another order
        are two states: each step then starts from exactly pm4py's marking.
        """
        key = tuple(marking.items())
        state = self._ids.get(key)
        if state is None:
            state = len(self._markings)
            self._ids[key] = state
            self._markings.append(marking)
        return state

    def _step(self, state: int, activity: str) -> tuple[int, int, int, int]:
        """One iteration of pm4py's ``apply_trace`` loop (default parameters)."""
        marking, missing, consumed, produced = self._net.step(
            self._markings[state], activity
        )
        return self._state_of(marking), missing, consumed, produced

    def _end(self, state: int) -> tuple[int, int, int, int]:
        """pm4py's end of a trace: reach the final marking, count the rest."""
        return self._net.end(self._markings[state])

    @property
    def steps(self) -> pl.DataFrame:
        """Every step computed so far (``state, activity, next_state, step_*``)."""
        if self._new_steps:
            new = pl.DataFrame(self._new_steps, schema=_STEP_SCHEMA, orient="row")
            self._steps, self._new_steps = pl.concat([self._steps, new]), []
        return self._steps

    @property
    def ends(self) -> pl.DataFrame:
        """Every end-of-trace result computed so far (``state, end_*, remaining``)."""
        if self._new_ends:
            new = pl.DataFrame(self._new_ends, schema=_END_SCHEMA, orient="row")
            self._ends, self._new_ends = pl.concat([self._ends, new]), []
        return self._ends

    def step(self, state: int, activity: str) -> tuple[int, int, int, int]:
        """Return ``(next_state, missing, consumed, produced)`` of one step, memoized."""
        found = self._step_table.get((state, activity))
        if found is None:
            found = self._step_table[(state, activity)] = self._step(state, activity)
            self._new_steps.append((state, activity, *found))
        return found

    def end(self, state: int) -> tuple[int, int, int, int]:
        """Return ``(missing, consumed, produced, remaining)`` at a trace end, memoized."""
        found = self._end_table.get(state)
        if found is None:
            found = self._end_table[state] = self._end(state)
            self._new_ends.append((state, *found))
        return found

    def extend_steps(self, pairs: pl.DataFrame) -> None:
        """Compute the ``(state, activity)`` steps not known yet."""
        for state, activity in pairs.iter_rows():
            self.step(state, activity)

    def extend_ends(self, states: pl.Series) -> None:
        """Compute the end-of-trace results of states not known yet."""
        for state in sorted(states.to_list()):
            self.end(state)

    def walk(self, trace: list[str]) -> tuple[int, int, int, int]:
        """Return ``(state, missing, consumed, produced)`` after a trace's events.

        The start counts the initial marking's tokens as produced, as pm4py;
        the end of the trace (:meth:`end`) is not included.
        """
        state, missing, consumed, produced = self.initial_state, 0, 0, 0
        produced = self.initial_tokens
        for activity in trace:
            if activity is None:  # as the lockstep replay: no event, no step
                continue
            state, m, c, p = self.step(state, activity)
            missing, consumed, produced = missing + m, consumed + c, produced + p
        return state, missing, consumed, produced


def replay_tokens_natively(
    variants: pl.DataFrame, *, automaton: TokenReplayAutomaton
) -> pl.DataFrame:
    """Return pm4py's token-replay result per variant.

    Parameters
    ----------
    variants
        ``variant_id`` and ``trace`` (list of activities).
    automaton
        The model's :class:`TokenReplayAutomaton` (reusable across calls).

    Returns
    -------
    polars.DataFrame
        ``variant_id, fitness, is_fit, missing_tokens, consumed_tokens,
        remaining_tokens, produced_tokens`` in ``variants`` order.
    """
    if variants["trace"].list.len().sum() <= SMALL_REPLAY_EVENTS:
        return _replay_small(variants, automaton=automaton)
    events = (
        variants.select("variant_id", pl.col("trace").alias("activity"))
        .explode("activity")
        .drop_nulls("activity")
        .with_columns(pl.int_range(pl.len()).over("variant_id").alias("pos"))
    )
    state = variants.select(
        "variant_id",
        pl.lit(automaton.initial_state, pl.Int64).alias("state"),
        pl.lit(0, pl.Int64).alias("missing"),
        pl.lit(0, pl.Int64).alias("consumed"),
        pl.lit(automaton.initial_tokens, pl.Int64).alias("produced"),
    )
    for _, at_pos in events.sort("pos").group_by("pos", maintain_order=True):
        moving = at_pos.join(state, on="variant_id")
        automaton.extend_steps(moving.select("state", "activity").unique())
        moved = moving.join(automaton.steps, on=["state", "activity"]).select(
            "variant_id",
            pl.col("next_state").alias("state"),
            pl.col("missing") + pl.col("step_missing"),
            pl.col("consumed") + pl.col("step_consumed"),
            pl.col("produced") + pl.col("step_produced"),
        )
        state = state.update(moved, on="variant_id")
    automaton.extend_ends(state["state"].unique())
    return _score_tokens(state.join(automaton.ends, on="state", how="left"))


def _replay_small(
    variants: pl.DataFrame, *, automaton: TokenReplayAutomaton
) -> pl.DataFrame:
    """Return :func:`replay_tokens_natively`'s result, walking each variant's trace.

    For small logs, where polars' fixed cost per call (a few joins per trace
    position) dominates: each variant follows the memoized step table in a
    plain loop and looks its end up, then the same scoring expressions apply.
    """
    rows = []
    ids, traces = variants["variant_id"].to_list(), variants["trace"].to_list()
    for variant_id, trace in zip(ids, traces, strict=True):
        walked = automaton.walk(trace)
        rows.append((variant_id, *walked, *automaton.end(walked[0])))
    schema: dict[str, pl.DataType | type[pl.DataType]] = {
        "variant_id": variants.schema["variant_id"]
    }
    schema |= dict.fromkeys(("state", "missing", "consumed", "produced"), pl.Int64)
    schema |= {k: v for k, v in _END_SCHEMA.items() if k != "state"}
    return _score_tokens(pl.DataFrame(rows, schema=schema, orient="row"))


def _score_tokens(final: pl.DataFrame) -> pl.DataFrame:
    consumed = pl.col("consumed") + pl.col("end_consumed")
    produced = pl.col("produced") + pl.col("end_produced")
    missing = pl.col("missing") + pl.col("end_missing")
    fitness = 0.5 * (
        1.0 - missing.cast(pl.Float64) / consumed.cast(pl.Float64)
    ) + 0.5 * (
        1.0 - pl.col("remaining_tokens").cast(pl.Float64) / produced.cast(pl.Float64)
    )
    return final.select(
        "variant_id",
        pl.when((consumed > 0) & (produced > 0))
        .then(fitness)
        .otherwise(1.0)
        .alias("fitness"),
        ((pl.col("missing") == 0) & (pl.col("remaining_tokens") == 0)).alias("is_fit"),
        missing.alias("missing_tokens"),
        consumed.alias("consumed_tokens"),
        "remaining_tokens",
        produced.alias("produced_tokens"),
    )

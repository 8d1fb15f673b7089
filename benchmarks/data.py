"""Synthetic, seeded input frames for the benchmarks (vectorized, no row loop).

:func:`generate_input_frame` returns an :data:`engine.schema.INPUT_SCHEMA` frame
of ``n_events`` events spread over ``n_partnerships`` partnerships, with the
columns a real log has: canonical activities (phase inferred from them),
actors and their organizations, 0-4 participants with roles, workstreams,
attributes JSON for the activities that carry ids, and per-partnership UTC
offsets. Events are in global time order, so every partnership's stream is in
time order too.

Examples
--------
>>> from benchmarks.data import generate_input_frame
>>> frame = generate_input_frame(n_events=1_000, n_partnerships=10, seed=1)
>>> frame.height, frame["case:concept:name"].n_unique()
(1000, 10)
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import polars as pl
import pyarrow as pa

from engine import schema as s
from engine.validation import infer_phase_expr

__all__ = ["generate_input_frame"]

_START_US = int(datetime(2012, 1, 1, tzinfo=UTC).timestamp() * 1_000_000)
_SPAN_US = 8 * 365 * 24 * 3600 * 1_000_000
_N_ORGS = 300
_N_ACTORS = 6_000
_OFFSETS = np.array([0, 3600, 7200, -18000, 19800], dtype=np.int32)
_WORKSTREAMS = ["contract", "funding", "service_design", "evaluation"]
# Rough shape of a real partnership log: much talk, fewer decisions.
_ACTIVITY_WEIGHTS = {
    "initiate_partnership": 1,
    "explore_expectations": 6,
    "propose_objective": 5,
    "negotiate_terms": 6,
    "define_values": 3,
    "assess_needs": 4,
    "propose_idea": 5,
    "agree_objectives": 3,
    "agree_action_plan": 3,
    "sign_agreement": 1,
    "start_action": 4,
    "report_progress": 8,
    "share_information": 12,
    "feedback_meeting": 6,
    "raise_conflict": 2,
    "mediate_conflict": 1,
    "resolve_conflict": 2,
    "member_joined": 1,
    "member_left": 1,
}
_ROLE_WEIGHTS = np.array([1, 4, 6, 3, 1, 0.3, 0.3, 1.0])


def _uuid_strings(rng: np.random.Generator, n: int) -> pl.Series:
    raw = pa.FixedSizeBinaryArray.from_buffers(
        pa.binary(16), n, [None, pa.py_buffer(rng.bytes(16 * n))]
    )
    hexed = pl.from_arrow(raw.cast(pa.binary())).bin.encode("hex")  # type: ignore[union-attr]
    return (
        pl.DataFrame({"h": hexed})
        .select(
            pl.concat_str(
                [pl.col("h").str.slice(a, b) for a, b in _UUID_PARTS], separator="-"
            )
        )
        .to_series()
    )


_UUID_PARTS = ((0, 8), (8, 4), (12, 4), (16, 4), (20, 12))


def _participants(rng: np.random.Generator, n: int) -> pl.Series:
    counts = rng.integers(0, 5, n)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    total = int(offsets[-1])
    actors = rng.integers(0, _N_ACTORS, total)
    roles = rng.choice(len(s.ROLES), total, p=_ROLE_WEIGHTS / _ROLE_WEIGHTS.sum())
    flat = pl.DataFrame({"a": actors, "r": roles}).select(
        pl.format("A{}", pl.col("a")).alias("actor"),
        pl.format("O{}", pl.col("a") % _N_ORGS).alias("organization"),
        pl.col("r").replace_strict(dict(enumerate(s.ROLES))).alias("role"),
    )
    structs = pa.StructArray.from_arrays(
        [flat[c].to_arrow().cast(pa.string()) for c in flat.columns],
        names=flat.columns,
    )
    lists = pa.ListArray.from_arrays(pa.array(offsets), structs)
    return pl.Series(s.PARTICIPANTS, pl.from_arrow(lists)).cast(
        pl.List(s.PARTICIPANT_DTYPE)
    )


def _attributes_expr() -> pl.Expr:
    act = pl.col(s.ACTIVITY)
    k = pl.col("_k")
    idea = pl.concat_str([pl.lit('{"idea_id":"i'), k % 50, pl.lit('"}')])
    objective = pl.concat_str(
        [
            pl.lit('{"objective_id":"o'),
            k % 20,
            pl.lit('","visibility":"'),
            pl.when(k % 5 == 0).then(pl.lit("private")).otherwise(pl.lit("shared")),
            pl.lit('"}'),
        ]
    )
    return (
        pl.when(act.is_in(["propose_idea", "agree_action_plan", "start_action"]))
        .then(idea)
        .when(act == "propose_objective")
        .then(objective)
        .when(act == "share_information")
        .then(
            pl.when(k % 3 == 0)
            .then(pl.lit('{"audience":"subset"}'))
            .otherwise(pl.lit('{"audience":"all"}'))
        )
        .when(act.str.ends_with("_conflict"))
        .then(pl.concat_str([pl.lit('{"conflict_id":"c'), k % 10, pl.lit('"}')]))
        .otherwise(pl.lit(None, pl.String))
        .alias(s.ATTRIBUTES)
    )


def generate_input_frame(
    *, n_events: int, n_partnerships: int, seed: int = 0
) -> pl.DataFrame:
    """Return a synthetic input frame (:data:`engine.schema.INPUT_SCHEMA`).

    Parameters
    ----------
    n_events
        Number of events.
    n_partnerships
        Number of partnerships the events are spread over.
    seed
        Seed of numpy's Generator: the same arguments give the same frame.
    """
    rng = np.random.default_rng(seed)
    names = list(_ACTIVITY_WEIGHTS)
    weights = np.array(list(_ACTIVITY_WEIGHTS.values()), dtype=float)
    partnership = rng.integers(0, n_partnerships, n_events)
    actor = rng.integers(0, _N_ACTORS, n_events)
    base = pl.DataFrame(
        {
            "_p": partnership,
            "_a": actor,
            "_k": rng.integers(0, 1_000_000, n_events),
            "_act": rng.choice(len(names), n_events, p=weights / weights.sum()),
            "_ws": rng.integers(0, len(_WORKSTREAMS) + 1, n_events),
            "_tz": _OFFSETS[partnership % len(_OFFSETS)],
            "_us": np.sort(rng.integers(0, _SPAN_US, n_events)) + _START_US,
        }
    )
    frame = base.select(
        _uuid_strings(rng, n_events).alias(s.EVENT_ID),
        pl.format("P{}", pl.col("_p").cast(pl.String).str.zfill(6)).alias(
            s.PARTNERSHIP_ID
        ),
        pl.col("_act").replace_strict(dict(enumerate(names))).alias(s.ACTIVITY),
        pl.from_epoch(pl.col("_us"), time_unit="us")
        .dt.replace_time_zone("UTC")
        .alias(s.TIMESTAMP),
        pl.col("_tz").alias(s.TZ_OFFSET),
        pl.lit(None, pl.String).alias(s.PHASE),
        pl.format("A{}", pl.col("_a")).alias(s.ACTOR),
        pl.format("O{}", pl.col("_a") % _N_ORGS).alias(s.ORGANIZATION),
        _participants(rng, n_events),
        pl.col("_ws")
        .replace_strict(dict(enumerate(_WORKSTREAMS)), default=None)
        .alias(s.WORKSTREAM),
        "_k",
        pl.lit(s.CURRENT_SCHEMA_VERSION, pl.Int16).alias(s.SCHEMA_VERSION),
    )
    return (
        frame.with_columns(_attributes_expr(), infer_phase_expr())
        .select(s.INPUT_COLUMNS)
        .cast(s.INPUT_SCHEMA)
    )

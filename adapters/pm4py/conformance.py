"""Fitness per partnership through pm4py, computed once per variant.

Partnerships that follow the same activity sequence (a variant, see
:mod:`engine.variants`) replay identically, so pm4py replays each variant
once and the result is joined back to every partnership. Token-based replay
gives per-partnership token counts, from which :func:`summarize_fitness`
recomputes pm4py's log-level figures exactly.

Examples
--------
>>> from datetime import datetime, timezone
>>> import polars as pl
>>> frame = pl.DataFrame({
...     "case:concept:name": ["p", "p", "q", "q"],
...     "concept:name": ["initiate_partnership", "start_action"] * 2,
...     "time:timestamp": [datetime(2020, 1, d, tzinfo=timezone.utc) for d in (1, 2, 1, 2)],
... })
>>> compute_fitness(frame).select("case:concept:name", "variant_id", "is_fit").rows()
[('p', 0, False), ('q', 0, False)]
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any, Literal

import polars as pl

from adapters.pm4py.models import load_reference_model
from engine import schema as s
from engine.errors import AdapterError, ValidationError
from engine.variants import discover_variants

if TYPE_CHECKING:
    from adapters.pm4py.models import Pm4pyModel
    from engine.ports import ProcessModel

__all__ = [
    "FITNESS_METHODS",
    "Pm4pyConformanceChecker",
    "compute_fitness",
    "replay_variants",
    "summarize_fitness",
]

FITNESS_METHODS = ("token", "alignments")
_TOKEN_COLUMNS = {
    "fitness": pl.Float64,
    "is_fit": pl.Boolean,
    "missing_tokens": pl.Int64,
    "consumed_tokens": pl.Int64,
    "remaining_tokens": pl.Int64,
    "produced_tokens": pl.Int64,
}
_ALIGNMENT_COLUMNS = {"fitness": pl.Float64, "is_fit": pl.Boolean, "cost": pl.Int64}


def _variant_log(traces: list[list[str]]) -> Any:
    from pm4py.objects.log.obj import Event, EventLog, Trace

    return EventLog(
        [Trace([Event({s.ACTIVITY: a}) for a in trace]) for trace in traces]
    )


def _replay_tokens(log: Any, model: Pm4pyModel) -> list[dict[str, object]]:
    import pm4py

    results = pm4py.conformance_diagnostics_token_based_replay(
        log, model.net, model.initial_marking, model.final_marking
    )
    return [
        {
            "fitness": float(r["trace_fitness"]),
            "is_fit": bool(r["trace_is_fit"]),
            "missing_tokens": int(r["missing_tokens"]),
            "consumed_tokens": int(r["consumed_tokens"]),
            "remaining_tokens": int(r["remaining_tokens"]),
            "produced_tokens": int(r["produced_tokens"]),
        }
        for r in results
    ]


def _replay_alignments(log: Any, model: Pm4pyModel) -> list[dict[str, object]]:
    import pm4py

    with warnings.catch_warnings():
        # pm4py's soundness check builds numpy.matrix objects; numpy's pending
        # deprecation would, under -W error, make it report "not easy sound".
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        results = pm4py.conformance_diagnostics_alignments(
            log,
            model.net,
            model.initial_marking,
            model.final_marking,
            multi_processing=False,
        )
    rows: list[dict[str, object]] = []
    for r in results:
        if r is None:  # pm4py gives None when the search hits its limits
            msg = "pm4py could not align a variant (no alignment found)"
            raise AdapterError(msg)
        fitness = float(r["fitness"])
        rows.append(
            {"fitness": fitness, "is_fit": fitness == 1.0, "cost": int(r["cost"])}
        )
    return rows


def replay_variants(
    traces: list[list[str]],
    *,
    model: Pm4pyModel,
    method: Literal["token", "alignments"] = "token",
) -> pl.DataFrame:
    """Return one fitness row per trace, in order, replayed by pm4py.

    Parameters
    ----------
    traces
        Activity sequences (one per variant).
    model
        The Petri net to replay on.
    method
        ``token`` (token-based replay) or ``alignments``.

    Raises
    ------
    ValidationError
        For an unknown method.
    AdapterError
        When pm4py fails.
    """
    if method not in FITNESS_METHODS:
        msg = f"unknown fitness method {method!r}: use token or alignments"
        raise ValidationError(msg, field="method")
    log = _variant_log(traces)
    replay, schema = (
        (_replay_tokens, _TOKEN_COLUMNS)
        if method == "token"
        else (_replay_alignments, _ALIGNMENT_COLUMNS)
    )
    try:
        rows = replay(log, model)
    except AdapterError:
        raise
    except Exception as e:  # pm4py raises bare Exceptions
        msg = f"pm4py {method} replay failed: {e}"
        raise AdapterError(msg) from e
    return pl.DataFrame(rows, schema=schema, orient="row")


def compute_fitness(
    frame: pl.DataFrame,
    *,
    model: ProcessModel | None = None,
    method: Literal["token", "alignments"] = "token",
    replayer: Literal["native", "pm4py"] = "native",
) -> pl.DataFrame:
    """Return fitness per partnership, replaying each variant once.

    Parameters
    ----------
    frame
        Events (``case:concept:name``, ``concept:name``, ``time:timestamp``)
        of any number of partnerships.
    model
        A :class:`adapters.pm4py.models.Pm4pyModel`; default the shipped
        reference lifecycle.
    method
        ``token``: columns ``fitness, is_fit, missing_tokens, consumed_tokens,
        remaining_tokens, produced_tokens`` (pm4py's trace_fitness etc.);
        ``alignments``: ``fitness, is_fit, cost`` (always through pm4py).
    replayer
        For ``token``: ``native`` (:mod:`adapters.pm4py.replay`, identical
        results, much faster) or ``pm4py`` (pm4py's replay of each variant).

    Returns
    -------
    polars.DataFrame
        ``case:concept:name``, ``variant_id``, then the method's columns; one
        row per partnership, sorted by partnership.
    """
    net = load_reference_model() if model is None else _as_pm4py_model(model)
    variants = discover_variants(frame.lazy()).collect()
    if method == "token" and replayer == "native":
        from adapters.pm4py.replay import TokenReplayAutomaton, replay_tokens_natively

        per_variant = replay_tokens_natively(
            variants, automaton=TokenReplayAutomaton(net)
        )
    else:
        per_variant = replay_variants(
            variants["trace"].to_list(), model=net, method=method
        ).with_columns(variants["variant_id"])
    columns = [c for c in per_variant.columns if c != "variant_id"]
    return (
        variants.select("variant_id", pl.col("cases").alias(s.PARTNERSHIP_ID))
        .explode(s.PARTNERSHIP_ID)
        .join(per_variant, on="variant_id", how="left")
        .select(s.PARTNERSHIP_ID, "variant_id", *columns)
        .sort(s.PARTNERSHIP_ID)
    )


def _as_pm4py_model(model: ProcessModel) -> Pm4pyModel:
    from adapters.pm4py.models import Pm4pyModel

    if not isinstance(model, Pm4pyModel):
        msg = f"pm4py conformance needs a Pm4pyModel, got {type(model).__name__}"
        raise AdapterError(msg)
    return model


def summarize_fitness(fitness: pl.DataFrame) -> dict[str, float]:
    """Return pm4py's log-level token-replay figures from per-partnership rows.

    Same formulas as ``pm4py.fitness_token_based_replay``: ``log_fitness`` =
    0.5 (1 - missing/consumed) + 0.5 (1 - remaining/produced) over all
    partnerships; ``average_trace_fitness``; ``perc_fit_traces`` (0-100).

    Parameters
    ----------
    fitness
        The token-method result of :func:`compute_fitness`.
    """
    totals = fitness.select(
        pl.len().alias("n"),
        pl.col("is_fit").sum().alias("fit"),
        pl.col("fitness").sum().alias("sum_fitness"),
        *(
            pl.col(f"{k}_tokens").sum().alias(k)
            for k in ("missing", "consumed", "remaining", "produced")
        ),
    ).row(0, named=True)
    if not (totals["n"] and totals["consumed"] and totals["produced"]):
        return {
            "perc_fit_traces": 0.0,
            "average_trace_fitness": 0.0,
            "log_fitness": 0.0,
        }
    log_fitness = 0.5 * (1 - totals["missing"] / totals["consumed"]) + 0.5 * (
        1 - totals["remaining"] / totals["produced"]
    )
    return {
        "perc_fit_traces": 100.0 * totals["fit"] / totals["n"],
        "average_trace_fitness": totals["sum_fitness"] / totals["n"],
        "log_fitness": log_fitness,
    }


class Pm4pyConformanceChecker:
    """:class:`engine.ports.ConformanceChecker` through pm4py (see :func:`compute_fitness`)."""

    def check_fitness(
        self,
        frame: pl.DataFrame,
        *,
        model: ProcessModel | None = None,
        method: str = "token",
    ) -> pl.DataFrame:
        """Return fitness per partnership (see :func:`compute_fitness`)."""
        if method not in FITNESS_METHODS:
            msg = f"unknown fitness method {method!r}: use token or alignments"
            raise ValidationError(msg, field="method")
        return compute_fitness(frame, model=model, method=method)  # type: ignore[arg-type]

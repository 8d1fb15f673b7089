"""The reference lifecycle of DOMAIN.md as data.

Negotiation, then commitment, then execution; assessment
(``feedback_meeting``, ``share_information``), conflict handling and
membership changes may occur in any stage; after execution a partnership may
cycle back to negotiation (renegotiation). A partnership may stop in any
stage: an ongoing partnership is not a deviation, skipping a stage is.

This pure description drives both the Petri net shipped in
``adapters/models/reference_lifecycle.pnml`` (built from it) and the native
stage-level check :func:`find_stage_violations`.

Examples
--------
>>> REFERENCE_LIFECYCLE.allows("execution", "negotiation")
True
>>> REFERENCE_LIFECYCLE.allows("negotiation", "execution")
False
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import polars as pl

from engine import schema as s

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["REFERENCE_LIFECYCLE", "LifecycleModel", "find_stage_violations"]


@dataclass(frozen=True, slots=True)
class LifecycleModel:
    """A stage-level lifecycle: stages, their activities, allowed transitions.

    Attributes
    ----------
    stages
        Stage names in lifecycle order.
    stage_activities
        Stage -> the activities that belong to it.
    any_stage_activities
        Activities allowed in every stage.
    transitions
        Allowed ``(from_stage, to_stage)`` changes between consecutive stage runs.
    start_stages
        Stages a partnership may begin in.
    """

    stages: tuple[str, ...]
    stage_activities: Mapping[str, tuple[str, ...]]
    any_stage_activities: tuple[str, ...]
    transitions: frozenset[tuple[str, str]]
    start_stages: frozenset[str]

    def allows(self, source: str, target: str) -> bool:
        """Return whether a stage run of ``source`` may be followed by ``target``."""
        return (source, target) in self.transitions


def _reference_lifecycle() -> LifecycleModel:
    by_stage = {
        stage: tuple(a for a, st in s.ACTIVITY_STAGE.items() if st == stage)
        for stage in s.PHASES
    }
    negotiation, commitment, execution = s.PHASES
    return LifecycleModel(
        stages=s.PHASES,
        stage_activities=by_stage,
        any_stage_activities=tuple(
            a for a, st in s.ACTIVITY_STAGE.items() if st is None
        ),
        transitions=frozenset(
            {
                (negotiation, commitment),
                (commitment, execution),
                # Ring & Van de Ven: after execution the cycle may start again.
                (execution, negotiation),
            }
        ),
        start_stages=frozenset({negotiation}),
    )


REFERENCE_LIFECYCLE = _reference_lifecycle()


def find_stage_violations(
    runs: pl.LazyFrame,
    *,
    model: LifecycleModel = REFERENCE_LIFECYCLE,
    case: str = s.PARTNERSHIP_ID,
) -> pl.LazyFrame:
    """Return the stage runs that break ``model``, with the stage they came from.

    A run breaks the model when it is a case's first run and its stage is not a
    start stage, or when the change from the previous run is not allowed.

    Parameters
    ----------
    runs
        Stage runs from :func:`engine.phases.find_stage_runs` (columns
        ``case``, ``stage``, ``start``, ...), in order.
    model
        The lifecycle to check against.
    case
        Name of the case column.

    Examples
    --------
    >>> import polars as pl
    >>> runs = pl.LazyFrame({"case:concept:name": ["p", "p", "q"],
    ...                      "stage": ["negotiation", "execution", "commitment"]})
    >>> find_stage_violations(runs).collect().select("stage", "previous_stage").rows()
    [('execution', 'negotiation'), ('commitment', None)]
    """
    allowed = pl.DataFrame(
        sorted(model.transitions),
        schema={"previous_stage": pl.String, "stage": pl.String},
        orient="row",
    ).with_columns(pl.lit(value=True).alias("_allowed"))
    first = pl.col(case) != pl.col(case).shift(1)
    with_previous = runs.with_row_index("_row").with_columns(
        pl.when(first.fill_null(value=True))
        .then(None)
        .otherwise(pl.col("stage").shift(1))
        .alias("previous_stage")
    )
    checked = with_previous.join(
        allowed.lazy(), on=["previous_stage", "stage"], how="left"
    )
    bad_start = pl.col("previous_stage").is_null() & ~pl.col("stage").is_in(
        sorted(model.start_stages)
    )
    bad_change = pl.col("previous_stage").is_not_null() & pl.col("_allowed").is_null()
    return checked.filter(bad_start | bad_change).sort("_row").drop("_row", "_allowed")

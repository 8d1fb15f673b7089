r"""Alignment score, strategizing mode and status, and their configuration.

DOMAIN.md: the alignment score is the weighted mean of the [0, 1] indicators
that are not null (a null indicator is left out, never read as 0); the mode is
*inclusive* when inclusiveness >= 0.6 and transparency (where measured) >= 0.5,
*exclusive* otherwise, null when inclusiveness is null (seed 003, Table 5);
the status is aligned / at_risk / disorder by thresholds on the score.

Defaults (all overridable in a TOML file, see :meth:`IndicatorConfig.from_toml`)::

    [windows]
    window = "90d"            # rolling window length W
    step = "30d"              # rolling step S

    [weights]                 # relative weights in the alignment score
    inclusiveness = 1.0
    participation_equality = 1.0
    transparency = 1.0
    conflict_mitigation = 1.0
    commitment = 1.0
    objective_convergence = 1.0
    top_manager_feedback = 1.0

    [thresholds]
    inclusive_min = 0.6       # mode: inclusiveness at least this ...
    transparency_min = 0.5    # ... and transparency (when measured) at least this
    aligned_min = 0.7         # status aligned when score >= this
    at_risk_min = 0.4         # at_risk when score >= this, disorder below

Examples
--------
>>> cfg = IndicatorConfig.from_toml('thresholds = {aligned_min = 0.8}')
>>> cfg.thresholds.aligned_min, cfg.weights.commitment
(0.8, 1.0)
>>> df = pl.DataFrame({"inclusiveness": [0.5, 1.0], "transparency": [None, 0.4]})
>>> df.select(mode_expr(config=cfg)).to_series().to_list()
['exclusive', 'exclusive']
"""

from __future__ import annotations

import operator
import tomllib
from functools import reduce
from typing import TYPE_CHECKING, Any

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from engine.errors import ConfigError
from engine.windows import RollingWindows, parse_duration

if TYPE_CHECKING:
    from datetime import timedelta

__all__ = [
    "ALIGNMENT_SCORE",
    "MODE",
    "SCORED_INDICATORS",
    "STATUS",
    "STATUS_RANK",
    "IndicatorConfig",
    "IndicatorThresholds",
    "IndicatorWeights",
    "WindowConfig",
    "alignment_score_expr",
    "mode_expr",
    "status_expr",
]

ALIGNMENT_SCORE = "alignment_score"
MODE = "mode"
STATUS = "status"
# The [0, 1] indicators that enter the score (idea_to_action_days is in days).
SCORED_INDICATORS = (
    "inclusiveness",
    "participation_equality",
    "transparency",
    "conflict_mitigation",
    "commitment",
    "objective_convergence",
    "top_manager_feedback",
)
# Higher is healthier; a drop in rank is a status crossing.
STATUS_RANK = {"aligned": 2, "at_risk": 1, "disorder": 0}

_FROZEN = ConfigDict(frozen=True, extra="forbid")
_Weight = Field(default=1.0, ge=0.0)


class IndicatorWeights(BaseModel):
    """Relative weight of each [0, 1] indicator in the alignment score."""

    model_config = _FROZEN

    inclusiveness: float = _Weight
    participation_equality: float = _Weight
    transparency: float = _Weight
    conflict_mitigation: float = _Weight
    commitment: float = _Weight
    objective_convergence: float = _Weight
    top_manager_feedback: float = _Weight


class IndicatorThresholds(BaseModel):
    """Thresholds of the mode and the status (see the module docstring)."""

    model_config = _FROZEN

    inclusive_min: float = Field(default=0.6, ge=0.0, le=1.0)
    transparency_min: float = Field(default=0.5, ge=0.0, le=1.0)
    aligned_min: float = Field(default=0.7, ge=0.0, le=1.0)
    at_risk_min: float = Field(default=0.4, ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _ordered(self) -> IndicatorThresholds:
        if self.at_risk_min > self.aligned_min:
            msg = "thresholds: at_risk_min must not exceed aligned_min"
            raise ValueError(msg)
        return self


class WindowConfig(BaseModel):
    """Rolling window length and step, as ``<n>d`` / ``<n>w`` / ``<n>h``."""

    model_config = _FROZEN

    window: str = "90d"
    step: str = "30d"

    def to_spec(self) -> RollingWindows:
        """Return the rolling window spec; ConfigError on a bad duration."""
        return RollingWindows(parse_duration(self.window), parse_duration(self.step))

    @property
    def window_length(self) -> timedelta:
        """Return the window length W."""
        return parse_duration(self.window)


class IndicatorConfig(BaseModel):
    """Weights, thresholds and rolling windows of the indicators (frozen)."""

    model_config = _FROZEN

    windows: WindowConfig = WindowConfig()
    weights: IndicatorWeights = IndicatorWeights()
    thresholds: IndicatorThresholds = IndicatorThresholds()

    @classmethod
    def from_toml(cls, text: str, *, source: str = "<config>") -> IndicatorConfig:
        """Return the config in TOML ``text`` (its [windows], [weights], [thresholds]).

        Other top-level tables (``[alerts]``, ``[sinks]``) are left to their
        own readers.

        Raises
        ------
        ConfigError
            The text is not TOML, or a value is out of range or unknown.
        """
        data = read_toml_tables(text, source=source)
        mine = {k: v for k, v in data.items() if k in cls.model_fields}
        try:
            config = cls.model_validate(mine)
            config.windows.to_spec()
        except ValidationError as e:
            msg = f"{source}: {e}"
            raise ConfigError(msg) from e
        return config


def read_toml_tables(text: str, *, source: str) -> dict[str, Any]:
    """Return the parsed TOML ``text``; ConfigError naming ``source`` if invalid."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        msg = f"{source}: invalid TOML: {e}"
        raise ConfigError(msg) from e


def alignment_score_expr(*, config: IndicatorConfig) -> pl.Expr:
    """Return the weighted mean of the non-null [0, 1] indicators (null if none).

    Examples
    --------
    >>> df = pl.DataFrame({k: [None] for k in SCORED_INDICATORS}, schema={k: pl.Float64 for k in SCORED_INDICATORS})
    >>> df = df.with_columns(inclusiveness=pl.lit(0.5), commitment=pl.lit(1.0))
    >>> df.select(alignment_score_expr(config=IndicatorConfig())).item()
    0.75
    """
    weights = config.weights.model_dump()
    # A left fold of binary additions, not sum_horizontal: its summation order
    # differs between polars' streaming and in-memory engines, and the same
    # windows must score the same bits whichever engine computes them.
    numerator = reduce(
        operator.add, [(pl.col(k) * w).fill_null(0.0) for k, w in weights.items()]
    )
    denominator = reduce(
        operator.add,
        [
            pl.when(pl.col(k).is_not_null()).then(w).otherwise(0.0)
            for k, w in weights.items()
        ],
    )
    return (
        pl.when(denominator > 0)
        .then(numerator / denominator)
        .otherwise(None)
        .alias(ALIGNMENT_SCORE)
    )


def mode_expr(*, config: IndicatorConfig) -> pl.Expr:
    """Return ``inclusive`` / ``exclusive`` (null when inclusiveness is null)."""
    t = config.thresholds
    transparent = pl.col("transparency").is_null() | (
        pl.col("transparency") >= t.transparency_min
    )
    inclusive = (pl.col("inclusiveness") >= t.inclusive_min) & transparent
    return (
        pl.when(pl.col("inclusiveness").is_null())
        .then(None)
        .when(inclusive)
        .then(pl.lit("inclusive"))
        .otherwise(pl.lit("exclusive"))
        .alias(MODE)
    )


def status_expr(*, config: IndicatorConfig) -> pl.Expr:
    """Return ``aligned`` / ``at_risk`` / ``disorder`` from the score (null if null).

    Examples
    --------
    >>> df = pl.DataFrame({"alignment_score": [0.9, 0.5, 0.1, None]})
    >>> df.select(status_expr(config=IndicatorConfig())).to_series().to_list()
    ['aligned', 'at_risk', 'disorder', None]
    """
    t = config.thresholds
    score = pl.col(ALIGNMENT_SCORE)
    return (
        pl.when(score.is_null())
        .then(None)
        .when(score >= t.aligned_min)
        .then(pl.lit("aligned"))
        .when(score >= t.at_risk_min)
        .then(pl.lit("at_risk"))
        .otherwise(pl.lit("disorder"))
        .alias(STATUS)
    )

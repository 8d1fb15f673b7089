r"""Alert rules, cool-down, deterministic alert ids, and alerts as events.

An alert is one row ``partnership_id, signal, window, window_start, window_end,
value, baseline, message``. It becomes an ``alert_raised`` event of the
partnership's stream whose id is a UUID5 of (signal, partnership, window start),
so evaluating the same log again yields the same ids and the store keeps one.

Rules come from the ``[alerts]`` table of a TOML file; defaults::

    [alerts.score_drift]        # Page-Hinkley on each partnership's alignment score
    enabled = true
    delta = 0.05                # tolerated drop per window before it accumulates
    threshold = 0.3             # lambda: alarm when the accumulated drop exceeds it
    min_windows = 3             # windows of baseline before any alarm
    smoothing_windows = 3       # causal running median before the test (1: none)
    cooldown_days = 90

    [alerts.status_crossing]    # status falls (aligned > at_risk > disorder)
    enabled = true
    smoothing_windows = 3       # settled status: median level of the last 3 windows
    cooldown_days = 90

    [alerts.process_drift]      # DFG of a window vs the previous windows', same stage
    enabled = true
    threshold = 0.5             # total variation distance of edge frequencies
    alpha = 0.01                # and a chi-square test of homogeneity significant at alpha
    baseline_windows = 3        # non-overlapping previous windows compared with
    min_edges = 10              # directly-follows pairs needed on each side
    cooldown_days = 90

Examples
--------
>>> rules = AlertRules.from_toml('alerts = {score_drift = {threshold = 0.5}}')
>>> rules.score_drift.threshold, rules.process_drift.enabled
(0.5, True)
>>> derive_alert_id("score_drift", "p1", "2020-01-01T00:00:00+00:00")
'd8b9011b-a5d9-592c-9569-8bb8082273fe'
"""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID, uuid5

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from engine import schema as s
from engine.alignment import read_toml_tables
from engine.errors import ConfigError

__all__ = [
    "ALERT_NAMESPACE",
    "ALERT_SCHEMA",
    "AlertRules",
    "ProcessDriftRule",
    "ScoreDriftRule",
    "StatusCrossingRule",
    "apply_cooldown",
    "build_alert_events",
    "derive_alert_id",
    "with_alert_ids",
]

# Fixed namespace: alert ids must never change between versions.
ALERT_NAMESPACE = UUID("5b0c6f1e-2f7d-4c3a-9a51-7d1e0c0a1e57")
ALERT_SCHEMA = pl.Schema(
    {
        "partnership_id": pl.String(),
        "signal": pl.String(),
        "window": pl.String(),
        "window_start": pl.Datetime("us", "UTC"),
        "window_end": pl.Datetime("us", "UTC"),
        "value": pl.Float64(),
        "baseline": pl.Float64(),
        "message": pl.String(),
    }
)
_FROZEN = ConfigDict(frozen=True, extra="forbid")


class ScoreDriftRule(BaseModel):
    """Page-Hinkley test for a drop of the alignment score (see module docstring)."""

    model_config = _FROZEN

    enabled: bool = True
    delta: float = Field(default=0.05, ge=0.0)
    threshold: float = Field(default=0.3, gt=0.0)
    min_windows: int = Field(default=3, ge=1)
    smoothing_windows: int = Field(default=3, ge=1)
    cooldown_days: float = Field(default=90.0, ge=0.0)


class StatusCrossingRule(BaseModel):
    """Alert when the settled status falls to a worse level (see engine.drift)."""

    model_config = _FROZEN

    enabled: bool = True
    smoothing_windows: int = Field(default=3, ge=1)
    cooldown_days: float = Field(default=90.0, ge=0.0)


class ProcessDriftRule(BaseModel):
    """Alert when a window's DFG differs markedly from the previous windows'."""

    model_config = _FROZEN

    enabled: bool = True
    threshold: float = Field(default=0.5, gt=0.0, le=1.0)
    alpha: float = Field(default=0.01, gt=0.0, lt=1.0)
    baseline_windows: int = Field(default=3, ge=1)
    min_edges: int = Field(default=10, ge=1)
    cooldown_days: float = Field(default=90.0, ge=0.0)


class AlertRules(BaseModel):
    """Which signals raise alerts, their thresholds and cool-downs (frozen)."""

    model_config = _FROZEN

    score_drift: ScoreDriftRule = ScoreDriftRule()
    status_crossing: StatusCrossingRule = StatusCrossingRule()
    process_drift: ProcessDriftRule = ProcessDriftRule()

    @classmethod
    def from_toml(cls, text: str, *, source: str = "<config>") -> AlertRules:
        """Return the rules of the ``[alerts]`` table of TOML ``text``.

        Raises
        ------
        ConfigError
            Invalid TOML, an unknown signal or key, or a value out of range.
        """
        data = read_toml_tables(text, source=source).get("alerts", {})
        try:
            return cls.model_validate(data)
        except ValidationError as e:
            msg = f"{source}: [alerts]: {e}"
            raise ConfigError(msg) from e

    def cooldowns(self) -> dict[str, timedelta]:
        """Return each signal's cool-down."""
        return {
            "score_drift": timedelta(days=self.score_drift.cooldown_days),
            "status_crossing": timedelta(days=self.status_crossing.cooldown_days),
            "process_drift": timedelta(days=self.process_drift.cooldown_days),
        }


def apply_cooldown(alerts: pl.LazyFrame, *, rules: AlertRules) -> pl.LazyFrame:
    """Return ``alerts`` without those within a cool-down of the signal's previous one.

    The cool-down runs from the previous *candidate* of the same signal and
    partnership (whether or not it was kept), so it is a pure function of the
    log: evaluating a log in one go or incrementally keeps the same alerts.
    """
    cooldown = pl.col("signal").replace_strict(
        dict(rules.cooldowns().items()), return_dtype=pl.Duration("us")
    )
    since = pl.col("window_start") - pl.col("window_start").shift(1).over(
        "partnership_id", "signal", order_by="window_start"
    )
    return alerts.filter(since.is_null() | (since >= cooldown))


def derive_alert_id(signal: str, partnership_id: str, window_start: str) -> str:
    """Return the alert's event id: UUID5 of signal, partnership and window start."""
    return str(
        uuid5(ALERT_NAMESPACE, f"{signal}\x1f{partnership_id}\x1f{window_start}")
    )


def with_alert_ids(alerts: pl.DataFrame) -> pl.DataFrame:
    """Return ``alerts`` with ``event_id`` first (alerts are few: ids per row)."""
    starts = alerts["window_start"].dt.to_string("%Y-%m-%dT%H:%M:%S%.6f%z").to_list()
    ids = [
        derive_alert_id(sig, pid, start)
        for sig, pid, start in zip(
            alerts["signal"].to_list(),
            alerts["partnership_id"].to_list(),
            starts,
            strict=True,
        )
    ]
    return alerts.select(pl.Series("event_id", ids, dtype=pl.String), pl.all())


def build_alert_events(alerts: pl.DataFrame) -> pl.DataFrame:
    """Return ``alert_raised`` input-frame rows for alerts with ids.

    The event's timestamp is the window's end (when the drift became
    observable); its attributes are ``{signal, window, value, baseline, message}``.
    """
    # Rounded so that float summation order can never change an alert's content.
    attributes = pl.struct(
        pl.col("baseline").round(6),
        "message",
        "signal",
        pl.col("value").round(6),
        "window",
    ).struct.json_encode()
    return alerts.select(
        pl.col("event_id").alias(s.EVENT_ID),
        pl.col("partnership_id").alias(s.PARTNERSHIP_ID),
        pl.lit("alert_raised").alias(s.ACTIVITY),
        pl.col("window_end").alias(s.TIMESTAMP),
        pl.lit("partnermine").alias(s.ACTOR),
        attributes.alias(s.ATTRIBUTES),
    )

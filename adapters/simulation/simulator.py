"""Simulated partnership logs with ground truth: the public entry points.

Examples
--------
>>> from datetime import datetime, timezone
>>> log = simulate_partnerships(partnerships=3, mix={"healthy": 1.0}, seed=1,
...                             start=datetime(2020, 1, 1, tzinfo=timezone.utc))
>>> log.truth_partnerships["profile"].to_list()
['healthy', 'healthy', 'healthy']
>>> log.truth_deviations.height
0
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Final

import numpy as np
import polars as pl

from adapters.simulation.frame import build_event_frame, partnership_ids
from adapters.simulation.params import draw_params
from adapters.simulation.profiles import DEFAULT_MIX, PROFILES, RULES, assign_profiles
from adapters.simulation.timeline import draw_timeline
from engine import schema as s
from engine.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

    from adapters.simulation.params import Params
    from adapters.simulation.timeline import Schedule

__all__ = [
    "TRUTH_DEVIATIONS_SCHEMA",
    "TRUTH_PARTNERSHIPS_SCHEMA",
    "SimulatedLog",
    "simulate_partnerships",
    "write_simulation",
]

TRUTH_PARTNERSHIPS_SCHEMA: Final = pl.Schema(
    {
        "partnership_id": pl.String(),
        "profile": pl.String(),
        "drift_onset": pl.Datetime("us", "UTC"),
    }
)
TRUTH_DEVIATIONS_SCHEMA: Final = pl.Schema(
    {"partnership_id": pl.String(), "rule": pl.String(), "evidence": pl.List(pl.String)}
)
_WINDOW_DAYS: Final = 90
_WINDOW_EVIDENCE: Final = 20


@dataclass(frozen=True)
class SimulatedLog:
    """A simulated log and what was injected into it.

    Attributes
    ----------
    events
        Input frame (:data:`engine.schema.INPUT_SCHEMA`), sorted by partnership
        then timestamp.
    truth_partnerships
        ``partnership_id, profile, drift_onset`` (:data:`TRUTH_PARTNERSHIPS_SCHEMA`).
    truth_deviations
        One row per injected deviation: ``partnership_id, rule, evidence``
        (the anchor event ids of docs/rules.md), :data:`TRUTH_DEVIATIONS_SCHEMA`.
    """

    events: pl.DataFrame
    truth_partnerships: pl.DataFrame
    truth_deviations: pl.DataFrame


def _check_args(partnerships: int, start: datetime) -> None:
    if partnerships < 1:
        msg = f"partnerships must be >= 1, got {partnerships}"
        raise ConfigError(msg)
    if start.tzinfo is None:
        msg = f"start must be timezone-aware, got {start.isoformat()}"
        raise ConfigError(msg)


def simulate_partnerships(
    *,
    partnerships: int,
    mix: Mapping[str, float] | None = None,
    seed: int,
    start: datetime,
) -> SimulatedLog:
    """Return ``partnerships`` simulated partnerships and their ground truth.

    Parameters
    ----------
    partnerships
        How many partnerships to generate.
    mix
        Profile weights (see :data:`adapters.simulation.profiles.PROFILES`);
        normalized; the counts per profile honour it exactly. Default
        :data:`adapters.simulation.profiles.DEFAULT_MIX`.
    seed
        The same seed, count, mix and start give an identical log and truth.
    start
        Timezone-aware start of observation; partnerships begin during the
        first year and are observed for four years.

    Raises
    ------
    ConfigError
        A non-positive count, a naive ``start``, or a bad mix.
    """
    _check_args(partnerships, start)
    rng = np.random.default_rng(seed)
    profile = assign_profiles(
        partnerships=partnerships, mix=mix or DEFAULT_MIX, rng=rng
    )
    par = draw_params(profile=profile, rng=rng)
    sl, sched = draw_timeline(par=par, rng=rng)
    frame = build_event_frame(sl=sl, par=par, sched=sched, seed=seed, start=start)
    truth = _truth_deviations(frame, sched=sched)
    return SimulatedLog(
        events=frame.select(s.INPUT_COLUMNS),
        truth_partnerships=_truth_partnerships(par, sched, seed=seed, start=start),
        truth_deviations=truth,
    )


def _truth_partnerships(
    par: Params, sched: Schedule, *, seed: int, start: datetime
) -> pl.DataFrame:
    base = int(start.astimezone(UTC).timestamp()) * 1_000_000
    drifting = np.isfinite(sched.onset)
    onset = np.round((par.t0 + np.nan_to_num(sched.onset)) * 86400) * 1_000_000
    onset_us = pl.Series((base + onset).astype(np.int64)).scatter(
        np.flatnonzero(~drifting), None
    )
    return pl.DataFrame(
        {
            "partnership_id": partnership_ids(seed, par.n),
            "profile": pl.Series(list(PROFILES)).gather(par.profile.astype(np.int64)),
            "drift_onset": onset_us.cast(pl.Datetime("us")).dt.replace_time_zone("UTC"),
        }
    ).cast(TRUTH_PARTNERSHIPS_SCHEMA)


def _window_truth(frame: pl.DataFrame, sched: Schedule) -> pl.DataFrame:
    """Return commitment loss by window: the first events of the window after the leave."""
    lose = np.flatnonzero(np.isfinite(sched.loss_window))
    if lose.size == 0:
        return pl.DataFrame(schema=TRUTH_DEVIATIONS_SCHEMA)
    first = frame.group_by("_p").agg(pl.col(s.TIMESTAMP).min().alias("_first"))
    windows = pl.DataFrame({"_p": lose, "_w": sched.loss_window[lose]}).join(
        first, on="_p"
    )
    return (
        frame.join(windows, on="_p")
        .with_columns(
            start=pl.col("_first") + pl.duration(days=pl.col("_w")),
        )
        .filter(
            (pl.col(s.TIMESTAMP) >= pl.col("start"))
            & (pl.col(s.TIMESTAMP) < pl.col("start") + timedelta(days=_WINDOW_DAYS))
        )
        .group_by(s.PARTNERSHIP_ID)
        .agg(
            pl.col(s.EVENT_ID)
            .sort_by(s.TIMESTAMP)
            .head(_WINDOW_EVIDENCE)
            .alias("evidence")
        )
        .select(
            pl.col(s.PARTNERSHIP_ID).alias("partnership_id"),
            pl.lit("commitment_loss").alias("rule"),
            "evidence",
        )
    )


def _truth_deviations(frame: pl.DataFrame, *, sched: Schedule) -> pl.DataFrame:
    marked = (
        frame.filter(pl.col("_rule") >= 0)
        .group_by(s.PARTNERSHIP_ID, "_rule", "_inst")
        .agg(pl.col(s.EVENT_ID).sort_by("_ord").alias("evidence"))
        .select(
            pl.col(s.PARTNERSHIP_ID).alias("partnership_id"),
            pl.col("_rule")
            .replace_strict(dict(enumerate(RULES)), return_dtype=pl.String)
            .alias("rule"),
            "evidence",
        )
    )
    out = pl.concat([marked, _window_truth(frame, sched)])
    return out.sort("partnership_id", "rule", pl.col("evidence").list.first()).cast(
        TRUTH_DEVIATIONS_SCHEMA
    )


def write_simulation(log: SimulatedLog, directory: Path | str) -> Path:
    """Write ``events.parquet``, ``truth_partnerships.parquet`` and ``truth_deviations.parquet``.

    Returns the directory (created when missing).
    """
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    log.events.write_parquet(out / "events.parquet")
    log.truth_partnerships.write_parquet(out / "truth_partnerships.parquet")
    log.truth_deviations.write_parquet(out / "truth_deviations.parquet")
    return out

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
import pyarrow.parquet as pq

from adapters.simulation.frame import build_event_frame, partnership_ids
from adapters.simulation.params import draw_params
from adapters.simulation.profiles import DEFAULT_MIX, PROFILES, RULES, assign_profiles
from adapters.simulation.timeline import draw_timeline
from engine import schema as s
from engine.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping
    from datetime import datetime

    from adapters.simulation.params import Params
    from adapters.simulation.timeline import Schedule

__all__ = [
    "BATCH_SIZE",
    "TRUTH_DEVIATIONS_SCHEMA",
    "TRUTH_PARTNERSHIPS_SCHEMA",
    "SimulatedLog",
    "iter_simulation",
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
BATCH_SIZE: Final = 5000
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


def _check_args(partnerships: int, start: datetime, seed: int) -> None:
    if seed < 0:
        msg = f"seed must be a non-negative integer, got {seed}"
        raise ConfigError(msg)
    if partnerships < 1:
        msg = f"partnerships must be >= 1, got {partnerships}"
        raise ConfigError(msg)
    if start.tzinfo is None:
        msg = f"start must be timezone-aware, got {start.isoformat()}"
        raise ConfigError(msg)


def iter_simulation(
    *,
    partnerships: int,
    mix: Mapping[str, float] | None = None,
    seed: int,
    start: datetime,
) -> Iterator[SimulatedLog]:
    """Yield the simulation in batches of :data:`BATCH_SIZE` partnerships.

    Profiles are assigned over all partnerships at once (so the mix is exact);
    each batch then draws from its own generator seeded by ``(seed, first
    index)``, so the result does not depend on how it is consumed, and memory
    stays bounded for any count. Parameters as :func:`simulate_partnerships`.
    """
    _check_args(partnerships, start, seed)
    profile = assign_profiles(
        partnerships=partnerships,
        mix=mix or DEFAULT_MIX,
        rng=np.random.default_rng(seed),
    )
    for first in range(0, partnerships, BATCH_SIZE):
        rng = np.random.default_rng([seed, first])
        par = draw_params(profile=profile[first : first + BATCH_SIZE], rng=rng)
        sl, sched = draw_timeline(par=par, rng=rng)
        frame = build_event_frame(
            sl=sl, par=par, sched=sched, seed=seed, start=start, first=first
        )
        yield SimulatedLog(
            events=frame.select(s.INPUT_COLUMNS),
            truth_partnerships=_truth_partnerships(
                par, sched, seed=seed, start=start, first=first
            ),
            truth_deviations=_truth_deviations(frame, sched=sched),
        )


def simulate_partnerships(
    *,
    partnerships: int,
    mix: Mapping[str, float] | None = None,
    seed: int,
    start: datetime,
) -> SimulatedLog:
    """Return ``partnerships`` simulated partnerships and their ground truth, in memory.

    Parameters
    ----------
    partnerships
        How many partnerships to generate.
    mix
        Profile weights (see :data:`adapters.simulation.profiles.PROFILES`);
        normalized; the counts per profile honour it exactly. Default
        :data:`adapters.simulation.profiles.DEFAULT_MIX`.
    seed
        A non-negative integer; the same seed, count, mix and start give an
        identical log and truth.
    start
        Timezone-aware start of observation; partnerships begin during the
        first year and are observed for four years.

    Raises
    ------
    ConfigError
        A non-positive count, a negative seed, a naive ``start``, or a bad mix.
    """
    batches = list(
        iter_simulation(partnerships=partnerships, mix=mix, seed=seed, start=start)
    )
    return SimulatedLog(
        events=pl.concat([b.events for b in batches]),
        truth_partnerships=pl.concat([b.truth_partnerships for b in batches]),
        truth_deviations=pl.concat([b.truth_deviations for b in batches]),
    )


def _truth_partnerships(
    par: Params, sched: Schedule, *, seed: int, start: datetime, first: int
) -> pl.DataFrame:
    base = int(start.astimezone(UTC).timestamp()) * 1_000_000
    drifting = np.isfinite(sched.onset)
    onset = np.round((par.t0 + np.nan_to_num(sched.onset)) * 86400) * 1_000_000
    onset_us = pl.Series((base + onset).astype(np.int64)).scatter(
        np.flatnonzero(~drifting), None
    )
    return pl.DataFrame(
        {
            "partnership_id": partnership_ids(seed, par.n, first=first),
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


def write_simulation(
    log: SimulatedLog | Iterable[SimulatedLog], directory: Path | str
) -> Path:
    """Write ``events.parquet``, ``truth_partnerships.parquet`` and ``truth_deviations.parquet``.

    ``log`` is a whole simulation or its batches (:func:`iter_simulation`),
    streamed into one events file so memory stays bounded. Returns the
    directory (created when missing).
    """
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    batches = [log] if isinstance(log, SimulatedLog) else log
    parts: list[pl.DataFrame] = []
    deviations: list[pl.DataFrame] = []
    writer: pq.ParquetWriter | None = None
    try:
        for batch in batches:
            table = batch.events.to_arrow()
            if writer is None:
                # lz4: 3x faster than zstd on the nested participants column
                writer = pq.ParquetWriter(
                    out / "events.parquet", table.schema, compression="lz4"
                )
            writer.write_table(table)
            parts.append(batch.truth_partnerships)
            deviations.append(batch.truth_deviations)
    finally:
        if writer is not None:
            writer.close()
    pl.concat(parts).write_parquet(out / "truth_partnerships.parquet")
    pl.concat(deviations).write_parquet(out / "truth_deviations.parquet")
    return out

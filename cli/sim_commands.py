"""``partnermine simulate | scenario``: synthetic logs with known truth, and the seed cases.

JSON documents (stable; keys are only ever added):

* ``simulate``: ``{"partnerships", "seed", "start", "mix", "events",
  "deviations", "out", "store", "appended", "duplicates"}`` (``out`` or
  ``store`` is null depending on where the events went; ``appended`` and
  ``duplicates`` are null with ``--out``);
* ``scenario``: ``{"scenario", "events", "out", "store", "appended", "duplicates"}``.

Simulating into the store is idempotent: the same seed gives the same event
ids, so running it twice appends nothing the second time.

Exit codes: 0 ok; 2 a bad option (mix, count, seed, unknown scenario);
3 a store failure.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click
import polars as pl

from adapters.scenarios import SCENARIOS, load_scenario
from adapters.simulation import (
    DEFAULT_MIX,
    iter_simulation,
    parse_mix,
    write_simulation,
)
from cli.bootstrap import open_store
from cli.output import FORMAT_OPTION, emit

if TYPE_CHECKING:
    from collections.abc import Iterator

    from adapters.simulation import SimulatedLog

_DEFAULT_MIX_TEXT = ",".join(f"{k}={v:g}" for k, v in DEFAULT_MIX.items())


def _with_progress(
    batches: Iterator[SimulatedLog], total: int, counts: dict[str, int]
) -> Iterator[SimulatedLog]:
    """Yield the batches, counting events and deviations; a bar on stderr when a TTY."""
    tty = sys.stderr.isatty()
    done = 0
    for batch in batches:
        counts["events"] += batch.events.height
        counts["deviations"] += batch.truth_deviations.height
        yield batch
        done += batch.truth_partnerships.height
        if tty:
            click.echo(f"\rsimulated {done}/{total} partnerships", err=True, nl=False)
    if tty:
        click.echo("", err=True)


def _append_batches(store_url: str, batches: Iterator[SimulatedLog]) -> dict[str, int]:
    store = open_store(store_url, create=True)
    appended = duplicates = 0
    try:
        for batch in batches:
            report = store.append_frame(batch.events)
            appended += report.appended
            duplicates += report.duplicates
    finally:
        store.close()
    return {"appended": appended, "duplicates": duplicates}


def _keep_truth(
    batches: Iterator[SimulatedLog], kept: dict[str, list[pl.DataFrame]]
) -> Iterator[SimulatedLog]:
    """Yield the batches, keeping their (small) truth frames."""
    for batch in batches:
        kept["truth_partnerships"].append(batch.truth_partnerships)
        kept["truth_deviations"].append(batch.truth_deviations)
        yield batch


def _write_truth(kept: dict[str, list[pl.DataFrame]], directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name, frames in kept.items():
        pl.concat(frames).write_parquet(directory / f"{name}.parquet")


@click.command("simulate")
@click.option(
    "--partnerships",
    "-n",
    type=click.IntRange(min=1),
    default=100,
    show_default=True,
    help="How many partnerships to generate.",
)
@click.option(
    "--mix",
    default=_DEFAULT_MIX_TEXT,
    show_default=True,
    help="Profile weights PROFILE=WEIGHT,... (normalized).",
)
@click.option(
    "--seed",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="The same seed gives the same log and truth.",
)
@click.option(
    "--start",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default="2020-01-01",
    show_default=True,
    help="Start of observation (UTC); partnerships run for four years.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Write events.parquet and the truth here instead of the store.",
)
@click.option(
    "--truth",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="With the store: also write the truth Parquet files here.",
)
@FORMAT_OPTION
@click.pass_context
def simulate(
    ctx: click.Context,
    partnerships: int,
    mix: str,
    seed: int,
    start: datetime,
    out: Path | None,
    truth: Path | None,
    output_format: str,
) -> None:
    """Generate partnership logs with known deviations (ground truth beside them)."""
    weights = parse_mix(mix)
    begin = start.replace(tzinfo=UTC)
    counts = {"events": 0, "deviations": 0}
    batches = _with_progress(
        iter_simulation(partnerships=partnerships, mix=weights, seed=seed, start=begin),
        partnerships,
        counts,
    )
    result: dict[str, object] = {
        "out": None,
        "store": None,
        "appended": None,
        "duplicates": None,
    }
    if out is not None:
        write_simulation(batches, out)
        result["out"] = str(out)
    else:
        kept: dict[str, list[pl.DataFrame]] = {
            "truth_partnerships": [],
            "truth_deviations": [],
        }
        result.update(_append_batches(ctx.obj.store, _keep_truth(batches, kept)))
        result["store"] = ctx.obj.store
        if truth is not None:
            _write_truth(kept, truth)
    emit(
        {
            "partnerships": partnerships,
            "seed": seed,
            "start": begin,
            "mix": weights,
            "events": counts["events"],
            "deviations": counts["deviations"],
            **result,
        },
        output_format,
    )


@click.command("scenario")
@click.argument("name", type=click.Choice(sorted(SCENARIOS)))
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Write events.parquet here instead of the store.",
)
@FORMAT_OPTION
@click.pass_context
def scenario(
    ctx: click.Context, name: str, out: Path | None, output_format: str
) -> None:
    """Load a built-in seed case (its events cite the paper passages they encode)."""
    frame = load_scenario(name)
    result: dict[str, object] = {"scenario": name, "events": frame.height, "out": None,
                                 "store": None, "appended": None, "duplicates": None}  # fmt: skip
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        frame.write_parquet(out / "events.parquet")
        result["out"] = str(out)
    else:
        store = open_store(ctx.obj.store, create=True)
        try:
            report = store.append_frame(frame)
        finally:
            store.close()
        result.update(
            store=ctx.obj.store, appended=report.appended, duplicates=report.duplicates
        )
    emit(result, output_format)

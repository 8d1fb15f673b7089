"""``partnermine discover``: the process of one partnership, a set, or the whole log.

Algorithms and the formats ``--out``'s extension selects:

* ``dfg`` (default): the directly-follows graph, native polars.
  ``.json``, ``.svg``, ``.png``, ``.dot``.
* ``phases``: the stage-level DFG (negotiation -> commitment -> execution,
  cycles back) plus the time each partnership spent in each stage.
  ``.json``, ``.svg``, ``.png``, ``.dot``.
* ``inductive`` / ``heuristics``: a pm4py model (``--noise``: the inductive
  miner's noise threshold, default 0; the heuristics miner's dependency
  threshold, default 0.5). ``.pnml``, ``.bpmn``, ``.json``, ``.svg``, ``.png``.

JSON of a DFG (stable; keys are only ever added)::

    {"edges": [{"source", "target", "count", "mean_seconds", "median_seconds"}],
     "start_activities": {activity: count}, "end_activities": {activity: count}}

``phases`` adds ``"time_in_stage": [{"case:concept:name", "stage", "runs",
"events", "seconds"}]`` and its activities are the stage names. Pictures need
Graphviz ``dot``; without it the command writes the ``.dot`` text beside the
requested file, says so, and exits 3.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from cli.bootstrap import open_store
from cli.errors import EXIT_FAILURE
from engine import schema as s
from engine.dfg import discover_dfg
from engine.errors import AdapterError, NotFoundError, ValidationError
from engine.phases import discover_phase_flow
from engine.selection import drop_engine_events

if TYPE_CHECKING:
    from collections.abc import Sequence

    import polars as pl

ALGORITHMS = ("dfg", "inductive", "heuristics", "phases")
GRAPH_FORMATS = (".json", ".svg", ".png", ".dot")
MODEL_FORMATS = (".pnml", ".bpmn", ".json", ".svg", ".png")


def read_discovery_frame(store_url: str, partnerships: Sequence[str]) -> pl.DataFrame:
    store = open_store(store_url)
    try:
        frame = drop_engine_events(
            store.to_frame(partnerships=list(partnerships) or None)
        )
    finally:
        store.close()
    missing = sorted(set(partnerships) - set(frame[s.PARTNERSHIP_ID].unique()))
    if missing:
        msg = f"no events for partnership(s): {', '.join(missing)}"
        raise NotFoundError(msg)
    if frame.height == 0:
        msg = "the store holds no events to discover from"
        raise ValidationError(msg, source=store_url)
    return frame


def check_discover_format(out: Path, algorithm: str, noise: float | None) -> None:
    allowed = (
        MODEL_FORMATS if algorithm in {"inductive", "heuristics"} else GRAPH_FORMATS
    )
    if out.suffix.lower() not in allowed:
        msg = f"--algorithm {algorithm} writes {', '.join(allowed)}, not {out.suffix or 'no extension'!r}"
        raise click.UsageError(msg)
    if noise is not None and algorithm not in {"inductive", "heuristics"}:
        msg = "--noise applies to --algorithm inductive or heuristics only"
        raise click.UsageError(msg)


def write_graph_document(document: dict[str, Any], dot_source: str, out: Path) -> None:
    from adapters.pm4py.render import render_dot

    suffix = out.suffix.lower()
    if suffix == ".json":
        out.write_text(
            json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
    elif suffix == ".dot":
        out.write_text(dot_source, encoding="utf-8")
    else:
        try:
            render_dot(dot_source, out)
        except AdapterError as e:
            fallback = out.with_suffix(".dot")
            fallback.write_text(dot_source, encoding="utf-8")
            click.echo(f"error: {e}; DOT text written to {fallback}", err=True)
            raise SystemExit(EXIT_FAILURE) from e


def write_discovered_graph(frame: pl.DataFrame, algorithm: str, out: Path) -> str:
    from adapters.pm4py.render import dfg_to_dot

    if algorithm == "phases":
        flow = discover_phase_flow(frame.lazy())
        write_graph_document(flow.to_dict(), dfg_to_dot(flow.dfg, title="phases"), out)
        return f"{flow.dfg.edges.height} stage transitions"
    dfg = discover_dfg(frame.lazy())
    write_graph_document(dfg.to_dict(), dfg_to_dot(dfg), out)
    return f"{dfg.edges.height} edges"


def write_discovered_model(
    frame: pl.DataFrame, algorithm: str, noise: float | None, out: Path
) -> str:
    from adapters.pm4py.discovery import Pm4pyDiscoverer

    model = Pm4pyDiscoverer().discover_model(
        frame, algorithm=algorithm, noise_threshold=noise
    )
    try:
        model.write_model(out)
    except AdapterError:
        if out.suffix.lower() not in {".svg", ".png"}:
            raise
        from adapters.pm4py.render import model_to_dot

        fallback = out.with_suffix(".dot")
        fallback.write_text(model_to_dot(model), encoding="utf-8")
        click.echo(f"DOT text written to {fallback}", err=True)
        raise
    return f"{len(model.net.transitions)} transitions, {len(model.net.places)} places"


@click.command("discover")
@click.option(
    "--partnership",
    "partnerships",
    multiple=True,
    help="Partnership id (repeatable); default: the whole log.",
)
@click.option(
    "--algorithm",
    type=click.Choice(ALGORITHMS),
    default="dfg",
    show_default=True,
    help="dfg and phases are native; inductive and heuristics use pm4py.",
)
@click.option(
    "--noise",
    type=click.FloatRange(0.0, 1.0),
    default=None,
    help="Noise threshold in [0, 1] (inductive: default 0; heuristics dependency: 0.5).",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Output file; the extension picks the format (.json .pnml .bpmn .svg .png .dot).",
)
@click.pass_context
def discover(
    ctx: click.Context,
    partnerships: tuple[str, ...],
    algorithm: str,
    noise: float | None,
    out: Path,
) -> None:
    """Discover the process (DFG, phase flow, or a pm4py model) and write it to --out.

    The JSON document of a DFG is {"edges": [{source, target, count,
    mean_seconds, median_seconds}], "start_activities": {...},
    "end_activities": {...}}; phases adds "time_in_stage".
    """
    check_discover_format(out, algorithm, noise)
    frame = read_discovery_frame(ctx.obj.store, partnerships)
    if algorithm in {"inductive", "heuristics"}:
        summary = write_discovered_model(frame, algorithm, noise, out)
    else:
        summary = write_discovered_graph(frame, algorithm, out)
    cases = frame[s.PARTNERSHIP_ID].n_unique()
    click.echo(
        f"wrote {out} ({algorithm}: {summary}; {cases} partnerships, {frame.height} events)"
    )

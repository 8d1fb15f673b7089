"""``partnermine check``: the deviation rules (and optionally fitness) as a CI gate.

Exit codes: 0 conformant; 1 a failing deviation (every rule, or only those of
``--fail-on``) or a partnership below ``--min-fitness``; 2 bad input (rules
file, rule names, unknown partnership); 3 store or adapter failure.

JSON output (README "JSON output"): ``{"deviations": [{partnership_id, rule,
severity, time, evidence, message}], "fitness": [{partnership_id, fitness,
is_fit}] or null}``; ``evidence`` holds event ids; ``fitness`` is null unless
``--model`` or ``--min-fitness`` asked for it. A partnership below
``--min-fitness`` adds a deviation of rule ``low_fitness``. JUnit XML has one
test case per partnership.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import TYPE_CHECKING

import click
import polars as pl

from cli.bootstrap import open_store
from cli.errors import EXIT_FINDINGS
from cli.output import render_table, report_progress, to_json
from engine import schema as s
from engine.errors import ConfigError, NotFoundError
from engine.rules import RULES, RuleThresholds, detect_deviations, thresholds_from_toml
from engine.selection import drop_engine_events

if TYPE_CHECKING:
    from collections.abc import Sequence

LOW_FITNESS = "low_fitness"


def read_thresholds(path: Path | None) -> RuleThresholds:
    if path is None:
        return RuleThresholds()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        msg = f"{path}: cannot read rules file: {e}"
        raise ConfigError(msg) from e
    return thresholds_from_toml(text, source=str(path))


def parse_fail_on(text: str | None) -> frozenset[str]:
    if text is None:
        return frozenset(RULES) | {LOW_FITNESS}
    names = frozenset(n.strip() for n in text.split(",") if n.strip())
    unknown = sorted(names - set(RULES) - {LOW_FITNESS})
    if unknown or not names:
        msg = f"--fail-on: unknown rule(s) {unknown or [text]}; known: {', '.join(RULES)}, {LOW_FITNESS}"
        raise ConfigError(msg)
    return names


def compute_partnership_fitness(
    frame: pl.DataFrame, model_path: Path | None
) -> pl.DataFrame:
    # pm4py is heavy: imported only when fitness is asked for.
    from adapters.pm4py.conformance import Pm4pyConformanceChecker
    from adapters.pm4py.models import read_model

    model = read_model(model_path) if model_path is not None else None
    fitness = Pm4pyConformanceChecker().check_fitness(frame, model=model)
    return fitness.select(
        pl.col(s.PARTNERSHIP_ID).alias("partnership_id"),
        pl.col("fitness").cast(pl.Float64),
        pl.col("is_fit").cast(pl.Boolean),
    )


def add_low_fitness(
    deviations: pl.DataFrame, fitness: pl.DataFrame | None, min_fitness: float | None
) -> pl.DataFrame:
    if fitness is None or min_fitness is None:
        return deviations
    low = fitness.filter(pl.col("fitness") < min_fitness).select(
        "partnership_id",
        pl.lit(LOW_FITNESS).alias("rule"),
        pl.lit("critical").alias("severity"),
        pl.lit(None, deviations.schema["time"]).alias("time"),
        pl.lit([], pl.List(pl.String)).alias("evidence"),
        pl.format(
            "Fitness {} against the lifecycle model is below {}",
            pl.col("fitness").round(3),
            pl.lit(min_fitness),
        ).alias("message"),
    )
    return pl.concat([deviations, low])


def render_junit(
    found: pl.DataFrame, partnerships: Sequence[str], fail_on: frozenset[str]
) -> str:
    by_id = found.partition_by("partnership_id", as_dict=True)
    failures = int(
        found.filter(pl.col("rule").is_in(list(fail_on)))["partnership_id"].n_unique()
    )
    root = ET.Element("testsuites", name="partnermine check")
    suite = ET.SubElement(
        root,
        "testsuite",
        name="partnermine.check",
        tests=str(len(partnerships)),
        failures=str(failures),
        errors="0",
    )
    for pid in partnerships:
        case = ET.SubElement(suite, "testcase", classname="partnermine.check", name=pid)
        rows = by_id.get((pid,), found.clear())
        lines = [
            f"[{r['severity']}] {r['rule']}: {r['message']}"
            for r in rows.iter_rows(named=True)
        ]
        failing = rows.filter(pl.col("rule").is_in(list(fail_on)))
        if failing.height:
            failure = ET.SubElement(
                case,
                "failure",
                message=f"{failing.height} deviation(s): {', '.join(sorted(set(failing['rule'])))}",
                type="deviation",
            )
            failure.text = "\n".join(lines)
        elif lines:
            ET.SubElement(case, "system-out").text = "\n".join(lines)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True)


def render_fitness(fitness: pl.DataFrame | None) -> str:
    if fitness is None or fitness.is_empty():
        return ""
    worst = fitness.sort("fitness").row(0, named=True)
    mean = float(fitness.select(pl.col("fitness").mean()).item())
    return (
        f"\nFitness of {fitness.height} partnership(s): mean "
        f"{mean:.3f}, lowest {worst['fitness']:.3f} "
        f"({worst['partnership_id']})."
    )


def render_text(found: pl.DataFrame, partnerships: Sequence[str], failing: int) -> str:
    if found.is_empty():
        return f"No deviations in {len(partnerships)} partnership(s)."
    shown = found.select(
        "partnership_id",
        "rule",
        "severity",
        pl.col("time").dt.strftime("%Y-%m-%d"),
        "message",
    )
    summary = (
        f"{found.height} deviation(s), {failing} failing, in "
        f"{found['partnership_id'].n_unique()} of {len(partnerships)} partnership(s)."
    )
    return f"{render_table(shown, max_rows=200)}\n{summary}"


@click.command()
@click.option(
    "--model",
    "model_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help=(
        "PNML/BPMN model: also compute token-replay fitness per partnership "
        "against it. Fitness is computed only with --model or --min-fitness "
        "(then against the shipped reference lifecycle)."
    ),
)
@click.option(
    "--rules",
    "rules_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="TOML file with a [thresholds] table overriding rule defaults.",
)
@click.option(
    "--fail-on", help="Comma-separated rules that fail the check (default: all)."
)
@click.option(
    "--min-fitness",
    type=click.FloatRange(0, 1),
    help="Partnerships with fitness below this fail the check.",
)
@click.option(
    "--partnership",
    "partnerships",
    multiple=True,
    help="Check only this partnership (repeatable).",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "json", "junit"]),
    default="table",
    show_default=True,
    help=(
        'table, json ({"deviations": [...], "fitness": [...] or null}) '
        "or junit XML (one test case per partnership)."
    ),
)
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the report to this file instead of stdout.",
)
@click.pass_context
def check(
    ctx: click.Context,
    model_path: Path | None,
    rules_path: Path | None,
    fail_on: str | None,
    min_fitness: float | None,
    partnerships: tuple[str, ...],
    output_format: str,
    out_path: Path | None,
) -> None:
    """Check partnerships against the seven deviation rules (and fitness).

    Exit 0 when conformant, 1 when failing deviations are found, 2 on bad input.
    """
    thresholds = read_thresholds(rules_path)
    failing_rules = parse_fail_on(fail_on)
    store = open_store(ctx.obj.store)
    try:
        with report_progress("reading the log"):
            frame = drop_engine_events(
                store.to_frame(partnerships=list(partnerships) or None)
            )
    finally:
        store.close()
    missing = sorted(set(partnerships) - set(frame[s.PARTNERSHIP_ID].unique()))
    if missing:
        msg = f"no such partnership(s) in the store: {', '.join(missing)}"
        raise NotFoundError(msg)
    with report_progress(f"checking {len(RULES)} rules over {frame.height:,} events"):
        deviations = detect_deviations(frame, thresholds=thresholds)
    fitness = None
    if model_path is not None or min_fitness is not None:
        with report_progress("replaying each variant on the model"):
            fitness = compute_partnership_fitness(frame, model_path)
    found = add_low_fitness(deviations, fitness, min_fitness)
    ids = sorted(frame[s.PARTNERSHIP_ID].unique().to_list())
    failing = found.filter(pl.col("rule").is_in(list(failing_rules))).height
    if output_format == "json":
        text = to_json(
            {
                "deviations": found.to_dicts(),
                "fitness": None if fitness is None else fitness.to_dicts(),
            }
        )
    elif output_format == "junit":
        text = render_junit(found, ids, failing_rules)
    else:
        text = render_text(found, ids, failing) + render_fitness(fitness)
    if out_path is not None:
        out_path.write_text(text + "\n", encoding="utf-8")
    else:
        click.echo(text)
    if failing:
        ctx.exit(EXIT_FINDINGS)

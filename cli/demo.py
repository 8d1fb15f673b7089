"""``make demo``: the main job end to end on the embedded default.

Simulates about 1,000 partnerships into a fresh SQLite store, then runs every
stage through the real CLI (the same commands a user types) and writes their
outputs to a directory::

    python -m cli.demo --out demo-output [--partnerships 1000] [--seed 7]
"""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

import click

from cli.main import cli


def _steps(
    out: Path, store: Path, partnerships: int, seed: int
) -> list[tuple[str, list[str], Path | None]]:
    s = ["--store", str(store)]
    return [
        ("create the store", [*s, "init"], None),
        (
            f"simulate {partnerships} partnerships (mixed profiles, ground truth beside)",
            [
                *s,
                "simulate",
                "--partnerships",
                str(partnerships),
                "--seed",
                str(seed),
                "--truth",
                str(out / "truth"),
            ],
            None,
        ),
        ("load the two seed scenarios", [*s, "scenario", "oh-collaboration"], None),
        ("", [*s, "scenario", "urban-health-partnership"], None),
        ("log statistics", [*s, "stats"], out / "stats.txt"),
        (
            "directly-follows graph of the whole log",
            [*s, "discover", "--algorithm", "dfg", "--out", str(out / "dfg.json")],
            None,
        ),
        (
            "stage-level flow",
            [
                *s,
                "discover",
                "--algorithm",
                "phases",
                "--out",
                str(out / "phases.json"),
            ],
            None,
        ),
        (
            "inductive miner model",
            [
                *s,
                "discover",
                "--algorithm",
                "inductive",
                "--out",
                str(out / "model.pnml"),
            ],
            None,
        ),
        (
            "conformance check: seven deviation rules",
            [*s, "check", "--format", "json", "--out", str(out / "deviations.json")],
            None,
        ),
        ("check, summary table", [*s, "check"], out / "check.txt"),
        (
            "rolling alignment indicators",
            [*s, "indicators", "--format", "csv", "--out", str(out / "indicators.csv")],
            None,
        ),
        (
            "drift alerts (appended to the log as events)",
            [*s, "alerts", "--format", "json"],
            out / "alerts.json",
        ),
        ("verify the hash chains", [*s, "verify"], out / "verify.txt"),
    ]


@click.command()
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=Path("demo-output"),
    show_default=True,
)
@click.option("--partnerships", type=int, default=1000, show_default=True)
@click.option("--seed", type=int, default=7, show_default=True)
def demo(out: Path, partnerships: int, seed: int) -> None:
    """Run the whole pipeline on a simulated workload and write the results."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    store = out / "partnermine.db"
    failures = 0
    for title, args, capture in _steps(out, store, partnerships, seed):
        if title:
            click.secho(f"\n== {title}", bold=True)
        click.echo("$ partnermine " + " ".join(args), err=True)
        started = time.perf_counter()
        result = _invoke(args, capture)
        click.echo(
            f"   ({time.perf_counter() - started:.1f} s, exit {result})", err=True
        )
        # exit 1 means "deviations found" for check; anything above is a failure
        failures += result > 1
    click.secho(f"\nResults written to {out}/", bold=True)
    sys.exit(1 if failures else 0)


def _invoke(args: list[str], capture: Path | None) -> int:
    from click.testing import CliRunner

    if capture is None:
        try:
            cli.main(args=args, standalone_mode=False)
        except SystemExit as e:
            return int(e.code or 0)
        except click.exceptions.Exit as e:
            return int(e.exit_code)
        return 0
    result = CliRunner().invoke(cli, args)
    capture.write_text(result.stdout)
    click.echo(result.stdout.rstrip()[:4000])
    if result.exit_code > 1:
        click.echo(result.stderr.rstrip(), err=True)
    return result.exit_code


if __name__ == "__main__":
    demo()

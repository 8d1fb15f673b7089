"""The ``partnermine`` command: a thin click group over the engine.

Commands live in small modules and are imported only when used, so that
``partnermine --help`` stays fast and pm4py is loaded only by the commands
that need it.
"""

from __future__ import annotations

import importlib

import click

from cli.bootstrap import DEFAULT_STORE
from cli.errors import exit_code_for
from engine.errors import PartnermineError

# command name -> "module:attribute"
COMMANDS: dict[str, str] = {
    "init": "cli.store_commands:init",
    "append": "cli.store_commands:append",
    "log": "cli.store_commands:log",
    "stats": "cli.store_commands:stats",
    "verify": "cli.store_commands:verify",
    "ingest": "cli.io_commands:ingest",
    "export": "cli.io_commands:export",
    "simulate": "cli.sim_commands:simulate",
    "scenario": "cli.sim_commands:scenario",
    "discover": "cli.discover_commands:discover",
    "check": "cli.check_commands:check",
    "indicators": "cli.indicator_commands:indicators",
    "alerts": "cli.indicator_commands:alerts",
    "watch": "cli.indicator_commands:watch",
}


class LazyGroup(click.Group):
    """A group whose commands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:  # noqa: ARG002
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:  # noqa: ARG002
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        command = getattr(importlib.import_module(module_name), attr)
        if not isinstance(command, click.Command):
            msg = f"{target} is not a click command"
            raise TypeError(msg)
        return command

    def invoke(self, ctx: click.Context) -> object:
        """Invoke the command, turning partnermine errors into exit codes."""
        try:
            return super().invoke(ctx)
        except (PartnermineError, OSError) as e:
            click.echo(f"error: {e}", err=True)
            ctx.exit(exit_code_for(e))


class CliContext:
    """Options shared by every command, carried on the click context (``ctx.obj``)."""

    def __init__(self, store: str) -> None:
        self.store = store


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--store",
    envvar="PARTNERMINE_STORE",
    default=DEFAULT_STORE,
    show_default=True,
    help="Event store: a SQLite file path, or a postgresql:// URL (env PARTNERMINE_STORE).",
)
@click.version_option(package_name="partnermine")
@click.pass_context
def cli(ctx: click.Context, store: str) -> None:
    """partnermine: event-sourced process mining for inter-organizational partnerships.

    Keep what partners do (meetings, objectives, plans, pilots, feedback,
    conflicts) in an append-only, hash-chained log; mine each partnership's
    negotiation -> commitment -> execution flow; detect deviations; compute
    rolling alignment indicators and alert on drift.

    Exit codes: 0 ok; 1 deviations found (check) or a broken chain (verify);
    2 usage error or invalid input; 3 store, adapter or environment failure.
    """
    ctx.obj = CliContext(store=store)


def main() -> None:
    """Run the CLI (the console script ``partnermine``)."""
    cli()


if __name__ == "__main__":
    main()

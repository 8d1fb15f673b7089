"""Rendering command results: a readable table for people, JSON for scripts.

Every JSON document a command prints is documented in README.md ("JSON output")
and pinned by tests; keys are never renamed, only added.
"""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import click
import polars as pl

if TYPE_CHECKING:
    from collections.abc import Iterator

FORMAT_OPTION = click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="table for people, json for scripts (stable schema, see README).",
)


def stderr_is_terminal() -> bool:
    """Return True when a person may be watching stderr (it is a terminal)."""
    return sys.stderr.isatty()


@contextmanager
def report_progress(message: str) -> Iterator[None]:
    """Say what long work is under way, on stderr, only to a person watching.

    Nothing is written when stderr is not a terminal, so scripts and CI logs
    see only the result.
    """
    tty = stderr_is_terminal()
    if tty:
        click.echo(f"{message}...", err=True, nl=False)
    try:
        yield
    except BaseException:
        if tty:  # ends the line, so the error message starts on its own
            click.echo(" failed", err=True)
        raise
    if tty:
        click.echo(" done", err=True)


def _default(value: object) -> object:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def to_json(data: Any) -> str:
    """Return ``data`` (dicts, lists, polars frames) as indented JSON text."""
    if isinstance(data, pl.DataFrame):
        data = data.to_dicts()
    return json.dumps(data, indent=2, default=_default, ensure_ascii=False)


def render_table(frame: pl.DataFrame, *, max_rows: int = 50) -> str:
    """Return a plain-text table of ``frame`` (no truncation of columns)."""
    with pl.Config(
        tbl_rows=max_rows,
        tbl_cols=-1,
        tbl_width_chars=400,
        fmt_str_lengths=160,
        tbl_hide_dataframe_shape=True,
        tbl_hide_column_data_types=True,
        tbl_formatting="ASCII_MARKDOWN",
    ):
        return str(frame)


def render_mapping(data: dict[str, Any]) -> str:
    """Return ``key: value`` lines for a flat mapping."""
    width = max((len(k) for k in data), default=0)
    return "\n".join(f"{k.ljust(width)}  {v}" for k, v in data.items())


def emit(data: Any, output_format: str) -> None:
    """Print ``data`` in the requested format to stdout."""
    if output_format == "json":
        click.echo(to_json(data))
    elif isinstance(data, pl.DataFrame):
        click.echo(render_table(data))
    elif isinstance(data, dict):
        click.echo(render_mapping(data))
    else:
        click.echo(str(data))

"""``partnermine init | append | log | stats | verify``: the event log itself.

JSON documents (stable; keys are only ever added):

* ``init``: ``{"store", "created", "events"}``;
* ``append``: ``{"appended", "duplicates", "first_position", "last_position"}``;
* ``log``: a list of events, each with the DOMAIN.md field names
  (``event_id``, ``partnership_id``, ``version``, ``position``, ``activity``,
  ``timestamp`` in its original offset, ``recorded_at``, ``phase``, ``actor``,
  ``organization``, ``participants``, ``workstream``, ``attributes``,
  ``schema_version``, ``content_hash``, ``hash``);
* ``stats``: ``{"partnerships", "events", "activities", "variants", "start",
  "end"}`` (ISO 8601 UTC; null on an empty store);
* ``verify``: ``{"ok", "events_checked", "partnerships_checked",
  "first_broken"}``, ``first_broken`` null or ``{"partnership_id", "version",
  "position", "event_id", "reason"}``.

Exit codes (cli/errors.py): 0 ok; 1 ``verify`` found a broken chain; 2 bad
input, or a store that does not exist (NotFoundError: run ``init``);
3 a store failure.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TextIO

import click
import polars as pl
import pydantic

from cli.bootstrap import open_store
from cli.errors import EXIT_FINDINGS
from cli.output import FORMAT_OPTION, emit, report_progress
from engine import schema as s
from engine.errors import NotFoundError, ValidationError
from engine.events import NewEvent, new_events_to_frame

if TYPE_CHECKING:
    from collections.abc import Iterator

    from engine.ports import EventStore


@contextmanager
def opened_store(ctx: click.Context, *, create: bool = False) -> Iterator[EventStore]:
    store = open_store(ctx.obj.store, create=create)
    try:
        yield store
    finally:
        store.close()


# -- init ---------------------------------------------------------------------
@click.command("init")
@FORMAT_OPTION
@click.pass_context
def init(ctx: click.Context, output_format: str) -> None:
    """Create the event store (idempotent: an existing store is left as it is)."""
    try:
        with opened_store(ctx) as store:
            created, events = False, store.head_position()
    except NotFoundError:
        with opened_store(ctx, create=True) as store:
            created, events = True, store.head_position()
    if output_format == "json":
        emit({"store": ctx.obj.store, "created": created, "events": events}, "json")
    elif created:
        click.echo(f"initialized an empty event store at {ctx.obj.store}")
    else:
        click.echo(
            f"event store at {ctx.obj.store} already initialized "
            f"({events} events); nothing changed"
        )


# -- append -------------------------------------------------------------------
def parse_event_lines(source: TextIO, *, name: str) -> list[NewEvent]:
    """Return the events of a JSON Lines text (blank lines skipped).

    Raises
    ------
    ValidationError
        A line is not JSON or not an event: names the line, field and reason.
    """
    events: list[NewEvent] = []
    for number, line in enumerate(source, start=1):
        if not line.strip():
            continue
        try:
            events.append(NewEvent.model_validate_json(line))
        except pydantic.ValidationError as e:
            first = e.errors()[0]
            field = ".".join(str(part) for part in first["loc"]) or None
            raise ValidationError(
                first["msg"], source=name, line=number, field=field
            ) from e
    return events


def append_events(
    store: EventStore, events: list[NewEvent], *, expected_version: int | None
) -> dict[str, Any]:
    """Append ``events``; return what was recorded (see the module's JSON)."""
    if expected_version is None:
        report = store.append_frame(new_events_to_frame(events))
        return {
            "appended": report.appended,
            "duplicates": report.duplicates,
            "first_position": report.first_position,
            "last_position": report.last_position,
        }
    streams = {e.partnership_id for e in events}
    if len(streams) != 1:
        msg = (
            "--expected-version applies to one partnership, but the input has "
            f"{len(streams)}: {', '.join(sorted(streams)) or 'none'}"
        )
        raise ValidationError(msg, field="partnership_id")
    head = store.head_position()
    recorded = store.append(streams.pop(), events, expected_version=expected_version)
    new = [r.position for r in recorded if r.position > head]
    return {
        "appended": len(new),
        "duplicates": len(recorded) - len(new),
        "first_position": min(new, default=None),
        "last_position": max(new, default=None),
    }


@click.command("append")
@click.argument("source", type=click.File("r", encoding="utf-8"), default="-")
@click.option(
    "--expected-version",
    type=click.IntRange(min=0),
    help="Refuse the append unless the partnership is at this version "
    "(all events must then belong to one partnership).",
)
@FORMAT_OPTION
@click.pass_context
def append(
    ctx: click.Context, source: TextIO, expected_version: int | None, output_format: str
) -> None:
    """Append events from a JSON Lines file (or stdin: ``-``), one event a line."""
    name = "<stdin>" if source.name == "<stdin>" else source.name
    with report_progress(f"reading {name}"):
        events = parse_event_lines(source, name=name)
    with opened_store(ctx) as store, report_progress(f"appending {len(events)} events"):
        result = append_events(store, events, expected_version=expected_version)
    emit(result, output_format)


# -- log ----------------------------------------------------------------------
def local_time_expr(column: str) -> pl.Expr:
    """Return ISO 8601 text of a UTC column in each event's own offset."""
    offset = pl.col(s.TZ_OFFSET).fill_null(0)
    magnitude = offset.abs()
    sign = pl.when(offset < 0).then(pl.lit("-")).otherwise(pl.lit("+"))
    hours = (magnitude // 3600).cast(pl.String).str.zfill(2)
    minutes = (magnitude % 3600 // 60).cast(pl.String).str.zfill(2)
    local = pl.col(column).dt.replace_time_zone(None) + pl.duration(seconds=offset)
    return pl.concat_str(
        [local.dt.strftime("%Y-%m-%dT%H:%M:%S%.6f"), sign, hours, pl.lit(":"), minutes]
    )


def select_log(frame: pl.DataFrame) -> pl.DataFrame:
    """Return event-frame rows with the DOMAIN.md field names, times as text."""
    return frame.select(
        pl.col(s.EVENT_ID).alias("event_id"),
        pl.col(s.PARTNERSHIP_ID).alias("partnership_id"),
        s.VERSION,
        s.POSITION,
        pl.col(s.ACTIVITY).alias("activity"),
        local_time_expr(s.TIMESTAMP).alias("timestamp"),
        pl.col(s.RECORDED_AT).dt.strftime("%Y-%m-%dT%H:%M:%S%.6f+00:00"),
        s.PHASE,
        pl.col(s.ACTOR).alias("actor"),
        s.ORGANIZATION,
        s.PARTICIPANTS,
        s.WORKSTREAM,
        s.ATTRIBUTES,
        s.SCHEMA_VERSION,
        s.CONTENT_HASH,
        s.HASH,
    )


def read_log(
    store: EventStore,
    *,
    partnership: str | None,
    limit: int | None,
    from_position: int,
) -> pl.DataFrame:
    """Return the selected events in global order."""
    if partnership is None:
        return store.read_all(from_position=from_position, limit=limit)
    if store.stream_version(partnership) == 0:
        msg = f"no events for partnership {partnership!r}"
        raise NotFoundError(msg)
    frame = store.to_frame(partnerships=[partnership]).filter(
        pl.col(s.POSITION) >= from_position
    )
    return frame if limit is None else frame.head(limit)


@click.command("log")
@click.option("--partnership", help="Only this partnership's events.")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many events.")
@click.option(
    "--from-position", type=click.IntRange(min=1), default=1, show_default=True
)
@FORMAT_OPTION
@click.pass_context
def log(
    ctx: click.Context,
    partnership: str | None,
    limit: int | None,
    from_position: int,
    output_format: str,
) -> None:
    """List events in global order."""
    with opened_store(ctx) as store, report_progress("reading the log"):
        frame = select_log(
            read_log(
                store,
                partnership=partnership,
                limit=limit,
                from_position=from_position,
            )
        )
    if output_format == "json":
        rows = frame.to_dicts()
        for row in rows:
            row["attributes"] = json.loads(row["attributes"] or "{}")
        emit(rows, "json")
    else:
        emit(
            frame.select(
                "position",
                pl.col("partnership_id").alias("partnership"),
                "version",
                "timestamp",
                "activity",
                "phase",
                "actor",
                "organization",
                "workstream",
            ),
            "table",
        )


# -- stats --------------------------------------------------------------------
def summarize_log(frame: pl.DataFrame) -> dict[str, Any]:
    """Return counts, variants and time span of an event frame.

    A variant is a distinct activity sequence of a partnership, events ordered
    by timestamp then version.
    """
    variants = (
        frame.sort(s.PARTNERSHIP_ID, s.TIMESTAMP, s.VERSION)
        .group_by(s.PARTNERSHIP_ID)
        .agg(pl.col(s.ACTIVITY))
        .select(pl.col(s.ACTIVITY).n_unique())
        .item()
    )
    iso = "%Y-%m-%dT%H:%M:%S%.6f+00:00"
    span = frame.select(
        pl.col(s.TIMESTAMP).min().dt.strftime(iso).alias("start"),
        pl.col(s.TIMESTAMP).max().dt.strftime(iso).alias("end"),
    ).row(0, named=True)
    return {
        "partnerships": frame[s.PARTNERSHIP_ID].n_unique(),
        "events": frame.height,
        "activities": frame[s.ACTIVITY].n_unique(),
        "variants": int(variants) if frame.height else 0,
        "start": span["start"],
        "end": span["end"],
    }


@click.command("stats")
@FORMAT_OPTION
@click.pass_context
def stats(ctx: click.Context, output_format: str) -> None:
    """Print partnerships, events, activities, variants and the time span."""
    with opened_store(ctx) as store, report_progress("reading the log"):
        summary = summarize_log(store.to_frame())
    emit(summary, output_format)


# -- verify -------------------------------------------------------------------
@click.command("verify")
@FORMAT_OPTION
@click.pass_context
def verify(ctx: click.Context, output_format: str) -> None:
    """Check every hash chain; exit 1 naming the first broken link."""
    with opened_store(ctx) as store, report_progress("verifying every chain"):
        report = store.verify()
    broken = report.first_broken
    document: dict[str, Any] = {
        "ok": report.ok,
        "events_checked": report.events_checked,
        "partnerships_checked": report.partnerships_checked,
        "first_broken": None
        if broken is None
        else {
            "partnership_id": broken.partnership_id,
            "version": broken.version,
            "position": broken.position,
            "event_id": broken.event_id,
            "reason": broken.reason,
        },
    }
    if output_format == "json":
        emit(document, "json")
    else:
        emit({k: v for k, v in document.items() if k != "first_broken"}, "table")
        if broken is not None:
            click.echo(
                f"broken chain: partnership {broken.partnership_id!r}, "
                f"version {broken.version}, position {broken.position}, "
                f"event {broken.event_id}: {broken.reason}"
            )
    if broken is not None:
        ctx.exit(EXIT_FINDINGS)

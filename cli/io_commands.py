"""``partnermine ingest | export``: bring logs in, and take them out.

JSON documents (stable; keys are only ever added):

* ``ingest``: ``{"source", "format", "events_read", "imported", "duplicates",
  "rejected", "partnerships", "reject_file"}``;
* ``export``: ``{"out", "format", "events", "partnerships"}``.

``ingest`` is all-or-nothing: one ``append_frame`` call is one transaction,
and any invalid row (without ``--reject-file``) stops the import before the
store is touched. With ``--reject-file`` the invalid rows go to a CSV file
(row or line, field, reason, then the source values) and the rest is imported.
With ``--pseudonymize`` actor names are replaced by keyed pseudonyms
(:func:`adapters.privacy.pseudonymize_frame`) before the append; the key comes
from ``--pseudonym-key-file`` or ``$PARTNERMINE_PSEUDONYM_KEY`` and is never
stored.

Exit codes: 0 ok; 2 invalid input, a bad mapping file or a missing store;
3 a store failure.
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click
import polars as pl

from adapters.io.export import EXPORT_FORMATS, write_events
from adapters.io.mapping import load_activity_mapping
from adapters.io.reader import IMPORT_FORMATS, ImportOptions, detect_format, read_events
from adapters.io.tabular import ColumnMapping
from adapters.privacy import pseudonymize_frame
from adapters.privacy.pseudonyms import MIN_KEY_BYTES
from cli.bootstrap import open_store
from cli.output import emit
from engine import schema as s
from engine.errors import ValidationError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from adapters.io.batch import ImportedBatch
    from engine.ports import AppendReport

OUTPUT_OPTION = click.option(
    "--format-output",
    "output_format",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="table for people, json for scripts (stable schema).",
)


PSEUDONYM_KEY_ENV = "PARTNERMINE_PSEUDONYM_KEY"


def decode_pseudonym_key(raw: bytes) -> bytes:
    """Return the key in ``raw``: hex digits decoded, other text (or binary) as is."""
    try:
        text = raw.decode().strip()
    except UnicodeDecodeError:
        return raw
    try:
        return bytes.fromhex(text)
    except ValueError:
        return text.encode()


def read_pseudonym_key(key_file: Path | None) -> bytes:
    """Return the pseudonymization key from ``key_file`` or the environment.

    A missing or short key is a usage error (exit 2); the message never
    quotes the key.
    """
    if key_file is not None:
        raw, source = key_file.read_bytes(), str(key_file)
    elif os.environ.get(PSEUDONYM_KEY_ENV):
        raw = os.environ[PSEUDONYM_KEY_ENV].encode("utf-8", "surrogateescape")
        source = f"${PSEUDONYM_KEY_ENV}"
    else:
        msg = (
            "--pseudonymize needs a key: give --pseudonym-key-file PATH or set "
            f"{PSEUDONYM_KEY_ENV} (hex, or text; at least {MIN_KEY_BYTES} bytes)"
        )
        raise click.UsageError(msg)
    key = decode_pseudonym_key(raw)
    if len(key) < MIN_KEY_BYTES:
        msg = f"the pseudonym key from {source} has {len(key)} bytes; it needs at least {MIN_KEY_BYTES}"
        raise click.UsageError(msg)
    return key


@contextmanager
def byte_progress(path: Path) -> Iterator[Callable[[int], None] | None]:
    """Yield a progress callback drawing a bar on stderr (None when not a TTY)."""
    if not sys.stderr.isatty():
        yield None
        return
    total = path.stat().st_size
    with click.progressbar(
        length=total, label=f"reading {path.name}", file=sys.stderr
    ) as bar:
        done = 0

        def advance(position: int) -> None:
            nonlocal done
            bar.update(max(position - done, 0))
            done = max(done, position)

        yield advance


def write_rejects(rejects: pl.DataFrame, path: Path) -> None:
    """Write the rejects frame as CSV (every value as text)."""
    rejects.select(pl.all().cast(pl.String)).write_csv(path)


def append_batch(
    ctx: click.Context,
    batch: ImportedBatch,
    reject_file: Path | None,
    pseudonym_key: bytes | None = None,
) -> tuple[AppendReport, int]:
    """Append the batch (or its valid rows); return the report and the rejected count.

    With ``pseudonym_key`` the actor names are pseudonymized before the append.
    """
    if reject_file is None:
        batch.raise_if_invalid()
        frame, rejected = batch.frame, 0
    else:
        frame, rejects = batch.split_valid()
        write_rejects(rejects, reject_file)
        rejected = batch.frame.height - frame.height
    if pseudonym_key is not None:
        frame = pseudonymize_frame(frame, key=pseudonym_key)
    store = open_store(ctx.obj.store)
    try:
        if sys.stderr.isatty():
            click.echo(f"appending {frame.height} events...", err=True)
        report = store.append_frame(frame)
    finally:
        store.close()
    return report, rejected


@click.command("ingest")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["auto", *IMPORT_FORMATS]),
    default="auto",
    show_default=True,
    help="Input format (auto: from the file name).",
)
@click.option(
    "--case",
    default=None,
    help="CSV/Parquet: the partnership (case) column [case:concept:name].",
)
@click.option(
    "--activity", default=None, help="CSV/Parquet: the activity column [concept:name]."
)
@click.option(
    "--timestamp",
    default=None,
    help="CSV/Parquet: the timestamp column [time:timestamp].",
)
@click.option(
    "--resource", default=None, help="CSV/Parquet: the actor column [org:resource]."
)
@click.option(
    "--organization", default=None, help="CSV/Parquet: the organization column."
)
@click.option(
    "--event-id", default=None, help="CSV/Parquet: the event id column (UUIDs)."
)
@click.option("--phase", default=None, help="CSV/Parquet: the phase column.")
@click.option("--workstream", default=None, help="CSV/Parquet: the workstream column.")
@click.option(
    "--timestamp-format",
    default=None,
    help="strftime format of text timestamps (default ISO 8601).",
)
@click.option(
    "--lifecycle-classifier",
    is_flag=True,
    help="XES: activity = concept:name+lifecycle:transition.",
)
@click.option(
    "--object-type",
    default=None,
    help="OCEL: the object type whose objects become partnerships.",
)
@click.option(
    "--mapping",
    "mapping_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help='Activity mapping TOML ([activities] "Old" = "new").',
)
@click.option(
    "--timezone",
    default=None,
    help="Zone for timestamps without an offset (e.g. Europe/Helsinki).",
)
@click.option(
    "--reject-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write invalid rows here (CSV) and import the rest.",
)
@click.option(
    "--pseudonymize",
    is_flag=True,
    help=(
        "Store keyed HMAC-SHA256 pseudonyms (ps_...) instead of actor names "
        "(org:resource and participants' actors); the same key gives the same "
        "pseudonyms on every import. Other attributes are stored as they are."
    ),
)
@click.option(
    "--pseudonym-key-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help=(
        f"Key for --pseudonymize (default: ${PSEUDONYM_KEY_ENV}): hex digits, "
        f"or any other text taken as is; at least {MIN_KEY_BYTES} bytes. "
        "Never written to the store; keep it apart."
    ),
)
@OUTPUT_OPTION
@click.pass_context
def ingest(
    ctx: click.Context,
    file: Path,
    fmt: str,
    case: str | None,
    activity: str | None,
    timestamp: str | None,
    resource: str | None,
    organization: str | None,
    event_id: str | None,
    phase: str | None,
    workstream: str | None,
    timestamp_format: str | None,
    lifecycle_classifier: bool,  # noqa: FBT001 - a click flag
    object_type: str | None,
    mapping_file: Path | None,
    timezone: str | None,
    reject_file: Path | None,
    pseudonymize: bool,  # noqa: FBT001 - a click flag
    pseudonym_key_file: Path | None,
    output_format: str,
) -> None:
    """Import an event log (XES, CSV, Parquet, JSON Lines, OCEL 2.0) into the store."""
    if pseudonym_key_file is not None and not pseudonymize:
        msg = "--pseudonym-key-file is only used with --pseudonymize"
        raise click.UsageError(msg)
    key = read_pseudonym_key(pseudonym_key_file) if pseudonymize else None
    defaults = ColumnMapping()
    columns = ColumnMapping(
        case=case or defaults.case,
        activity=activity or defaults.activity,
        timestamp=timestamp or defaults.timestamp,
        resource=resource,
        organization=organization,
        event_id=event_id,
        phase=phase,
        workstream=workstream,
        timestamp_format=timestamp_format,
    )
    mapping = load_activity_mapping(mapping_file) if mapping_file is not None else {}
    with byte_progress(file) as on_progress:
        options = ImportOptions(
            columns=columns,
            lifecycle_classifier=lifecycle_classifier,
            object_type=object_type,
            timezone=timezone,
            mapping=mapping,
            on_progress=on_progress,
        )
        batch = read_events(file, fmt=fmt, options=options)
    report, rejected = append_batch(ctx, batch, reject_file, key)
    emit(
        {
            "source": str(file),
            "format": detect_format(file) if fmt == "auto" else fmt,
            "events_read": batch.frame.height,
            "imported": report.appended,
            "duplicates": report.duplicates,
            "rejected": rejected,
            "partnerships": batch.partnerships,
            "reject_file": str(reject_file) if reject_file is not None else None,
        },
        output_format,
    )


def parse_bound(value: str | None, option: str) -> datetime | None:
    """Return an ISO date/datetime as UTC-aware (naive values are read as UTC)."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as e:
        msg = f"not an ISO 8601 date or datetime: {value!r}"
        raise click.BadParameter(msg, param_hint=option) from e
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


def export_format_for(out: Path, fmt: str | None) -> str:
    """Return the export format: given, or from the file name."""
    if fmt is not None:
        return fmt
    name = out.name.lower()
    for suffix, found in (
        (".xes.gz", "xes"),
        (".xes", "xes"),
        (".parquet", "parquet"),
        (".csv", "csv"),
        (".jsonl", "jsonl"),
        (".ndjson", "jsonl"),
    ):
        if name.endswith(suffix):
            return found
    msg = f"cannot tell the format from {out.name!r}; give --format ({', '.join(EXPORT_FORMATS)})"
    raise ValidationError(msg, field="format")


@click.command("export")
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The file to write.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(list(EXPORT_FORMATS)),
    default=None,
    help="Output format (default: from the file name).",
)
@click.option(
    "--partnership",
    "partnerships",
    multiple=True,
    help="Only this partnership (repeatable).",
)
@click.option(
    "--start",
    default=None,
    help="Only events at or after this ISO date/datetime (UTC when naive).",
)
@click.option(
    "--end",
    default=None,
    help="Only events before this ISO date/datetime (UTC when naive).",
)
@OUTPUT_OPTION
@click.pass_context
def export(
    ctx: click.Context,
    out: Path,
    fmt: str | None,
    partnerships: tuple[str, ...],
    start: str | None,
    end: str | None,
    output_format: str,
) -> None:
    """Export events from the store to XES, Parquet, CSV or JSON Lines."""
    chosen = export_format_for(out, fmt)
    store = open_store(ctx.obj.store)
    try:
        frame = store.to_frame(
            partnerships=list(partnerships) or None,
            start=parse_bound(start, "--start"),
            end=parse_bound(end, "--end"),
        )
    finally:
        store.close()
    written = write_events(frame, out, fmt=chosen)
    emit(
        {
            "out": str(out),
            "format": chosen,
            "events": written,
            "partnerships": frame[s.PARTNERSHIP_ID].n_unique(),
        },
        output_format,
    )

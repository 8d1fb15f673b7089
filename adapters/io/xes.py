"""Import XES logs (``.xes``, ``.xes.gz``) as an :class:`ImportedBatch`.

Mapping (as pm4py): trace ``concept:name`` -> partnership, event
``concept:name`` -> activity, ``time:timestamp`` -> timestamp, ``org:resource``
-> actor, ``org:group`` -> organization; every other event attribute (with
``lifecycle:transition``) and every other trace attribute (as ``case:<key>``)
goes to the ``attributes`` JSON. With ``lifecycle_classifier`` the activity is
``concept:name+lifecycle:transition`` (BPIC 2013 needs it).

The fast path is :mod:`adapters.io.xes_stream` (vectorized); unusual or
malformed files go through lxml ``iterparse`` (:mod:`adapters.io.xes_lxml`), which
names the line of any syntax error.
"""

from __future__ import annotations

from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import polars as pl

from adapters.io.batch import (
    ImportedBatch,
    content_ids,
    content_keys,
    finish_batch,
    first_occurrence_ids,
)
from adapters.io.timestamps import parse_timestamps, timestamp_problems
from adapters.io.xes_attributes import (
    EXTRACTED,
    IDENTITY,
    LIFECYCLE,
    UUID_RE,
    attributes_json,
    uniform_columns,
)
from adapters.io.xes_lxml import (
    EVENT_ATTR_SCHEMA,
    EVENTS_SCHEMA,
    TRACE_ATTR_SCHEMA,
    read_xes_parts_lxml,
)
from adapters.io.xes_stream import (
    DEFAULT_BLOCK_BYTES,
    Block,
    ScannedBlock,
    check_blocks,
    iter_blocks,
    scan_block,
)
from adapters.io.xes_text import UnusualLayout, XesParts
from engine import schema as s
from engine.errors import ValidationError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

__all__ = ["read_xes", "read_xes_parts_lxml"]

_KEY = "_key"
_PROVISIONAL_ID = "_provisional_id"


def _special_columns(
    event_attrs: pl.DataFrame,
    events: pl.DataFrame,
    columns: dict[str, pl.DataFrame] | None,
) -> list[pl.Series]:
    """Return the last value of each extracted key per event, in event order.

    A uniform block (``columns``, see :func:`uniform_columns`) has them as
    columns already. Otherwise events and their attributes come in file order
    (ascending ``event_idx``), so each key's values land in place by position
    (a scatter), the last of a repeated key winning; no join or group-by.
    """
    index = events.get_column("event_idx")
    out = []
    for key in EXTRACTED:
        if columns is not None:
            found = columns.get(key)
            out.append(
                found.get_column("value").alias(key)
                if found is not None
                else pl.repeat(None, index.len(), dtype=pl.String, eager=True).alias(
                    key
                )
            )
            continue
        rows = event_attrs.filter(pl.col("key") == key).select("event_idx", "value")
        later = pl.col("event_idx") == pl.col("event_idx").shift(-1)
        if rows.select(later.any()).item():
            rows = rows.filter(~later.fill_null(value=False))
        if rows.height == index.len():  # every event has the key, once
            out.append(rows.get_column("value").alias(key))
            continue
        column = pl.repeat(None, index.len(), dtype=pl.String, eager=True).alias(key)
        at = index.search_sorted(rows["event_idx"])
        out.append(column.scatter(at, rows["value"]))
    return out


def _assemble(
    parts: XesParts, *, lifecycle_classifier: bool, timezone: str | None
) -> pl.DataFrame:
    """Return the flat events of one block, timestamps parsed (``problem`` per row)."""
    events = pl.concat(parts.events).cast(EVENTS_SCHEMA)  # type: ignore[arg-type]
    trace_attrs = pl.concat(parts.trace_attrs).cast(TRACE_ATTR_SCHEMA)  # type: ignore[arg-type]
    cases = (
        trace_attrs.filter(pl.col("key") == "concept:name")
        .group_by("trace_idx")
        .agg(pl.col("value").last().alias(s.PARTNERSHIP_ID))
    )
    event_attrs = pl.concat(parts.event_attrs).cast(EVENT_ATTR_SCHEMA)  # type: ignore[arg-type]
    columns = uniform_columns(event_attrs, events)
    attributes = attributes_json(events, event_attrs, trace_attrs, columns=columns)
    # The special columns and the attributes come one row per event, in order.
    frame = events.join(
        cases, on="trace_idx", how="left", maintain_order="left"
    ).hstack(
        [
            *_special_columns(event_attrs, events, columns),
            attributes.get_column(s.ATTRIBUTES),
        ]
    )
    activity = pl.col("concept:name")
    if lifecycle_classifier:
        activity = (
            pl.when(pl.col(LIFECYCLE).is_not_null())
            .then(pl.concat_str([activity, pl.lit("+"), pl.col(LIFECYCLE)]))
            .otherwise(activity)
        )
    flat = frame.select(
        "line",
        pl.when(pl.col(IDENTITY).str.contains(UUID_RE))
        .then(pl.col(IDENTITY))
        .alias(s.EVENT_ID),
        s.PARTNERSHIP_ID,
        activity.alias("activity"),
        pl.col("time:timestamp").alias("timestamp_text"),
        pl.col("org:resource").alias("actor"),
        pl.col("org:group").alias("organization_text"),
        s.ATTRIBUTES,
    )
    flat = flat.hstack(parse_timestamps(flat["timestamp_text"], timezone=timezone))
    # The content ids of the block's events, as if none repeats in the file
    # (read_xes re-hashes the few that do): hashed here, beside the scan.
    keys = content_keys(
        flat.select(
            s.PARTNERSHIP_ID,
            pl.col("activity").alias(s.ACTIVITY),
            s.TIMESTAMP,
            pl.col("actor").alias(s.ACTOR),
            pl.col("organization_text").alias(s.ORGANIZATION),
        )
    )
    return flat.with_columns(
        keys.alias(_KEY), first_occurrence_ids(keys).alias(_PROVISIONAL_ID)
    )


def _read_block(
    block: Block,
    *,
    source: str,
    use_bytes: bool,
    lifecycle_classifier: bool,
    timezone: str | None,
) -> tuple[ScannedBlock, pl.DataFrame | None]:
    """Return one block scanned, and its flat events (None when it has none)."""
    scanned = scan_block(block, source=source, use_bytes=use_bytes)
    if not any(frame.height for frame in scanned.parts.events):
        return scanned, None
    return scanned, _assemble(
        scanned.parts, lifecycle_classifier=lifecycle_classifier, timezone=timezone
    )


def _assemble_streamed(
    path: Path,
    *,
    lifecycle_classifier: bool,
    timezone: str | None,
    on_progress: Callable[[int], None] | None,
    use_bytes: bool,
    block_bytes: int,
) -> pl.DataFrame:
    """Return the flat events of the file, two blocks read at a time.

    Each block holds whole traces, so two worker threads each scan (numpy)
    and assemble (polars; both release the GIL) a block of their own while
    this thread reads ahead; results are taken in file order, and at most one
    more block waits, so memory stays bounded by the block size.

    Raises
    ------
    UnusualLayout
        From the scanner: the file needs the lxml parser.
    """
    read = partial(
        _read_block,
        source=str(path),
        use_bytes=use_bytes,
        lifecycle_classifier=lifecycle_classifier,
        timezone=timezone,
    )
    pending: deque[Future[tuple[ScannedBlock, pl.DataFrame | None]]] = deque()
    flats: list[pl.DataFrame] = []
    opens_log = False
    last: list[ScannedBlock] = []  # only the last block's long form is kept

    def take() -> None:
        nonlocal opens_log
        scanned, flat = pending.popleft().result()
        opens_log = opens_log or scanned.has_root
        last[:] = [scanned]
        if flat is not None:
            flats.append(flat)

    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="xes-read") as pool:
        blocks = iter_blocks(path, block_bytes=block_bytes, on_progress=on_progress)
        try:
            while True:
                try:
                    block = next(blocks, None)
                except ValidationError:
                    # The file stopped reading (a corrupt or truncated gzip
                    # stream): what the blocks before that point hold comes first.
                    while pending:
                        take()
                    raise
                if block is None:
                    break
                pending.append(pool.submit(read, block))
                while len(pending) > 2:
                    take()
            while pending:
                take()
        finally:
            for future in pending:
                future.cancel()
            blocks.close()  # the reader thread and the file, now
    check_blocks(opens_log=opens_log, last=last[0], source=str(path))
    if not flats:  # a log without events
        flats.append(
            _assemble(
                last[0].parts,
                lifecycle_classifier=lifecycle_classifier,
                timezone=timezone,
            )
        )
    return pl.concat(flats)


def _assemble_file(
    path: Path,
    *,
    lifecycle_classifier: bool,
    timezone: str | None,
    on_progress: Callable[[int], None] | None,
    parser: str,
    block_bytes: int,
) -> pl.DataFrame:
    """Return the flat events of the whole file, assembled block by block."""
    if parser != "lxml":
        try:
            return _assemble_streamed(
                path,
                lifecycle_classifier=lifecycle_classifier,
                timezone=timezone,
                on_progress=on_progress,
                use_bytes=parser == "auto",
                block_bytes=block_bytes,
            )
        except UnusualLayout:
            pass
    parts = read_xes_parts_lxml(path)
    return _assemble(
        parts, lifecycle_classifier=lifecycle_classifier, timezone=timezone
    )


def read_xes(
    path: Path | str,
    *,
    lifecycle_classifier: bool = False,
    timezone: str | None = None,
    mapping: Mapping[str, str] | None = None,
    on_progress: Callable[[int], None] | None = None,
    parser: Literal["auto", "text", "lxml"] = "auto",
    block_bytes: int = DEFAULT_BLOCK_BYTES,
) -> ImportedBatch:
    """Return the events of an XES file (plain or gzip) as an :class:`ImportedBatch`.

    Parameters
    ----------
    path
        The ``.xes`` or ``.xes.gz`` file.
    lifecycle_classifier
        Use ``concept:name+lifecycle:transition`` as the activity.
    timezone
        Default IANA zone for timestamps without an offset.
    mapping
        Activity renames (``[activities]`` of a mapping TOML).
    on_progress
        Called with the number of (compressed) bytes read so far.
    parser
        ``auto``: the numpy scanner for canonical blocks, the polars tag
        reader for other blocks, lxml for what neither handles; ``text``:
        the same without the numpy scanner; ``lxml``: always lxml.
    block_bytes
        Decompressed bytes read (and assembled) at a time: bounds memory.

    Raises
    ------
    ValidationError
        Not XES, truncated, or malformed (naming the line).
    """
    path = Path(path)
    flat = _assemble_file(
        path,
        lifecycle_classifier=lifecycle_classifier,
        timezone=timezone,
        on_progress=on_progress,
        parser=parser,
        block_bytes=block_bytes,
    )
    times = flat.select(s.TIMESTAMP, s.TZ_OFFSET, "problem")
    raw = pl.DataFrame(
        {
            s.EVENT_ID: flat[s.EVENT_ID],
            s.PARTNERSHIP_ID: flat[s.PARTNERSHIP_ID],
            s.ACTIVITY: flat["activity"],
            s.TIMESTAMP: times[s.TIMESTAMP],
            s.TZ_OFFSET: times[s.TZ_OFFSET],
            s.ACTOR: flat["actor"],
            s.ORGANIZATION: flat["organization_text"],
            s.ATTRIBUTES: flat[s.ATTRIBUTES],
        }
    )
    problems = timestamp_problems(times)
    generated = content_ids(flat[_KEY], provisional=flat[_PROVISIONAL_ID])
    return finish_batch(
        raw,
        source=str(path),
        source_rows=flat["line"],
        unit="line",
        problems=problems,
        mapping=mapping,
        original=flat.select(
            pl.col(s.PARTNERSHIP_ID).alias("case"),
            "activity",
            pl.col("timestamp_text").alias("timestamp"),
            "actor",
            pl.col("organization_text").alias("organization"),
        ),
        generated_ids=generated,
    )

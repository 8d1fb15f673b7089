"""Pick the importer for a file and read it: the one entry point the CLI calls.

Examples
--------
>>> detect_format("log.xes.gz"), detect_format("events.jsonl"), detect_format("t.csv")
('xes', 'jsonl', 'csv')
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from adapters.io.jsonl import read_jsonl
from adapters.io.ocel import read_ocel
from adapters.io.tabular import ColumnMapping, read_csv_events, read_parquet_events
from adapters.io.timestamps import check_timezone
from adapters.io.xes import read_xes
from engine.errors import ValidationError

if TYPE_CHECKING:
    from collections.abc import Callable

    from adapters.io.batch import ImportedBatch

__all__ = ["IMPORT_FORMATS", "ImportOptions", "detect_format", "read_events"]

ImportFormat = Literal["xes", "csv", "parquet", "jsonl", "ocel"]
IMPORT_FORMATS: tuple[ImportFormat, ...] = ("xes", "csv", "parquet", "jsonl", "ocel")
_SUFFIXES: dict[str, ImportFormat] = {
    ".xes": "xes",
    ".xes.gz": "xes",
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".jsonocel": "ocel",
    ".xmlocel": "ocel",
    ".sqlite": "ocel",
}


@dataclass(frozen=True)
class ImportOptions:
    """Everything an import may need besides the file; unused fields are ignored.

    Attributes
    ----------
    columns
        CSV / Parquet column mapping.
    lifecycle_classifier
        XES: activity = ``concept:name+lifecycle:transition``.
    object_type
        OCEL: the object type to flatten on.
    timezone
        Default zone for naive timestamps (else they are errors).
    mapping
        Activity renames applied at import.
    on_progress
        XES: called with the bytes read so far.
    """

    columns: ColumnMapping = field(default_factory=ColumnMapping)
    lifecycle_classifier: bool = False
    object_type: str | None = None
    timezone: str | None = None
    mapping: dict[str, str] = field(default_factory=dict)
    on_progress: Callable[[int], None] | None = None


def detect_format(path: Path | str) -> ImportFormat:
    """Return the import format for ``path`` from its name.

    Raises
    ------
    ValidationError
        The name has no known suffix.
    """
    name = Path(path).name.lower()
    for suffix in sorted(_SUFFIXES, key=len, reverse=True):
        if name.endswith(suffix):
            return _SUFFIXES[suffix]
    if name.endswith(".json"):
        return "ocel"
    msg = f"cannot tell the format from the name; give --format ({', '.join(IMPORT_FORMATS)})"
    raise ValidationError(msg, source=str(path), field="format")


def read_events(
    path: Path | str, *, fmt: str = "auto", options: ImportOptions | None = None
) -> ImportedBatch:
    """Return the events of ``path`` read as ``fmt`` (``auto``: from the name).

    Raises
    ------
    ValidationError
        Unknown format, unreadable file, or (from the importer) bad content.
    """
    options = options or ImportOptions()
    path = Path(path)
    if not path.is_file():
        msg = "no such file"
        raise ValidationError(msg, source=str(path))
    chosen = detect_format(path) if fmt == "auto" else fmt
    zone = check_timezone(options.timezone) if options.timezone else None
    mapping = options.mapping
    if chosen == "xes":
        return read_xes(
            path,
            lifecycle_classifier=options.lifecycle_classifier,
            on_progress=options.on_progress,
            timezone=zone,
            mapping=mapping,
        )
    if chosen == "csv":
        return read_csv_events(
            path, columns=options.columns, timezone=zone, mapping=mapping
        )
    if chosen == "parquet":
        return read_parquet_events(
            path, columns=options.columns, timezone=zone, mapping=mapping
        )
    if chosen == "jsonl":
        return read_jsonl(path, timezone=zone, mapping=mapping)
    if chosen == "ocel":
        return read_ocel(
            path, object_type=options.object_type, timezone=zone, mapping=mapping
        )
    msg = f"unknown format {fmt!r} (auto, {', '.join(IMPORT_FORMATS)})"
    raise ValidationError(msg, source=str(path), field="format")

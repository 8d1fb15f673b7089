"""Import and export adapters: XES, CSV/Parquet, JSON Lines, OCEL 2.0.

Every importer returns an :class:`ImportedBatch` (a normalized input frame,
the source row or line of each event, and every problem found);
:func:`read_events` picks the importer for a file; :func:`write_events`
writes an event frame to XES, Parquet, CSV or JSON Lines.
"""

from __future__ import annotations

from adapters.io.batch import IMPORT_NAMESPACE, ImportedBatch, content_uuid_series
from adapters.io.export import (
    EXPORT_FORMATS,
    write_csv,
    write_events,
    write_jsonl,
    write_parquet,
    write_xes,
)
from adapters.io.jsonl import read_jsonl
from adapters.io.mapping import load_activity_mapping
from adapters.io.ocel import read_ocel
from adapters.io.reader import IMPORT_FORMATS, ImportOptions, detect_format, read_events
from adapters.io.tabular import (
    ColumnMapping,
    read_csv_events,
    read_parquet_events,
    read_table_events,
)
from adapters.io.xes import read_xes

__all__ = [
    "EXPORT_FORMATS",
    "IMPORT_FORMATS",
    "IMPORT_NAMESPACE",
    "ColumnMapping",
    "ImportOptions",
    "ImportedBatch",
    "content_uuid_series",
    "detect_format",
    "load_activity_mapping",
    "read_csv_events",
    "read_events",
    "read_jsonl",
    "read_ocel",
    "read_parquet_events",
    "read_table_events",
    "read_xes",
    "write_csv",
    "write_events",
    "write_jsonl",
    "write_parquet",
    "write_xes",
]

"""Import JSON Lines in the event layout of DOMAIN.md, one event per line.

Layout (the one :func:`adapters.io.export.write_jsonl` writes)::

    {"event_id": "...", "partnership_id": "p1", "activity": "propose_idea",
     "timestamp": "2020-01-01T10:00:00+02:00", "phase": null, "actor": "a1",
     "organization": "EM", "participants": [{"actor": "a1", "organization": "EM",
     "role": "manager"}], "workstream": "contract", "attributes": {"idea_id": "i1"}}

Every line is parsed by polars JSON-path kernels over the whole file, so a bad
line (malformed JSON, a field of the wrong type, an unparseable timestamp) is
reported with its line number. Text fields given as numbers or booleans are
read as their text; objects or lists there are errors.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from adapters.io.batch import ImportedBatch, finish_batch
from adapters.io.timestamps import parse_timestamps, timestamp_problems
from engine import schema as s
from engine.errors import ValidationError

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["JSONL_FIELDS", "read_jsonl"]

# JSON Lines key -> event column
JSONL_FIELDS = {
    "event_id": s.EVENT_ID,
    "partnership_id": s.PARTNERSHIP_ID,
    "activity": s.ACTIVITY,
    "timestamp": s.TIMESTAMP,
    "phase": s.PHASE,
    "actor": s.ACTOR,
    "organization": s.ORGANIZATION,
    "participants": s.PARTICIPANTS,
    "workstream": s.WORKSTREAM,
    "attributes": s.ATTRIBUTES,
}
_TEXT_KEYS = (
    "event_id",
    "partnership_id",
    "activity",
    "timestamp",
    "phase",
    "actor",
    "organization",
    "workstream",
)
# A list of flat objects, as polars re-serializes it (compact).
_PARTICIPANTS_RE = r"^\[(\{[^{}\[\]]*\}(,\{[^{}\[\]]*\})*)?\]$"


def _problem(flag: pl.Expr, key: str, reason: str) -> pl.Expr:
    return pl.when(flag).then(
        pl.struct(pl.lit(key).alias("field"), pl.lit(reason).alias("reason"))
    )


def _extract_fields(lines: pl.DataFrame) -> pl.DataFrame:
    text = pl.col("text")
    values = [text.str.json_path_match(f"$.{key}").alias(key) for key in JSONL_FIELDS]
    return lines.with_columns(
        text.str.json_path_match("$").is_null().alias("malformed"),
        text.str.strip_chars().str.starts_with("{").alias("is_object"),
        *values,
    )


def _shape_problems(fields: pl.DataFrame) -> pl.DataFrame:
    """Return ``(row, field, reason)`` for malformed lines and wrongly typed fields."""
    checks = [
        _problem(pl.col("malformed"), "line", "not valid JSON"),
        _problem(
            ~pl.col("malformed") & ~pl.col("is_object"), "line", "not a JSON object"
        ),
        *(
            _problem(
                pl.col(key).str.starts_with("{") | pl.col(key).str.starts_with("["),
                JSONL_FIELDS[key],
                "wrong type: expected text, got an object or a list",
            )
            for key in _TEXT_KEYS
        ),
        _problem(
            pl.col("participants").is_not_null()
            & ~pl.col("participants").str.contains(_PARTICIPANTS_RE),
            s.PARTICIPANTS,
            "wrong type: expected a list of {actor, organization, role} objects",
        ),
        _problem(
            pl.col("attributes").is_not_null()
            & ~pl.col("attributes").str.starts_with("{"),
            s.ATTRIBUTES,
            "wrong type: expected an object",
        ),
    ]
    return (
        fields.select(
            pl.int_range(pl.len()).alias("row"), pl.concat_list(checks).alias("p")
        )
        .explode("p")
        .drop_nulls("p")
        .unnest("p")
        .select(pl.col("row").cast(pl.Int64), "field", "reason")
    )


def _participants(fields: pl.DataFrame, bad_rows: pl.Series) -> pl.Series:
    ok = pl.col("participants").str.contains(_PARTICIPANTS_RE) & ~pl.int_range(
        pl.len()
    ).is_in(bad_rows.implode())
    text = fields.select(pl.when(ok).then(pl.col("participants"))).to_series()
    return text.str.json_decode(pl.List(s.PARTICIPANT_DTYPE))


def read_jsonl(
    path: Path | str,
    *,
    timezone: str | None = None,
    mapping: Mapping[str, str] | None = None,
) -> ImportedBatch:
    """Return the events of a JSON Lines file as an :class:`ImportedBatch`.

    Blank lines are skipped; line numbers count every line from 1.

    Raises
    ------
    ValidationError
        The file cannot be read as text.
    """
    path = Path(path)
    try:
        lines = pl.read_lines(
            path, name="text", row_index_name="line", row_index_offset=1
        )
    except (pl.exceptions.ComputeError, OSError) as e:
        msg = f"not a readable text file: {e}".splitlines()[0]
        raise ValidationError(msg, source=str(path)) from e
    lines = lines.filter(pl.col("text").str.strip_chars().str.len_bytes() > 0)
    fields = _extract_fields(lines)
    shape = _shape_problems(fields)
    times = parse_timestamps(fields["timestamp"], timezone=timezone)
    attributes = fields.select(
        pl.when(
            pl.col("attributes").str.starts_with("{") & (pl.col("attributes") != "{}")
        ).then(pl.col("attributes"))
    ).to_series()
    raw = pl.DataFrame(
        {
            **{JSONL_FIELDS[k]: fields[k] for k in _TEXT_KEYS if k != "timestamp"},
            s.TIMESTAMP: times[s.TIMESTAMP],
            s.TZ_OFFSET: times[s.TZ_OFFSET],
            s.PARTICIPANTS: _participants(fields, shape["row"]),
            s.ATTRIBUTES: attributes,
        }
    )
    time_problems = timestamp_problems(times)
    return finish_batch(
        raw,
        source=str(path),
        source_rows=fields["line"],
        unit="line",
        problems=pl.concat([shape, time_problems]).sort("row", maintain_order=True),
        mapping=mapping,
        original=fields.select(pl.col("text").alias("json")),
        labels={v: k for k, v in JSONL_FIELDS.items()},
    )

"""Validate and normalize bulk input frames, as frames (never row by row).

Importers produce a frame with at least the required columns (event id,
partnership, activity, timestamp); :func:`normalize_input_frame` fills the
optional ones and casts to :data:`engine.schema.INPUT_SCHEMA`;
:func:`find_invalid_rows` lists every problem as ``(row, field, reason)``.

Examples
--------
>>> import polars as pl
>>> from datetime import datetime, timezone
>>> frame = normalize_input_frame(pl.DataFrame({
...     "event_id": ["00000000-0000-0000-0000-000000000001", "x"],
...     "case:concept:name": ["p1", "p1"],
...     "concept:name": ["propose_idea", ""],
...     "time:timestamp": [datetime(2020, 1, 1, tzinfo=timezone.utc)] * 2,
... }))
>>> find_invalid_rows(frame).rows()
[(1, 'event_id', 'not a UUID'), (1, 'concept:name', 'empty')]
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from engine import schema as s
from engine.errors import ValidationError

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "REJECT_SCHEMA",
    "REQUIRED_COLUMNS",
    "apply_activity_mapping",
    "find_invalid_rows",
    "infer_phase_expr",
    "normalize_input_frame",
    "raise_first_invalid",
    "split_valid_rows",
]

REQUIRED_COLUMNS = (s.EVENT_ID, s.PARTNERSHIP_ID, s.ACTIVITY, s.TIMESTAMP)
REJECT_SCHEMA = pl.Schema({"row": pl.Int64, "field": pl.String, "reason": pl.String})
_UUID_RE = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"


def infer_phase_expr() -> pl.Expr:
    """Return the phase column, inferred from canonical activities where null.

    Examples
    --------
    >>> import polars as pl
    >>> df = pl.DataFrame({"concept:name": ["start_action", "x"], "phase": [None, None]},
    ...                   schema={"concept:name": pl.String, "phase": pl.String})
    >>> df.select(infer_phase_expr()).to_series().to_list()
    ['execution', None]
    """
    stages = {k: v for k, v in s.ACTIVITY_STAGE.items() if v is not None}
    inferred = pl.col(s.ACTIVITY).replace_strict(
        stages, default=None, return_dtype=pl.String
    )
    return pl.coalesce(pl.col(s.PHASE), inferred).alias(s.PHASE)


def apply_activity_mapping(
    frame: pl.DataFrame, mapping: Mapping[str, str]
) -> pl.DataFrame:
    """Return ``frame`` with activities renamed by a user mapping (others kept)."""
    if not mapping:
        return frame
    return frame.with_columns(pl.col(s.ACTIVITY).replace(dict(mapping)))


def normalize_input_frame(
    frame: pl.DataFrame, *, source: str = "<frame>"
) -> pl.DataFrame:
    """Return ``frame`` cast to the input schema, optional columns filled.

    Raises
    ------
    ValidationError
        A required column is missing, or a column cannot take its type.
    """
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        msg = f"missing required column(s): {', '.join(missing)}"
        raise ValidationError(msg, source=source, field=missing[0])
    extra = [c for c in frame.columns if c not in s.INPUT_SCHEMA]
    if extra:
        msg = f"unexpected column(s): {', '.join(extra)}"
        raise ValidationError(msg, source=source, field=extra[0])
    fills = {
        s.TZ_OFFSET: pl.lit(0, pl.Int32),
        s.SCHEMA_VERSION: pl.lit(s.CURRENT_SCHEMA_VERSION, pl.Int16),
    }
    exprs = []
    for name, dtype in s.INPUT_SCHEMA.items():
        if name in frame.columns:
            exprs.append(pl.col(name))
        else:
            exprs.append(fills.get(name, pl.lit(None, dtype)).alias(name))
    try:
        out = frame.select(exprs).cast(s.INPUT_SCHEMA)
    except (pl.exceptions.InvalidOperationError, pl.exceptions.SchemaError) as e:
        msg = f"column types do not fit the event schema: {e}"
        raise ValidationError(msg, source=source) from e
    return _spell_vocabulary(out).with_columns(
        pl.col(s.EVENT_ID).str.to_lowercase(),
        pl.col(s.TZ_OFFSET).fill_null(0),
        pl.col(s.SCHEMA_VERSION).fill_null(s.CURRENT_SCHEMA_VERSION),
        infer_phase_expr(),
    )


def _misspellings(values: pl.Series, vocabulary: tuple[str, ...]) -> dict[str, str]:
    # Looked up once per distinct value, not per event.
    spelled = {
        value: s.normalize_term(value, vocabulary)
        for value in values.drop_nulls().unique().to_list()
        if value not in vocabulary
    }
    return {value: term for value, term in spelled.items() if term != value}


def _spell_vocabulary(frame: pl.DataFrame) -> pl.DataFrame:
    """Return ``frame`` with phases and roles spelled as the vocabulary spells them."""
    phases = _misspellings(frame[s.PHASE], s.PHASES)
    roles = _misspellings(frame[s.PARTICIPANTS].explode().struct.field("role"), s.ROLES)
    if phases:
        frame = frame.with_columns(pl.col(s.PHASE).replace(phases))
    if roles:
        role = pl.element().struct.field("role")
        frame = frame.with_columns(
            pl.col(s.PARTICIPANTS).list.eval(
                pl.element().struct.with_fields(role.replace(roles))
            )
        )
    return frame


def find_invalid_rows(frame: pl.DataFrame) -> pl.DataFrame:
    """Return one ``(row, field, reason)`` per problem, 0-based rows, in row order.

    The frame must already be normalized (:func:`normalize_input_frame`).
    """
    roles = list(s.ROLES)
    bad_role = (
        pl.col(s.PARTICIPANTS)
        .list.eval(
            pl.element().struct.field("role").is_null()
            | ~pl.element().struct.field("role").is_in(roles)
        )
        .list.any()
        .fill_null(value=False)
    )
    checks: list[tuple[str, pl.Expr, str]] = [
        (s.EVENT_ID, pl.col(s.EVENT_ID).is_null(), "missing"),
        (
            s.EVENT_ID,
            pl.col(s.EVENT_ID).is_not_null()
            & ~pl.col(s.EVENT_ID).str.contains(_UUID_RE),
            "not a UUID",
        ),
        (
            s.EVENT_ID,
            # A later occurrence of an id (the first one is kept).
            pl.col(s.EVENT_ID).is_not_null() & ~pl.col(s.EVENT_ID).is_first_distinct(),
            "duplicate event id in this input",
        ),
        (s.PARTNERSHIP_ID, pl.col(s.PARTNERSHIP_ID).is_null(), "missing"),
        (s.PARTNERSHIP_ID, pl.col(s.PARTNERSHIP_ID).str.len_bytes() == 0, "empty"),
        (s.ACTIVITY, pl.col(s.ACTIVITY).is_null(), "missing"),
        (s.ACTIVITY, pl.col(s.ACTIVITY).str.len_bytes() == 0, "empty"),
        (s.TIMESTAMP, pl.col(s.TIMESTAMP).is_null(), "missing or unparseable"),
        (
            s.PHASE,
            pl.col(s.PHASE).is_not_null() & ~pl.col(s.PHASE).is_in(list(s.PHASES)),
            f"not one of {', '.join(s.PHASES)}",
        ),
        (
            s.PARTICIPANTS,
            bad_role,
            f"a participant role is not one of {', '.join(roles)}",
        ),
    ]
    names = [str(i) for i in range(len(checks))]
    # Only the rows with a problem are unpivoted (usually none).
    flags = (
        frame.select(
            [
                failed.fill_null(value=False).alias(name)
                for name, (_, failed, _) in zip(names, checks, strict=True)
            ]
        )
        .with_row_index("row")
        .filter(pl.any_horizontal(names))
    )
    long = flags.unpivot(
        index="row", variable_name="check", value_name="failed"
    ).filter(pl.col("failed"))
    lookup = pl.DataFrame(
        {
            "check": [str(i) for i in range(len(checks))],
            "field": [c[0] for c in checks],
            "reason": [c[2] for c in checks],
            "order": list(range(len(checks))),
        }
    )
    return (
        long.join(lookup, on="check")
        .sort("row", "order")
        .select(pl.col("row").cast(pl.Int64), "field", "reason")
    )


def raise_first_invalid(
    problems: pl.DataFrame, *, source: str, row_numbers: pl.Series | None = None
) -> None:
    """Raise a :class:`ValidationError` for the first problem, if any.

    Parameters
    ----------
    problems
        Output of :func:`find_invalid_rows`.
    source
        The file the rows came from.
    row_numbers
        Optional mapping from frame row to the row (or line) number in the file.
    """
    if problems.is_empty():
        return
    row, field, reason = problems.row(0)
    number = int(row_numbers[row]) if row_numbers is not None else row + 1
    raise ValidationError(reason, source=source, row=number, field=field)


def split_valid_rows(
    frame: pl.DataFrame, problems: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Return ``(valid rows, rejected rows)``; rejected rows carry their reasons."""
    reasons = problems.group_by("row", maintain_order=True).agg(
        pl.concat_str([pl.col("field"), pl.lit(": "), pl.col("reason")])
        .str.join("; ")
        .alias("reject_reason")
    )
    indexed = frame.with_row_index("row").with_columns(pl.col("row").cast(pl.Int64))
    rejected = indexed.join(reasons, on="row", how="inner", maintain_order="left")
    valid = indexed.join(reasons, on="row", how="anti", maintain_order="left").drop(
        "row"
    )
    return valid, rejected

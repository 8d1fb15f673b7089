"""The ``attributes`` JSON of XES events: their own attributes and their trace's.

Every event attribute but the extracted ones (``concept:name``,
``time:timestamp``, ``org:resource``, ``org:group``, and ``identity:id`` when
it is a UUID) goes to the event's ``attributes``; so does every trace attribute
but ``concept:name``, as ``case:<key>`` (pm4py's names).

Two ways give the same text (:func:`adapters.io.jsontext.attributes_from_long`'s):

* **the uniform layout**, which XES writers produce: in a block, every event
  has the same attribute keys in the same order, and so has every trace. Each
  key is then a column, one value per event, typed once per column, and each
  object is one concatenation of the columns between their encoded keys: no
  sort, no join;
* **any other layout**: one row per attribute, sorted by (event, key) and
  joined in runs; the traces' part is encoded once per trace and spliced in.
"""

from __future__ import annotations

from typing import Final

import polars as pl

from adapters.io.jsontext import attributes_from_long, json_string_expr, values_as_json
from engine import schema as s

__all__ = [
    "EXTRACTED",
    "IDENTITY",
    "LIFECYCLE",
    "SPECIAL",
    "UUID_RE",
    "attributes_json",
]

SPECIAL: Final = {
    "concept:name": s.ACTIVITY,
    "time:timestamp": s.TIMESTAMP,
    "org:resource": s.ACTOR,
    "org:group": s.ORGANIZATION,
}
LIFECYCLE: Final = "lifecycle:transition"
IDENTITY: Final = "identity:id"
EXTRACTED: Final = [*SPECIAL, LIFECYCLE, IDENTITY]
UUID_RE: Final = r"(?i)^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
_CASE: Final = "case:"
# Below this many events in a block, one encoding pass costs less than three.
_SPLICE_FROM_EVENTS: Final = 2048


def _trace_rows(trace_attrs: pl.DataFrame) -> pl.DataFrame:
    """Return the traces' attributes (keys as ``case:<key>``), in file order."""
    return (
        trace_attrs.filter(pl.col("key") != "concept:name")
        .unique(subset=["trace_idx", "key"], keep="last", maintain_order=True)
        .filter(pl.col("value").is_not_null())
        .select(
            "trace_idx",
            pl.concat_str([pl.lit(_CASE), pl.col("key")]).alias("key"),
            "kind",
            "value",
        )
    )


def _own_rows(event_attrs: pl.DataFrame) -> pl.DataFrame:
    """Return the events' own attributes (all but the special keys), in file order."""
    own = event_attrs.filter(~pl.col("key").is_in(list(SPECIAL)))
    if own.select((pl.col("key") == IDENTITY).any()).item():
        # identity:id becomes the event id when it is a UUID; else an attribute.
        own = own.filter(
            (pl.col("key") != IDENTITY) | ~pl.col("value").str.contains(UUID_RE)
        )
    return own.select("event_idx", "key", "kind", "value").filter(
        pl.col("value").is_not_null()
    )


def _repeated_keys(
    long: pl.DataFrame, index: str, owners: pl.Series
) -> pl.Series | None:
    """Return the key sequence every owner repeats in ``long``, or None.

    ``long`` holds the attributes of ``owners`` (ascending, distinct), in
    order; it has the uniform layout when each owner has the same distinct
    keys in the same order, one row each.
    """
    if owners.is_empty() or long.height % owners.len():
        return None
    width = long.height // owners.len()
    if width == 0:
        return long.get_column("key")
    keys = long.get_column("key").head(width)
    if keys.n_unique() != width:
        return None
    position = pl.int_range(pl.len()) // width
    slot = pl.int_range(pl.len()) % width
    uniform = long.select(
        (
            (pl.col(index) == pl.lit(owners).gather(position))
            & (pl.col("key") == pl.lit(keys).gather(slot))
        ).all()
    ).item()
    return keys if uniform else None


def _split(long: pl.DataFrame, width: int) -> list[pl.DataFrame]:
    """Return ``(kind, value)`` of each of the ``width`` keys a uniform ``long`` repeats."""
    wide = long.select(
        expr
        for j in range(width)
        for expr in (
            pl.col("kind").gather_every(width, offset=j).alias(f"kind{j}"),
            pl.col("value").gather_every(width, offset=j).alias(f"value{j}"),
        )
    )
    return [
        wide.select(
            pl.col(f"kind{j}").alias("kind"), pl.col(f"value{j}").alias("value")
        )
        for j in range(width)
    ]


def uniform_columns(
    event_attrs: pl.DataFrame, events: pl.DataFrame
) -> dict[str, pl.DataFrame] | None:
    """Return each key's ``(kind, value)`` per event when a block is uniform, else None.

    Uniform here: every event has the same keys in the same order, once each,
    none null, and no ``identity:id`` (whose use depends on its value).
    """
    keys = _repeated_keys(event_attrs, "event_idx", events.get_column("event_idx"))
    if (
        keys is None
        or keys.is_empty()
        or (keys == IDENTITY).any()
        or event_attrs.get_column("value").null_count()
    ):
        return None
    return dict(zip(keys.to_list(), _split(event_attrs, keys.len()), strict=True))


def _uniform_attributes(
    own: dict[str, pl.DataFrame], trace: pl.DataFrame, events: pl.DataFrame
) -> pl.DataFrame | None:
    """Return ``(event_idx, attributes)`` of every event, or None if not uniform.

    ``own`` holds each own key's ``(kind, value)`` per event.
    """
    traces = trace.get_column("trace_idx").unique(maintain_order=True)
    trace_keys = _repeated_keys(trace, "trace_idx", traces)
    if trace_keys is None and not trace.is_empty():
        return None
    trace_keys = (
        trace_keys if trace_keys is not None else pl.Series([], dtype=pl.String)
    )
    if not own and trace_keys.is_empty():
        return None
    if any(key.startswith(_CASE) for key in own) or not traces.is_sorted():
        return None
    # The row of each event's trace among the traces with attributes; checked
    # before any value is typed.
    at = traces.search_sorted(events.get_column("trace_idx"))
    if (
        not trace_keys.is_empty()
        and not (
            traces.gather(at.clip(0, traces.len() - 1))
            == events.get_column("trace_idx")
        ).all()
    ):
        return None  # an event's trace has none of the keys
    columns = {key: values_as_json(frame) for key, frame in own.items()}
    for key, frame in zip(
        trace_keys.to_list(), _split(trace, trace_keys.len()), strict=True
    ):
        columns[key] = values_as_json(frame).gather(at)
    keys = pl.Series(list(columns), dtype=pl.String).sort()
    encoded = keys.to_frame("key").select(json_string_expr(pl.col("key"))).to_series()
    pieces: list[pl.Expr] = []
    for i, (key, text) in enumerate(
        zip(keys.to_list(), encoded.to_list(), strict=True)
    ):
        pieces += [pl.lit(("{" if i == 0 else ",") + text + ":"), pl.lit(columns[key])]
    return events.select(
        "event_idx", pl.concat_str([*pieces, pl.lit("}")]).alias(s.ATTRIBUTES)
    )


def _inner(column: str) -> pl.Expr:
    return pl.col(column).str.strip_prefix("{").str.strip_suffix("}")


def _spliced_attributes(
    own: pl.DataFrame, trace: pl.DataFrame, events: pl.DataFrame
) -> pl.DataFrame:
    """Return ``(event_idx, attributes)`` of the events that have attributes.

    Every inherited key starts with ``case:``, so in the sorted keys of an
    event they form one run: the traces' part is encoded once per trace and
    put between the event's keys before and after ``case:`` (unless an event
    has a ``case:`` key of its own, or the block is small: then all go
    through one encoding).
    """
    pairs = events.select("event_idx", "trace_idx")
    if (
        events.height < _SPLICE_FROM_EVENTS
        or own.select(pl.col("key").str.starts_with(_CASE).any()).item()
    ):
        inherited = trace.join(pairs, on="trace_idx").select(
            "event_idx", "key", "kind", "value"
        )
        return attributes_from_long(pl.concat([own, inherited]), index="event_idx")
    before = own.filter(pl.col("key") < _CASE)
    after = own.filter(pl.col("key") > _CASE)
    frame = (
        pairs.join(
            attributes_from_long(before, index="event_idx"), on="event_idx", how="left"
        )
        .join(
            attributes_from_long(trace, index="trace_idx").rename(
                {s.ATTRIBUTES: "mid"}
            ),
            on="trace_idx",
            how="left",
        )
        .join(
            attributes_from_long(after, index="event_idx").rename({s.ATTRIBUTES: "hi"}),
            on="event_idx",
            how="left",
        )
    )
    body = pl.concat_str(
        [_inner(s.ATTRIBUTES), _inner("mid"), _inner("hi")],
        separator=",",
        ignore_nulls=True,
    )
    return frame.select(
        "event_idx",
        pl.when(body.str.len_bytes() > 0)
        .then(pl.concat_str([pl.lit("{"), body, pl.lit("}")]))
        .alias(s.ATTRIBUTES),
    )


def attributes_json(
    events: pl.DataFrame,
    event_attrs: pl.DataFrame,
    trace_attrs: pl.DataFrame,
    *,
    columns: dict[str, pl.DataFrame] | None,
) -> pl.DataFrame:
    """Return ``(event_idx, attributes)``: own and inherited attributes as JSON.

    Parameters
    ----------
    events
        The block's events: ``event_idx`` (ascending) and ``trace_idx``.
    event_attrs, trace_attrs
        The block's event and trace attributes, in file order.
    columns
        :func:`uniform_columns` of the block: the uniform path is tried when
        given (the text is the same either way; None is for any layout).

    Returns
    -------
    polars.DataFrame
        One row per event, in the order of ``events``; ``attributes`` is null
        for an event without any.
    """
    trace = _trace_rows(trace_attrs)
    if columns is not None:
        own = {k: v for k, v in columns.items() if k not in SPECIAL}
        uniform = _uniform_attributes(own, trace, events)
        if uniform is not None:
            return uniform
    return events.select("event_idx").join(
        _spliced_attributes(_own_rows(event_attrs), trace, events),
        on="event_idx",
        how="left",
        maintain_order="left",
    )

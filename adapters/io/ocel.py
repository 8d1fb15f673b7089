"""Import OCEL 2.0 logs (JSON, SQLite, XML), flattened on one object type.

As ``pm4py.ocel_flattening``: every event related to an object of the chosen
type becomes an event of the partnership named by that object's id (an event
related to two such objects appears in both). The event type is the activity,
the event attributes go to ``attributes``, with ``ocel:eid`` (the OCEL event
id) and ``ocel:qualifier`` (the relation's qualifier). The event id is a UUID
derived from the OCEL event id and the object id, so re-importing is a no-op.

OCEL 2.0 JSON times carry an offset; the SQLite and XML forms usually do not,
so they need a default zone (``--timezone``).
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from adapters.io.batch import ImportedBatch, content_uuid_series, finish_batch
from adapters.io.jsontext import attributes_from_long
from adapters.io.timestamps import parse_timestamps, timestamp_problems
from engine import schema as s
from engine.errors import ValidationError

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["OcelTables", "flatten_ocel", "read_ocel", "read_ocel_tables"]

_EVENTS = {"eid": pl.String, "activity": pl.String, "time": pl.String}
_RELATIONS = {"eid": pl.String, "oid": pl.String, "qualifier": pl.String}
_OBJECTS = {"oid": pl.String, "otype": pl.String}
_ATTRS = {"eid": pl.String, "key": pl.String, "kind": pl.String, "value": pl.String}


class OcelTables:
    """The four tables of an OCEL 2.0 log this importer needs (all text columns)."""

    def __init__(
        self,
        *,
        events: list[tuple[Any, ...]],
        relations: list[tuple[Any, ...]],
        objects: list[tuple[Any, ...]],
        attributes: list[tuple[Any, ...]],
    ) -> None:
        self.events = pl.DataFrame(events, schema=_EVENTS, orient="row")
        self.relations = pl.DataFrame(relations, schema=_RELATIONS, orient="row")
        self.objects = pl.DataFrame(objects, schema=_OBJECTS, orient="row")
        self.attributes = pl.DataFrame(attributes, schema=_ATTRS, orient="row")


def _kind_of(value: object) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    return "string"


def _text_of(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _read_json(path: Path) -> OcelTables:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        events = doc["events"]
        objects = doc["objects"]
        return OcelTables(
            events=[(e["id"], e["type"], e.get("time")) for e in events],
            relations=[
                (e["id"], r["objectId"], r.get("qualifier"))
                for e in events
                for r in e.get("relationships") or []
            ],
            objects=[(o["id"], o["type"]) for o in objects],
            attributes=[
                (e["id"], a["name"], _kind_of(a.get("value")), _text_of(a.get("value")))
                for e in events
                for a in e.get("attributes") or []
            ],
        )
    except json.JSONDecodeError as e:
        msg = f"not valid JSON: {e.msg}"
        raise ValidationError(msg, source=str(path), line=e.lineno) from e
    except (KeyError, TypeError) as e:
        msg = f"not an OCEL 2.0 JSON log: missing or malformed {e}"
        raise ValidationError(msg, source=str(path)) from e


def _read_sqlite(path: Path) -> OcelTables:
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as e:
        msg = f"cannot open the SQLite file: {e}"
        raise ValidationError(msg, source=str(path)) from e
    try:
        events = con.execute("SELECT ocel_id, ocel_type FROM event").fetchall()
        type_tables = dict(
            con.execute(
                "SELECT ocel_type, ocel_type_map FROM event_map_type"
            ).fetchall()
        )
        times: list[tuple[Any, ...]] = []
        attributes: list[tuple[Any, ...]] = []
        for table in type_tables.values():
            cursor = con.execute(f'SELECT * FROM "event_{table}"')
            names = [d[0] for d in cursor.description]
            for row in cursor.fetchall():
                record = dict(zip(names, row, strict=True))
                times.append((record["ocel_id"], record.get("ocel_time")))
                attributes.extend(
                    (record["ocel_id"], k, _kind_of(v), _text_of(v))
                    for k, v in record.items()
                    if k not in ("ocel_id", "ocel_time")
                )
        time_of = dict(times)
        return OcelTables(
            events=[(eid, etype, time_of.get(eid)) for eid, etype in events],
            relations=con.execute(
                "SELECT ocel_event_id, ocel_object_id, ocel_qualifier FROM event_object"
            ).fetchall(),
            objects=con.execute("SELECT ocel_id, ocel_type FROM object").fetchall(),
            attributes=attributes,
        )
    except sqlite3.Error as e:
        msg = f"not an OCEL 2.0 SQLite log: {e}"
        raise ValidationError(msg, source=str(path)) from e
    finally:
        con.close()


def _read_xml(path: Path) -> OcelTables:
    from lxml import etree

    try:
        root = etree.parse(str(path)).getroot()
    except etree.XMLSyntaxError as e:
        msg = f"not well-formed XML: {e.msg}"
        raise ValidationError(msg, source=str(path), line=e.position[0]) from e
    events: list[tuple[Any, ...]] = []
    relations: list[tuple[Any, ...]] = []
    attributes: list[tuple[Any, ...]] = []
    for event in root.iter("event"):
        eid = event.get("id")
        events.append((eid, event.get("type"), event.get("time")))
        relations.extend(
            (eid, r.get("object-id"), r.get("qualifier"))
            for r in event.iter("relationship")
        )
        attributes.extend(
            (eid, a.get("name"), "string", a.text) for a in event.iter("attribute")
        )
    objects = [(o.get("id"), o.get("type")) for o in root.iter("object")]
    return OcelTables(
        events=events, relations=relations, objects=objects, attributes=attributes
    )


def read_ocel_tables(path: Path | str) -> OcelTables:
    """Return the tables of an OCEL 2.0 file (JSON, SQLite or XML, by content).

    Raises
    ------
    ValidationError
        The file is not an OCEL 2.0 log in one of those forms.
    """
    path = Path(path)
    with path.open("rb") as handle:
        head = handle.read(64)
    if head.startswith(b"SQLite format 3"):
        return _read_sqlite(path)
    if head.lstrip().startswith(b"<"):
        return _read_xml(path)
    return _read_json(path)


def flatten_ocel(
    tables: OcelTables, *, object_type: str | None, source: str
) -> pl.DataFrame:
    """Return one row per (event, object of ``object_type``): the flattened log.

    Raises
    ------
    ValidationError
        ``object_type`` is missing or not a type of the log.
    """
    types = sorted(tables.objects["otype"].drop_nulls().unique().to_list())
    if object_type is None or object_type not in types:
        given = (
            "no object type given"
            if object_type is None
            else f"no object type {object_type!r}"
        )
        msg = f"{given}: choose one with --object-type ({', '.join(types)})"
        raise ValidationError(msg, source=source, field="object_type")
    chosen = tables.objects.filter(pl.col("otype") == object_type)
    pairs = (
        tables.relations.join(chosen, on="oid", how="semi")
        .unique(subset=["eid", "oid"], keep="first", maintain_order=True)
        .join(tables.events.with_row_index("event_order"), on="eid", how="inner")
        .sort("event_order", "oid")
        .with_row_index("row")
    )
    extra = pl.concat(
        [
            pairs.select(
                "row",
                pl.lit("ocel:eid").alias("key"),
                pl.lit("string").alias("kind"),
                pl.col("eid").alias("value"),
            ),
            pairs.select(
                "row",
                pl.lit("ocel:qualifier").alias("key"),
                pl.lit("string").alias("kind"),
                pl.col("qualifier").alias("value"),
            ),
            pairs.select("row", "eid")
            .join(tables.attributes, on="eid")
            .select("row", "key", "kind", "value"),
        ]
    )
    json_text = attributes_from_long(extra, index="row")
    return pairs.join(json_text, on="row", how="left").sort("row")


def read_ocel(
    path: Path | str,
    *,
    object_type: str | None,
    timezone: str | None = None,
    mapping: Mapping[str, str] | None = None,
) -> ImportedBatch:
    """Return an OCEL 2.0 log flattened on ``object_type`` as an :class:`ImportedBatch`.

    Row numbers in messages count the flattened events (1-based) in file order.

    Raises
    ------
    ValidationError
        Not an OCEL 2.0 log, or an unknown object type.
    """
    path = Path(path)
    flat = flatten_ocel(
        read_ocel_tables(path), object_type=object_type, source=str(path)
    )
    times = parse_timestamps(flat["time"], timezone=timezone)
    names = flat.select(
        pl.concat_str([pl.lit("ocel"), "eid", "oid"], separator="\x1f")
    ).to_series()
    raw = pl.DataFrame(
        {
            s.EVENT_ID: content_uuid_series(names),
            s.PARTNERSHIP_ID: flat["oid"],
            s.ACTIVITY: flat["activity"],
            s.TIMESTAMP: times[s.TIMESTAMP],
            s.TZ_OFFSET: times[s.TZ_OFFSET],
            s.ATTRIBUTES: flat[s.ATTRIBUTES],
        }
    )
    problems = timestamp_problems(times)
    return finish_batch(
        raw,
        source=str(path),
        source_rows=pl.int_range(1, flat.height + 1, eager=True),
        unit="row",
        problems=problems,
        mapping=mapping,
        original=flat.select("eid", "oid", "activity", "time"),
        labels={s.TIMESTAMP: "time", s.ACTIVITY: "type", s.PARTNERSHIP_ID: "objectId"},
    )

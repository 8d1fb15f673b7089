"""The outbox: deliver every ``alert_raised`` event of the store to a sink, once.

Each sink has a checkpoint ``sink:<name>`` in the store: the position up to which
its alerts are delivered. A run delivers the alerts after it, in log order,
one at a time; the checkpoint advances past the last delivered one, so an alert
whose delivery failed is retried on the next run and never dropped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import polars as pl

from engine import schema as s
from engine.errors import AdapterError
from engine.ports import Checkpoint
from engine.watching import ALERT_ACTIVITY

if TYPE_CHECKING:
    from engine.ports import AlertSink, EventStore


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """What one outbox run did for one sink."""

    sink: str
    delivered: int
    pending: int
    error: str | None


def alert_payloads(events: pl.DataFrame) -> list[dict[str, Any]]:
    """Return the JSON documents of ``alert_raised`` events (event frame rows)."""
    out = []
    for row in events.iter_rows(named=True):
        attributes = json.loads(row[s.ATTRIBUTES] or "{}")
        out.append(
            {
                "event_id": row[s.EVENT_ID],
                "partnership_id": row[s.PARTNERSHIP_ID],
                "signal": attributes.get("signal"),
                "window": attributes.get("window"),
                "value": attributes.get("value"),
                "baseline": attributes.get("baseline"),
                "message": attributes.get("message"),
                "time": row[s.TIMESTAMP].isoformat(),
            }
        )
    return out


def _advance(store: EventStore, name: str, position: int) -> None:
    empty = pl.DataFrame(schema=s.INPUT_SCHEMA)
    store.append_frame(empty, checkpoint=Checkpoint(name, position))


def deliver_pending(store: EventStore, sink: AlertSink, *, name: str) -> DeliveryReport:
    """Deliver the store's undelivered alerts to ``sink``; never raises for the sink."""
    checkpoint = f"sink:{name}"
    start = store.read_checkpoint(checkpoint)
    rows = store.read_all(from_position=start + 1)
    if rows.is_empty():
        return DeliveryReport(name, 0, 0, None)
    alerts = rows.filter(pl.col(s.ACTIVITY) == ALERT_ACTIVITY).sort(s.POSITION)
    positions = alerts[s.POSITION].to_list()
    delivered = 0
    for payload in alert_payloads(alerts):
        try:
            sink.deliver([payload])
        except AdapterError as e:
            if delivered:
                _advance(store, checkpoint, positions[delivered - 1])
            return DeliveryReport(name, delivered, len(positions) - delivered, str(e))
        delivered += 1
    _advance(store, checkpoint, int(rows[s.POSITION].max()))  # type: ignore[arg-type]
    return DeliveryReport(name, delivered, 0, None)

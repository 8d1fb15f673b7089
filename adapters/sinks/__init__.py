"""Alert sinks: stdout, a JSON Lines file, an HTTP webhook; and the outbox that feeds them."""

from __future__ import annotations

from adapters.sinks.jsonl import JsonLinesSink
from adapters.sinks.outbox import DeliveryReport, alert_payloads, deliver_pending
from adapters.sinks.stdout import StdoutSink
from adapters.sinks.webhook import WebhookSink

__all__ = [
    "DeliveryReport",
    "JsonLinesSink",
    "StdoutSink",
    "WebhookSink",
    "alert_payloads",
    "deliver_pending",
]

"""The only place that builds adapters and wires them into engine services."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from adapters.clock import SystemClock
from engine.errors import NotFoundError

if TYPE_CHECKING:
    from engine.ports import AlertSink, EventStore

DEFAULT_STORE = "./partnermine.db"


def is_postgres_url(url: str) -> bool:
    return url.startswith(("postgresql://", "postgres://"))


def open_store(url: str, *, create: bool = False) -> EventStore:
    """Return the store at ``url``: a SQLite file path, or a postgresql:// URL.

    Without ``create``, a missing SQLite file is a NotFoundError telling the
    user to run ``partnermine init``.
    """
    clock = SystemClock()
    if is_postgres_url(url):
        from adapters.storage.postgres import PostgresEventStore

        return PostgresEventStore(url, clock=clock, create=create)
    from adapters.storage.sqlite import SqliteEventStore

    path = Path(url)
    if not create and not path.exists():
        msg = f"no store at {url}: run `partnermine init --store {url}` first"
        raise NotFoundError(msg)
    return SqliteEventStore(path, clock=clock, create=create)


def build_alert_sinks(
    *, jsonl: str | None, webhook: str | None, retries: int = 3, backoff: float = 0.5
) -> list[tuple[str, AlertSink]]:
    """Return the configured outbox sinks as (checkpoint name, sink) pairs."""
    from adapters.sinks import JsonLinesSink, WebhookSink

    sinks: list[tuple[str, AlertSink]] = []
    if jsonl:
        sinks.append((f"jsonl:{Path(jsonl).resolve()}", JsonLinesSink(Path(jsonl))))
    if webhook:
        sink = WebhookSink(webhook, retries=retries, backoff=backoff)
        sinks.append((f"webhook:{webhook}", sink))
    return sinks

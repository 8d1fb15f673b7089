"""Sinks and the outbox: a local webhook that fails, then succeeds; a JSON Lines file."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from adapters.sinks import JsonLinesSink, StdoutSink, WebhookSink, deliver_pending
from engine.errors import AdapterError
from engine.memory_store import MemoryEventStore
from engine.watching import raise_new_alerts
from tests.conftest import TickingClock
from tests.unit.engine.test_drift import _process_log


class Receiver:
    """A webhook on 127.0.0.1 answering 500 while ``failing`` is set."""

    def __init__(self) -> None:
        self.failing = True
        self.received: list[dict] = []
        self.attempts = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.attempts += 1
                if receiver.failing:
                    self.send_response(500)
                else:
                    receiver.received.append(json.loads(body))
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/alerts"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def store_with_alerts():
    store = MemoryEventStore(clock=TickingClock())
    store.append_frame(_process_log(180))
    raised = raise_new_alerts(store)
    assert raised.height >= 2
    return store, raised


def test_webhook_failure_is_retried_on_the_next_run(receiver, store_with_alerts):
    store, raised = store_with_alerts
    sleeps: list[float] = []
    sink = WebhookSink(receiver.url, retries=2, backoff=0.1, sleep=sleeps.append)
    first = deliver_pending(store, sink, name="hook")
    assert (first.delivered, first.pending) == (0, raised.height)
    assert "after 3 attempts" in first.error
    assert sleeps == [0.1, 0.2]  # exponential backoff
    assert receiver.received == []
    receiver.failing = False
    second = deliver_pending(store, sink, name="hook")
    assert (second.delivered, second.pending, second.error) == (raised.height, 0, None)
    assert [a["event_id"] for a in receiver.received] == raised["event_id"].to_list()
    assert set(receiver.received[0]) >= {
        "event_id",
        "partnership_id",
        "signal",
        "window",
        "value",
        "baseline",
        "message",
    }
    third = deliver_pending(store, sink, name="hook")
    assert third.delivered == 0
    assert len(receiver.received) == raised.height


def test_new_alerts_after_delivery_are_delivered_once(receiver, store_with_alerts):
    store, _ = store_with_alerts
    receiver.failing = False
    sink = WebhookSink(receiver.url, retries=0)
    deliver_pending(store, sink, name="hook")
    before = len(receiver.received)
    deliver_pending(store, sink, name="hook")
    assert len(receiver.received) == before


def test_webhook_rejects_non_http_urls():
    with pytest.raises(AdapterError):
        WebhookSink("file:///etc/passwd")


def test_jsonl_sink_is_exactly_once_and_repairs_a_cut_line(tmp_path, store_with_alerts):
    store, raised = store_with_alerts
    path = tmp_path / "alerts.jsonl"
    sink = JsonLinesSink(path)
    assert deliver_pending(store, sink, name="file").delivered == raised.height
    lines = path.read_text().splitlines()
    assert [json.loads(x)["event_id"] for x in lines] == raised["event_id"].to_list()
    # a crash cut the last line, and the checkpoint never advanced: redeliver
    path.write_text("\n".join(lines[:-1]) + "\n" + lines[-1][:10])
    sink.deliver([json.loads(x) for x in lines])
    again = path.read_text().splitlines()
    assert sorted(again) == sorted(lines)


def test_jsonl_sink_reports_a_corrupt_file(tmp_path):
    path = tmp_path / "alerts.jsonl"
    path.write_text("not json\n")
    with pytest.raises(AdapterError, match="line 1"):
        JsonLinesSink(path).deliver([{"event_id": "x"}])


def test_stdout_sink_writes_json_lines():
    out: list[str] = []
    StdoutSink(out.append).deliver([{"event_id": "a", "value": 0.5}])
    assert json.loads(out[0]) == {"event_id": "a", "value": 0.5}

"""POST each alert as JSON to an HTTP webhook, retrying with exponential backoff.

Delivery is at least once: the receiver deduplicates on ``event_id``. When every
attempt fails, :class:`engine.errors.AdapterError` is raised and the outbox
keeps the alert for the next run.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import TYPE_CHECKING

from engine.errors import AdapterError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence


class WebhookSink:
    """An :class:`engine.ports.AlertSink` POSTing ``application/json``.

    Parameters
    ----------
    url
        The webhook URL (http or https).
    retries
        Attempts after the first one, per alert.
    backoff
        Seconds before the first retry; doubled after each failed attempt.
    timeout
        Seconds per request.
    sleep
        Injected so tests need not wait.
    """

    def __init__(
        self,
        url: str,
        *,
        retries: int = 3,
        backoff: float = 0.5,
        timeout: float = 10.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not url.startswith(("http://", "https://")):
            msg = f"webhook URL must be http(s): {url!r}"
            raise AdapterError(msg)
        self.url = url
        self.name = f"webhook:{url}"
        self._retries = retries
        self._backoff = backoff
        self._timeout = timeout
        self._sleep = sleep

    def _post(self, body: bytes) -> None:
        request = urllib.request.Request(
            self.url,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=self._timeout) as response:
            response.read()

    def _post_with_retries(self, body: bytes) -> None:
        delay = self._backoff
        for attempt in range(self._retries + 1):
            try:
                self._post(body)
            except (urllib.error.URLError, OSError) as e:
                if attempt == self._retries:
                    msg = f"webhook {self.url} failed after {attempt + 1} attempts: {e}"
                    raise AdapterError(msg) from e
                self._sleep(delay)
                delay *= 2
            else:
                return

    def deliver(self, alerts: Sequence[dict[str, object]]) -> None:
        """POST each alert; raise AdapterError at the first one that cannot be delivered."""
        for alert in alerts:
            body = json.dumps(alert, ensure_ascii=False, default=str).encode("utf-8")
            self._post_with_retries(body)

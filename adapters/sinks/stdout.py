"""Print alerts as JSON lines (the simplest sink; it cannot fail)."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence


class StdoutSink:
    """An :class:`engine.ports.AlertSink` writing one JSON object per line.

    Parameters
    ----------
    write
        Where the text goes (``sys.stdout.write`` by default).
    """

    name = "stdout"

    def __init__(self, write: Callable[[str], object] | None = None) -> None:
        self._write = write or sys.stdout.write

    def deliver(self, alerts: Sequence[dict[str, object]]) -> None:
        """Write each alert as one JSON line."""
        for alert in alerts:
            self._write(json.dumps(alert, ensure_ascii=False, default=str) + "\n")

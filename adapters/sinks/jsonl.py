"""Append alerts to a JSON Lines file, exactly once per alert id.

The file is its own delivery record: ids already in it are skipped, so a
delivery repeated after a crash never writes a line twice. A line cut short by
a crash is removed before appending.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING

from engine.errors import AdapterError

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path


class JsonLinesSink:
    """An :class:`engine.ports.AlertSink` appending to ``path`` (fsynced)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.name = f"jsonl:{path}"

    def _known_ids(self) -> set[str]:
        if not self.path.exists():
            return set()
        data = self.path.read_bytes()
        if data and not data.endswith(b"\n"):
            # A crash cut the last line: drop it (its alert is still pending).
            cut = data.rfind(b"\n") + 1
            with self.path.open("r+b") as f:
                f.truncate(cut)
            data = data[:cut]
        ids = set()
        for number, line in enumerate(data.decode("utf-8").splitlines(), start=1):
            try:
                ids.add(str(json.loads(line)["event_id"]))
            except (ValueError, KeyError, TypeError) as e:
                msg = f"{self.path}, line {number}: not an alert JSON line: {e}"
                raise AdapterError(msg) from e
        return ids

    def deliver(self, alerts: Sequence[dict[str, object]]) -> None:
        """Append the alerts whose ids are not in the file yet."""
        try:
            known = self._known_ids()
            lines = [
                json.dumps(a, ensure_ascii=False, default=str) + "\n"
                for a in alerts
                if str(a["event_id"]) not in known
            ]
            if not lines:
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as f:
                f.write("".join(lines))
                f.flush()
                os.fsync(f.fileno())
        except OSError as e:
            msg = f"cannot write alerts to {self.path}: {e}"
            raise AdapterError(msg) from e

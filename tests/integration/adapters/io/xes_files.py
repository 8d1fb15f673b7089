"""Small XES files written for tests."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path


def write_log(path: Path, traces: list[str]) -> None:
    """Write an XES log of the given ``<trace>`` bodies (UTF-8)."""
    body = "".join(f"  <trace>\n{t}  </trace>\n" for t in traces)
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<log xes.version="1.0">\n'
        + body
        + "</log>\n",
        encoding="utf-8",
    )

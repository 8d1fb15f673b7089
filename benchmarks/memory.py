"""The peak resident memory of this process, for benchmarks that print it."""

from __future__ import annotations

import resource
from pathlib import Path

__all__ = ["peak_rss_bytes"]

_STATUS = Path("/proc/self/status")


def peak_rss_bytes() -> int:
    """Return this process's own peak resident memory, in bytes.

    On Linux, ``VmHWM`` of ``/proc/self/status``: ``ru_maxrss`` is carried over
    an exec, so a measuring process started from a larger one (a parent that
    built the data) would report the parent's size. Elsewhere, ``ru_maxrss``.
    """
    if _STATUS.exists():
        for line in _STATUS.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

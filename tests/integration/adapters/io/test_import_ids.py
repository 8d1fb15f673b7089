"""Content-derived event ids are pinned: the same file gets the same ids, always.

The XES reader hashes each block's ids beside the scan and re-hashes the
events whose content repeats in the file; the ids must still be exactly the
documented uuid5 names, whatever the block size.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest

from adapters.io.batch import IMPORT_NAMESPACE
from adapters.io.xes import read_xes
from engine import schema as s

_STAMP = "2020-01-01T10:00:00.000+02:00"


def _event(name: str, resource: str | None) -> str:
    actor = (
        f'      <string key="org:resource" value="{resource}"/>\n' if resource else ""
    )
    return (
        "    <event>\n"
        f'      <string key="concept:name" value="{name}"/>\n'
        f'      <date key="time:timestamp" value="{_STAMP}"/>\n'
        f"{actor}    </event>\n"
    )


def _trace(case: str, events: list[str]) -> str:
    return (
        "  <trace>\n"
        f'    <string key="concept:name" value="{case}"/>\n'
        + "".join(events)
        + "  </trace>\n"
    )


def _expected(case: str, activity: str, actor: str | None, occurrence: int) -> str:
    epoch_us = int(datetime.fromisoformat(_STAMP).timestamp() * 1_000_000)
    name = "\x1f".join(
        [case, activity, str(epoch_us), actor or "~", "~", str(occurrence)]
    )
    return str(uuid.uuid5(IMPORT_NAMESPACE, name))


@pytest.mark.parametrize("block_bytes", [8 << 20, 200])
def test_repeated_events_are_numbered_in_file_order_across_blocks(
    tmp_path, block_bytes
):
    # c1 appears as two traces; A by u1 at the same instant three times in all.
    traces = [
        _trace("c1", [_event("A", "u1"), _event("A", "u1"), _event("B", None)]),
        _trace("c2", [_event("A", "u1")]),
        _trace("c1", [_event("A", "u1")]),
    ]
    path = tmp_path / "repeats.xes"
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<log xes.version="1.0">\n'
        + "".join(traces)
        + "</log>\n",
        encoding="utf-8",
    )
    ids = read_xes(path, block_bytes=block_bytes).frame[s.EVENT_ID].to_list()
    assert ids == [
        _expected("c1", "A", "u1", 0),
        _expected("c1", "A", "u1", 1),
        _expected("c1", "B", None, 0),
        _expected("c2", "A", "u1", 0),
        _expected("c1", "A", "u1", 2),
    ]

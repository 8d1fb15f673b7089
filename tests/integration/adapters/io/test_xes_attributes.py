"""The uniform-layout path of XES attributes gives the text of the general path."""

from __future__ import annotations

import json

import pytest

import adapters.io.xes
import adapters.io.xes_attributes as xa
from adapters.io.xes import read_xes
from benchmarks.xes_ratios import write_synthetic_xes
from engine import schema as s
from tests.conftest import LOGS
from tests.integration.adapters.io.xes_files import write_log


@pytest.fixture
def uniform_blocks(monkeypatch):
    """Record, block by block, whether the uniform path read it."""
    hits = []
    columns, attributes = adapters.io.xes.uniform_columns, xa._uniform_attributes

    def columns_spy(*args):
        result = columns(*args)
        if result is None:
            hits.append(False)  # the block's events are not uniform
        return result

    def attributes_spy(*args):
        result = attributes(*args)
        hits.append(result is not None)  # False: its traces are not
        return result

    monkeypatch.setattr(adapters.io.xes, "uniform_columns", columns_spy)
    monkeypatch.setattr(xa, "_uniform_attributes", attributes_spy)
    return hits


def _general_only(monkeypatch):
    # As if no block had the uniform layout.
    monkeypatch.setattr(adapters.io.xes, "uniform_columns", lambda *_: None)


def _event(name: str, values: dict[str, tuple[str, str]]) -> str:
    lines = [
        f'      <string key="concept:name" value="{name}"/>\n',
        '      <date key="time:timestamp" value="2020-01-01T10:00:00.000+02:00"/>\n',
        *(
            f'      <{kind} key="{key}" value="{value}"/>\n'
            for key, (kind, value) in values.items()
        ),
    ]
    return "    <event>\n" + "".join(lines) + "    </event>\n"


def _trace(case: str, region: str, events: list[str]) -> str:
    return (
        f'    <string key="concept:name" value="{case}"/>\n'
        f'    <string key="region" value="{region}"/>\n' + "".join(events)
    )


# Every kind, with the values that leave the common path: an int that does not
# parse, a non-finite float, an upper-case boolean, strings to escape.
_ROWS = [
    {
        "zz": ("string", "plain"),
        "count": ("int", "12"),
        "ratio": ("float", "0.5000"),
        "ok": ("boolean", "true"),
    },
    {
        "zz": ("string", "say &quot;hi&quot;&#9;"),
        "count": ("int", "x1"),
        "ratio": ("float", "NaN"),
        "ok": ("boolean", "TRUE"),
    },
    {
        "zz": ("string", "back\\slash &amp; more"),
        "count": ("int", "-3"),
        "ratio": ("float", "1e3"),
        "ok": ("boolean", "false"),
    },
]
_EXPECTED = [
    {"case:region": "north", "count": 12, "ok": True, "ratio": 0.5, "zz": "plain"},
    {
        "case:region": "north",
        "count": "x1",
        "ok": True,
        "ratio": "NaN",
        "zz": 'say "hi"\t',
    },
    {
        "case:region": "south",
        "count": -3,
        "ok": False,
        "ratio": 1000.0,
        "zz": "back\\slash & more",
    },
]


def test_a_uniform_block_is_read_column_by_column_to_the_canonical_text(
    tmp_path, uniform_blocks
):
    path = tmp_path / "uniform.xes"
    write_log(
        path,
        [
            _trace("c1", "north", [_event("A", _ROWS[0]), _event("B", _ROWS[1])]),
            _trace("c2", "south", [_event("C", _ROWS[2])]),
        ],
    )
    got = read_xes(path).frame[s.ATTRIBUTES].to_list()
    assert uniform_blocks == [True]
    assert got == [
        json.dumps(e, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        for e in _EXPECTED
    ]


def test_a_block_with_a_missing_key_takes_the_general_path(tmp_path, uniform_blocks):
    path = tmp_path / "ragged.xes"
    second = {k: v for k, v in _ROWS[1].items() if k != "ratio"}
    write_log(
        path, [_trace("c1", "north", [_event("A", _ROWS[0]), _event("B", second)])]
    )
    got = read_xes(path).frame[s.ATTRIBUTES].to_list()
    assert uniform_blocks == [False]
    expected = {k: v for k, v in _EXPECTED[1].items() if k != "ratio"}
    assert [json.loads(g) for g in got] == [_EXPECTED[0], expected]


@pytest.mark.parametrize(
    "name",
    [
        "running-example.xes",
        "08_receipt.xes.gz",
        "helpdesk.xes.gz",
        "06_bpic2013_closed.xes.gz",
        "synthetic",
    ],
)
def test_both_paths_read_the_same_log(tmp_path, monkeypatch, uniform_blocks, name):
    if name == "synthetic":
        path = write_synthetic_xes(tmp_path / "synthetic.xes.gz", events=6000)
        block_bytes = 600_000  # several blocks
    else:
        path, block_bytes = LOGS / name, 8 << 20
    fast = read_xes(path, block_bytes=block_bytes).frame
    if name in ("synthetic", "helpdesk.xes.gz", "running-example.xes"):
        assert all(uniform_blocks)
    _general_only(monkeypatch)
    general = read_xes(path, block_bytes=block_bytes).frame
    assert fast.equals(general)

from __future__ import annotations

import warnings
from collections import Counter
from pathlib import Path

import pytest

from adapters.io.jsonl import read_jsonl
from adapters.io.mapping import load_activity_mapping
from adapters.io.ocel import read_ocel
from engine import schema as s
from engine.errors import ConfigError, ValidationError
from tests.conftest import LOGS

DATA = Path(__file__).resolve().parents[3] / "data" / "io"


def test_jsonl_reads_the_domain_layout():
    batch = read_jsonl(DATA / "events.jsonl")
    batch.raise_if_invalid()
    frame = batch.frame
    assert batch.source_rows.to_list() == [1, 3, 4]  # the blank line 2 is skipped
    first = frame.row(0, named=True)
    assert first[s.EVENT_ID] == "00000000-0000-4000-8000-000000000001"
    assert first[s.PARTICIPANTS] == [
        {"actor": "sp_cm", "organization": "SP", "role": "manager"},
        {"actor": "em_hr", "organization": "EM", "role": "specialist"},
    ]
    assert (first[s.WORKSTREAM], first[s.TZ_OFFSET], first[s.PHASE]) == (
        "contract",
        7200,
        "negotiation",
    )
    assert frame[s.ATTRIBUTES].to_list() == [
        None,
        '{"idea_id":"pilot","budget":1200.5,"approved":true}',
        '{"idea_id":"pilot"}',
    ]
    assert frame[s.PHASE].to_list() == ["negotiation", "commitment", "execution"]
    # the third event had no id: a deterministic one is made
    assert (
        read_jsonl(DATA / "events.jsonl").frame[s.EVENT_ID][2] == frame[s.EVENT_ID][2]
    )


def test_jsonl_bad_lines_are_located():
    batch = read_jsonl(DATA / "bad.jsonl")
    _, rejects = batch.split_valid()
    first_per_line = rejects.unique(subset=["line"], keep="first", maintain_order=True)
    assert first_per_line.select("line", "field", "reason").rows() == [
        (2, "line", "not valid JSON"),
        (3, "timestamp", "unparseable timestamp"),
        (4, "partnership_id", "wrong type: expected text, got an object or a list"),
        (
            5,
            "participants",
            "wrong type: expected a list of {actor, organization, role} objects",
        ),
        (6, "attributes", "wrong type: expected an object"),
        (
            7,
            "timestamp",
            "naive timestamp (no UTC offset): give a default zone (--timezone)",
        ),
        (
            8,
            "participants",
            "a participant role is not one of top_manager, manager, professional, specialist, facilitator, mediator, researcher, other",
        ),
        (9, "event_id", "not a UUID"),
        (11, "event_id", "duplicate event id in this input"),
        (12, "partnership_id", "empty"),
    ]
    assert rejects["json"][0].startswith(
        '{"partnership_id": "oh", "activity": "explore_expectations"'
    )
    with pytest.raises(ValidationError) as info:
        batch.raise_if_invalid()
    assert (info.value.line, info.value.field, info.value.reason) == (
        2,
        "line",
        "not valid JSON",
    )


def test_ocel_json_flattening_matches_pm4py():
    pm4py = pytest.importorskip("pm4py")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ocel = pm4py.read_ocel2_json(str(LOGS / "ocel20_example.jsonocel"))
    for object_type in ("Purchase Order", "Invoice", "Purchase Requisition"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs = pm4py.ocel_flattening(ocel, object_type)
        ours = read_ocel(
            LOGS / "ocel20_example.jsonocel", object_type=object_type
        ).frame
        assert ours.height == len(theirs)
        expected = Counter(
            zip(
                theirs["case:concept:name"],
                theirs["concept:name"],
                [
                    t.to_pydatetime()
                    for t in theirs["time:timestamp"].dt.tz_convert("UTC")
                ],
                strict=True,
            )
        )
        assert (
            Counter(ours.select(s.PARTNERSHIP_ID, s.ACTIVITY, s.TIMESTAMP).rows())
            == expected
        )


@pytest.mark.parametrize("name", ["ocel20_example.sqlite", "ocel20_example.xmlocel"])
def test_ocel_sqlite_and_xml_forms_give_the_same_events(name):
    json_form = read_ocel(
        LOGS / "ocel20_example.jsonocel", object_type="Purchase Order"
    ).frame
    other = read_ocel(
        LOGS / name, object_type="Purchase Order", timezone="Europe/Berlin"
    )
    other.raise_if_invalid()
    assert other.frame.select(s.EVENT_ID, s.PARTNERSHIP_ID, s.ACTIVITY).equals(
        json_form.select(s.EVENT_ID, s.PARTNERSHIP_ID, s.ACTIVITY)
    )
    assert other.frame[s.ATTRIBUTES].to_list() == json_form[s.ATTRIBUTES].to_list()
    # these forms store naive local times: without a zone they are errors
    with pytest.raises(ValidationError, match="naive"):
        read_ocel(LOGS / name, object_type="Purchase Order").raise_if_invalid()


def test_ocel_needs_a_known_object_type():
    with pytest.raises(
        ValidationError,
        match=r"--object-type \(Invoice, Payment, Purchase Order, Purchase Requisition\)",
    ):
        read_ocel(LOGS / "ocel20_example.jsonocel", object_type=None)
    with pytest.raises(ValidationError, match="no object type 'Truck'"):
        read_ocel(LOGS / "ocel20_example.jsonocel", object_type="Truck")


def test_ocel_bad_json(tmp_path):
    path = tmp_path / "bad.jsonocel"
    path.write_text('{"events": [\n{"id": 1,\n')
    with pytest.raises(ValidationError, match="not valid JSON") as info:
        read_ocel(path, object_type="x")
    assert info.value.line == 3
    path.write_text('{"objects": []}')
    with pytest.raises(ValidationError, match=r"not an OCEL 2\.0 JSON log"):
        read_ocel(path, object_type="x")


def test_activity_mapping_toml():
    assert load_activity_mapping(DATA / "mapping.toml") == {
        "Open ticket": "initiate_partnership",
        "Resolve": "resolve_conflict",
    }


def test_bad_mapping_toml_names_the_file(tmp_path):
    with pytest.raises(ConfigError, match=r"bad_mapping\.toml: not a valid TOML file"):
        load_activity_mapping(DATA / "bad_mapping.toml")
    empty = tmp_path / "empty.toml"
    empty.write_text("[other]\n")
    with pytest.raises(ConfigError, match=r"empty.toml: no \[activities\] table"):
        load_activity_mapping(empty)
    typed = tmp_path / "typed.toml"
    typed.write_text('[activities]\n"a" = 3\n')
    with pytest.raises(ConfigError, match="must map to a non-empty string"):
        load_activity_mapping(typed)
    with pytest.raises(ConfigError, match="cannot read"):
        load_activity_mapping(tmp_path / "missing.toml")

"""The store commands through click: init, append, log, stats, verify."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from cli.main import cli
from tests.conftest import make_event, update_behind_trigger


def run(store, *args, stdin=None):
    return CliRunner().invoke(cli, ["--store", str(store), *args], input=stdin)


def event_line(n, pid="p1", activity="explore_expectations", **fields):
    return make_event(n, pid, activity, day=n, **fields).model_dump_json()


@pytest.fixture
def store(tmp_path):
    path = tmp_path / "pm.db"
    assert run(path, "init").exit_code == 0
    return path


def test_init_is_idempotent_and_says_so(tmp_path):
    path = tmp_path / "pm.db"
    first = run(path, "init")
    assert first.exit_code == 0
    assert "initialized an empty event store" in first.output
    again = run(path, "init", "--format", "json")
    assert again.exit_code == 0
    assert json.loads(again.output) == {
        "store": str(path),
        "created": False,
        "events": 0,
    }


def test_missing_store_exits_2_naming_init(tmp_path):
    # NotFoundError maps to exit 2 (cli/errors.py): the user must run init first.
    result = run(tmp_path / "absent.db", "log")
    assert result.exit_code == 2
    assert "partnermine init" in result.output


def test_append_from_stdin_then_log_json(store):
    lines = [
        event_line(1, participants=(("ta", "EM", "top_manager"),)),
        "",
        event_line(2, "p2", "sign_agreement", attributes={"formal": True}),
        event_line(3, workstream="funding"),
    ]
    result = run(store, "append", "--format", "json", stdin="\n".join(lines))
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {
        "appended": 3,
        "duplicates": 0,
        "first_position": 1,
        "last_position": 3,
    }
    logged = run(store, "log", "--format", "json", "--partnership", "p1")
    assert logged.exit_code == 0
    events = json.loads(logged.output)
    assert [e["version"] for e in events] == [1, 2]
    first = events[0]
    assert set(first) == {
        "event_id",
        "partnership_id",
        "version",
        "position",
        "activity",
        "timestamp",
        "recorded_at",
        "phase",
        "actor",
        "organization",
        "participants",
        "workstream",
        "attributes",
        "schema_version",
        "content_hash",
        "hash",
    }
    assert first["timestamp"] == "2020-01-02T00:00:00.000000+00:00"
    assert first["phase"] == "negotiation"
    assert first["participants"] == [
        {"actor": "ta", "organization": "EM", "role": "top_manager"}
    ]
    everything = json.loads(run(store, "log", "--format", "json").output)
    assert everything[1]["attributes"] == {"formal": True}
    page = json.loads(
        run(
            store, "log", "--format", "json", "--from-position", "2", "--limit", "1"
        ).output
    )
    assert [e["position"] for e in page] == [2]


def test_append_file_with_expected_version(store, tmp_path):
    source = tmp_path / "events.jsonl"
    source.write_text(f"{event_line(1)}\n{event_line(2)}\n")
    ok = run(store, "append", str(source), "--expected-version", "0")
    assert ok.exit_code == 0, ok.output
    assert "appended" in ok.output
    retry = run(
        store, "append", str(source), "--expected-version", "0", "--format", "json"
    )
    assert retry.exit_code == 0
    assert json.loads(retry.output)["duplicates"] == 2
    source.write_text(f"{event_line(3)}\n")
    stale = run(store, "append", str(source), "--expected-version", "0")
    assert stale.exit_code == 3
    assert "expected version 0" in stale.output
    source.write_text(f"{event_line(4)}\n{event_line(5, 'p9')}\n")
    mixed = run(store, "append", str(source), "--expected-version", "2")
    assert mixed.exit_code == 2
    assert "one partnership" in mixed.output


def test_bad_lines_name_line_and_field(store, tmp_path):
    bad = json.loads(event_line(2))
    bad["timestamp"] = "2020-01-01T00:00:00"  # naive
    source = tmp_path / "bad.jsonl"
    source.write_text(f"{event_line(1)}\n{json.dumps(bad)}\n")
    result = run(store, "append", str(source))
    assert result.exit_code == 2
    assert f"{source}, line 2, field 'timestamp'" in result.output
    assert "timezone" in result.output
    not_json = run(store, "append", stdin=f"{event_line(1)}\n{{oops\n")
    assert not_json.exit_code == 2
    assert "<stdin>, line 2" in not_json.output
    assert json.loads(run(store, "stats", "--format", "json").output)["events"] == 0


def test_stats_json_schema_and_variants(store):
    lines = [
        event_line(1, "a", "initiate_partnership"),
        event_line(2, "a", "sign_agreement"),
        event_line(3, "b", "initiate_partnership"),
        event_line(4, "b", "sign_agreement"),
        event_line(5, "c", "sign_agreement"),
    ]
    assert run(store, "append", stdin="\n".join(lines)).exit_code == 0
    result = run(store, "stats", "--format", "json")
    assert result.exit_code == 0
    assert json.loads(result.output) == {
        "partnerships": 3,
        "events": 5,
        "activities": 2,
        "variants": 2,
        "start": "2020-01-02T00:00:00.000000+00:00",
        "end": "2020-01-06T00:00:00.000000+00:00",
    }
    table = run(store, "stats")
    assert table.exit_code == 0
    assert "variants" in table.output


def test_stats_of_an_empty_store(store):
    result = run(store, "stats", "--format", "json")
    assert json.loads(result.output)["start"] is None


def test_log_table_and_unknown_partnership(store):
    run(store, "append", stdin=event_line(1))
    table = run(store, "log")
    assert table.exit_code == 0
    assert "explore_expectations" in table.output
    missing = run(store, "log", "--partnership", "nobody")
    assert missing.exit_code == 2


def test_verify_ok_then_broken_chain_exits_1(store):
    run(store, "append", stdin="\n".join(event_line(n) for n in (1, 2, 3)))
    ok = run(store, "verify", "--format", "json")
    assert ok.exit_code == 0
    assert json.loads(ok.output)["ok"] is True
    update_behind_trigger(
        store,
        "events_no_update",
        ("UPDATE events SET timestamp_us = timestamp_us + 1 WHERE position = 2", ()),
    )
    broken = run(store, "verify")
    assert broken.exit_code == 1
    assert "partnership 'p1', version 2, position 2" in broken.output
    assert "00000000-0000-0000-0000-000000000002" in broken.output
    document = json.loads(run(store, "verify", "--format", "json").output)
    assert document["first_broken"]["reason"].startswith("content does not match")

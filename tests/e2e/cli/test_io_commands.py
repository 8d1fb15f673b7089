from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import io_commands
from cli.bootstrap import open_store
from cli.main import cli
from tests.conftest import LOGS

DATA = Path(__file__).resolve().parents[2] / "data" / "io"
TICKETS = [
    "--case",
    "ticket",
    "--activity",
    "step",
    "--timestamp",
    "when",
    "--resource",
    "who",
]


@pytest.fixture
def db(tmp_path) -> str:
    path = str(tmp_path / "store.db")
    result = CliRunner().invoke(cli, ["--store", path, "init"])
    assert result.exit_code == 0, result.output
    return path


def run(db: str, *args: str):
    return CliRunner().invoke(cli, ["--store", db, *args])


def snapshot(db: str):
    store = open_store(db)
    try:
        return store.read_all()
    finally:
        store.close()


def test_ingest_xes_then_again_is_a_noop(db):
    first = run(
        db, "ingest", str(LOGS / "running-example.xes"), "--format-output", "json"
    )
    assert first.exit_code == 0, first.output
    doc = json.loads(first.output)
    assert doc == {
        "source": str(LOGS / "running-example.xes"),
        "format": "xes",
        "events_read": 42,
        "imported": 42,
        "duplicates": 0,
        "rejected": 0,
        "partnerships": 6,
        "reject_file": None,
    }
    again = json.loads(
        run(
            db, "ingest", str(LOGS / "running-example.xes"), "--format-output", "json"
        ).output
    )
    assert (again["imported"], again["duplicates"]) == (0, 42)
    assert snapshot(db).height == 42


def test_ingest_table_output(db):
    result = run(
        db, "ingest", str(LOGS / "06_bpic2013_closed.xes.gz"), "--lifecycle-classifier"
    )
    assert result.exit_code == 0, result.output
    assert "imported      6660" in result.output
    assert "partnerships  1487" in result.output
    activities = set(snapshot(db)["concept:name"])
    assert "Accepted+In Progress" in activities


def test_invalid_input_leaves_the_store_as_it_was(db):
    assert run(db, "ingest", str(LOGS / "running-example.xes")).exit_code == 0
    before = snapshot(db)
    result = run(db, "ingest", str(DATA / "bad_rows.csv"), *TICKETS)
    assert result.exit_code == 2
    assert (
        f"error: {DATA / 'bad_rows.csv'}, row 2, field 'step': missing" in result.output
    )
    assert snapshot(db).equals(before)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("truncated.xes", "line 21: not well-formed XML"),
        ("not_xes.xes", "line 2, field 'log': not an XES file"),
        ("naive.xes", "line 9, field 'time:timestamp': naive timestamp"),
    ],
)
def test_bad_xes_exits_2_and_writes_nothing(db, name, message):
    result = run(db, "ingest", str(DATA / name))
    assert result.exit_code == 2
    assert message in result.output
    assert snapshot(db).height == 0


def test_reject_file_keeps_the_good_rows(db, tmp_path):
    rejects = tmp_path / "rejects.csv"
    result = run(
        db,
        "ingest",
        str(DATA / "bad_rows.csv"),
        *TICKETS,
        "--reject-file",
        str(rejects),
        "--format-output",
        "json",
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert (doc["imported"], doc["rejected"]) == (1, 4)
    with rejects.open() as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["row"], r["field"], r["reason"]) for r in rows] == [
        ("2", "step", "missing"),
        ("3", "ticket", "missing"),
        ("4", "when", "unparseable timestamp"),
        ("5", "when", "missing or unparseable"),
    ]
    assert rows[2]["when"] == "31/12/2021"
    assert snapshot(db).height == 1


def test_jsonl_reject_file_names_lines(db, tmp_path):
    rejects = tmp_path / "rejects.csv"
    result = run(db, "ingest", str(DATA / "bad.jsonl"), "--reject-file", str(rejects))
    assert result.exit_code == 0, result.output
    with rejects.open() as handle:
        rows = list(csv.DictReader(handle))
    assert rows[0]["line"] == "2"
    assert rows[0]["reason"] == "not valid JSON"
    assert snapshot(db).height == 2


def test_mapping_and_timezone(db):
    result = run(
        db,
        "ingest",
        str(DATA / "tickets.csv"),
        *TICKETS,
        "--mapping",
        str(DATA / "mapping.toml"),
        "--timezone",
        "Europe/Helsinki",
    )
    assert result.exit_code == 0, result.output
    frame = snapshot(db)
    assert frame["concept:name"].to_list() == [
        "initiate_partnership",
        "resolve_conflict",
        "initiate_partnership",
    ]
    assert frame["tz_offset_s"].to_list() == [10800] * 3


def test_bad_mapping_and_bad_zone_are_input_errors(db):
    bad = run(
        db,
        "ingest",
        str(DATA / "tickets.csv"),
        *TICKETS,
        "--mapping",
        str(DATA / "bad_mapping.toml"),
    )
    assert bad.exit_code == 2
    assert "bad_mapping.toml: not a valid TOML file" in bad.output
    zone = run(
        db, "ingest", str(DATA / "tickets.csv"), *TICKETS, "--timezone", "Mars/Olympus"
    )
    assert zone.exit_code == 2
    assert "unknown time zone 'Mars/Olympus'" in zone.output


def test_ocel_needs_object_type(db):
    missing = run(db, "ingest", str(LOGS / "ocel20_example.jsonocel"))
    assert missing.exit_code == 2
    assert "--object-type" in missing.output
    ok = run(
        db,
        "ingest",
        str(LOGS / "ocel20_example.jsonocel"),
        "--object-type",
        "Invoice",
        "--format-output",
        "json",
    )
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.output)["partnerships"] == 3


def test_unknown_suffix_needs_format(db, tmp_path):
    path = tmp_path / "events.txt"
    path.write_text((DATA / "events.jsonl").read_text())
    assert run(db, "ingest", str(path)).exit_code == 2
    assert run(db, "ingest", str(path), "--format", "jsonl").exit_code == 0


def test_missing_store_is_an_input_error(tmp_path):
    result = run(str(tmp_path / "none.db"), "ingest", str(LOGS / "running-example.xes"))
    assert result.exit_code == 2
    assert "partnermine init" in result.output


@pytest.mark.parametrize("suffix", ["xes", "xes.gz", "parquet", "csv", "jsonl"])
def test_export_then_ingest_elsewhere_round_trips(db, tmp_path, suffix):
    assert run(db, "ingest", str(DATA / "events.jsonl")).exit_code == 0
    assert run(db, "ingest", str(LOGS / "running-example.xes")).exit_code == 0
    out = tmp_path / f"out.{suffix}"
    result = run(db, "export", "--out", str(out), "--format-output", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["events"] == 45
    other = str(tmp_path / "other.db")
    assert run(other, "init").exit_code == 0
    imported = run(other, "ingest", str(out), "--format-output", "json")
    assert imported.exit_code == 0, imported.output
    assert json.loads(imported.output)["imported"] == 45
    ours, theirs = snapshot(db), snapshot(other)
    assert theirs["event_id"].to_list() == ours["event_id"].to_list()
    keep = [
        "case:concept:name",
        "concept:name",
        "time:timestamp",
        "tz_offset_s",
        "org:resource",
    ]
    assert theirs.select(keep).equals(ours.select(keep))


def test_export_filters(db, tmp_path):
    assert run(db, "ingest", str(LOGS / "running-example.xes")).exit_code == 0
    out = tmp_path / "some.jsonl"
    result = run(
        db,
        "export",
        "--out",
        str(out),
        "--partnership",
        "3",
        "--partnership",
        "1",
        "--start",
        "2011-01-01",
        "--end",
        "2011-01-08T00:00:00+00:00",
        "--format-output",
        "json",
    )
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert {e["partnership_id"] for e in lines} == {"3", "1"}
    assert all("2011-01-01" <= e["timestamp"][:10] < "2011-01-08" for e in lines)
    assert json.loads(result.output)["events"] == len(lines) > 0


def test_export_bad_bound_and_unknown_suffix(db, tmp_path):
    bad = run(
        db, "export", "--out", str(tmp_path / "x.jsonl"), "--start", "last tuesday"
    )
    assert bad.exit_code == 2
    unknown = run(db, "export", "--out", str(tmp_path / "x.txt"))
    assert unknown.exit_code == 2
    assert "--format" in unknown.output


class FakeTty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_only_on_a_tty(monkeypatch):
    path = LOGS / "helpdesk.xes.gz"
    monkeypatch.setattr(io_commands.sys, "stderr", io.StringIO())
    with io_commands.byte_progress(path) as callback:
        assert callback is None
    fake = FakeTty()
    monkeypatch.setattr(io_commands.sys, "stderr", fake)
    with io_commands.byte_progress(path) as callback:
        assert callback is not None
        callback(path.stat().st_size // 2)
        callback(path.stat().st_size)
    assert "reading helpdesk.xes.gz" in fake.getvalue()


def test_reject_file_with_nothing_to_reject(db, tmp_path):
    rejects = tmp_path / "rejects.csv"
    result = run(
        db,
        "ingest",
        str(DATA / "events.jsonl"),
        "--reject-file",
        str(rejects),
        "--format-output",
        "json",
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["rejected"] == 0
    assert rejects.read_text().splitlines() == ["line,field,reason,json"]

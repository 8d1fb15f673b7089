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


PEOPLE = ("Aino Virtanen", "Bjorn Lindqvist", "Chiara Esposito")


def write_people_log(path: Path) -> Path:
    anna, bjorn, chiara = PEOPLE
    rows = [
        {
            "partnership_id": "oh",
            "activity": "initiate_partnership",
            "timestamp": "2016-01-11T09:00:00+02:00",
            "actor": anna,
            "organization": "SP",
            "participants": [
                {"actor": anna, "organization": "SP", "role": "manager"},
                {"actor": bjorn, "organization": "EM", "role": "specialist"},
            ],
        },
        {
            "partnership_id": "oh",
            "activity": "agree_action_plan",
            "timestamp": "2016-09-01T14:00:00+03:00",
            "actor": chiara,
            "organization": "EM",
        },
    ]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def store_bytes(db: str) -> bytes:
    return b"".join(p.read_bytes() for p in Path(db).parent.glob(Path(db).name + "*"))


def stored_actors(db: str) -> tuple[list[str | None], list[str | None]]:
    frame = snapshot(db)
    participants = [
        p["actor"] for row in frame["participants"].to_list() for p in row or []
    ]
    return frame["org:resource"].to_list(), participants


def init_store(path: Path) -> str:
    result = CliRunner().invoke(cli, ["--store", str(path), "init"])
    assert result.exit_code == 0, result.output
    return str(path)


def test_ingest_pseudonymize_stores_no_names(tmp_path):
    from adapters.privacy import pseudonym_of

    log = write_people_log(tmp_path / "people.jsonl")
    key_text = "a pass phrase of thirty-two bytes"
    key_file = tmp_path / "pseudonym.key"
    key_file.write_text(key_text + "\n")
    plain, by_file, by_env = (init_store(tmp_path / f"{n}.db") for n in "abc")
    assert run(plain, "ingest", str(log)).exit_code == 0
    first = run(
        by_file,
        "ingest",
        str(log),
        "--pseudonymize",
        "--pseudonym-key-file",
        str(key_file),
    )
    assert first.exit_code == 0, first.output
    second = CliRunner().invoke(
        cli,
        ["--store", by_env, "ingest", str(log), "--pseudonymize"],
        env={"PARTNERMINE_PSEUDONYM_KEY": key_text},
    )
    assert second.exit_code == 0, second.output
    # control: a plain import stores the names, so the check below can fail
    assert all(name.encode() in store_bytes(plain) for name in PEOPLE)
    anna, bjorn, chiara = (pseudonym_of(n, key=key_text.encode()) for n in PEOPLE)
    assert stored_actors(by_file) == ([anna, chiara], [anna, bjorn])
    # same key, two imports: the same pseudonyms
    assert stored_actors(by_env) == stored_actors(by_file)
    for db in (by_file, by_env):
        raw = store_bytes(db)
        for name in PEOPLE:
            assert name.encode() not in raw
            assert name.split()[0].encode() not in raw
        assert key_text.encode() not in raw
    # a hex key is decoded; a different key gives other pseudonyms
    hex_key = bytes(range(16))
    other = init_store(tmp_path / "d.db")
    result = CliRunner().invoke(
        cli,
        ["--store", other, "ingest", str(log), "--pseudonymize"],
        env={"PARTNERMINE_PSEUDONYM_KEY": hex_key.hex()},
    )
    assert result.exit_code == 0, result.output
    assert stored_actors(other)[0][0] == pseudonym_of(PEOPLE[0], key=hex_key) != anna


def test_ingest_pseudonymize_without_a_usable_key_exits_2(db, tmp_path):
    log = write_people_log(tmp_path / "people.jsonl")
    no_env = {"PARTNERMINE_PSEUDONYM_KEY": None}
    missing = CliRunner().invoke(
        cli, ["--store", db, "ingest", str(log), "--pseudonymize"], env=no_env
    )
    assert missing.exit_code == 2
    assert "--pseudonymize needs a key" in missing.output
    assert "PARTNERMINE_PSEUDONYM_KEY" in missing.output
    short = CliRunner().invoke(
        cli,
        ["--store", db, "ingest", str(log), "--pseudonymize"],
        env={"PARTNERMINE_PSEUDONYM_KEY": "00ff00ff00ff00ff"},
    )
    assert short.exit_code == 2
    assert "has 8 bytes; it needs at least 16" in short.output
    key_file = tmp_path / "k"
    key_file.write_text("x" * 32)
    without_flag = run(db, "ingest", str(log), "--pseudonym-key-file", str(key_file))
    assert without_flag.exit_code == 2
    assert "only used with --pseudonymize" in without_flag.output
    assert snapshot(db).height == 0

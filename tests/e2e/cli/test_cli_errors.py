from __future__ import annotations

import json

from click.testing import CliRunner

from cli.errors import EXIT_FAILURE, EXIT_INPUT, exit_code_for
from cli.main import cli
from engine.errors import (
    ConcurrencyError,
    DuplicateEventError,
    IntegrityError,
    ValidationError,
)


def test_exit_code_table():
    assert exit_code_for(ValidationError("bad")) == EXIT_INPUT
    assert exit_code_for(DuplicateEventError("x")) == EXIT_INPUT
    assert exit_code_for(ConcurrencyError("p", 1, 2)) == EXIT_FAILURE
    assert exit_code_for(IntegrityError("broken")) == EXIT_FAILURE
    assert exit_code_for(OSError("disk")) == EXIT_FAILURE


def test_reused_event_id_with_other_content_exits_two(tmp_path):
    store = str(tmp_path / "s.db")
    runner = CliRunner()
    assert runner.invoke(cli, ["--store", store, "init"]).exit_code == 0
    event = {
        "event_id": "00000000-0000-0000-0000-000000000001",
        "partnership_id": "p",
        "activity": "initiate_partnership",
        "timestamp": "2020-01-01T00:00:00+00:00",
    }
    first = tmp_path / "a.jsonl"
    first.write_text(json.dumps(event) + "\n")
    assert runner.invoke(cli, ["--store", store, "append", str(first)]).exit_code == 0
    second = tmp_path / "b.jsonl"
    second.write_text(json.dumps({**event, "activity": "sign_agreement"}) + "\n")
    result = runner.invoke(cli, ["--store", store, "append", str(second)])
    assert result.exit_code == 2
    assert "already stored" in result.output


def test_help_lists_every_command():
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for name in ("init", "ingest", "check", "indicators", "watch", "verify"):
        assert name in result.output

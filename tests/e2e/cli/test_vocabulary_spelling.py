"""Hand-encoded logs spell the closed vocabularies loosely; the CLI accepts them.

Roles and phases are stored as DOMAIN.md spells them (``"Top Manager"`` ->
``top_manager``), and ``visibility`` / ``audience`` are read case-insensitively,
so a file written by hand loads and is judged like a canonical one.
"""

from __future__ import annotations

import json

from click.testing import CliRunner

from cli.main import cli


def _row(n: int, activity: str, day: str, parts, **extra) -> dict:
    return {
        "event_id": f"00000000-0000-4000-8000-{n:012d}",
        "partnership_id": "oh",
        "activity": activity,
        "timestamp": f"2020-{day}T09:00:00+02:00",
        "participants": [
            {"actor": a, "organization": o, "role": r} for a, o, r in parts
        ],
        **extra,
    }


def test_loose_spellings_load_and_count(tmp_path):
    rows = [
        _row(1, "initiate_partnership", "01-01", [("x", "EM", "Manager")]),
        _row(
            2,
            "propose_objective",
            "01-02",
            [("x", "EM", "Top Manager"), ("y", "SP", "top-manager")],
            phase="Negotiation",
            attributes={"objective_id": "o1", "visibility": "Private"},
        ),
    ]
    source = tmp_path / "loose.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in rows))
    store = str(tmp_path / "s.db")
    runner = CliRunner()
    assert runner.invoke(cli, ["--store", store, "init"]).exit_code == 0
    ingest = runner.invoke(cli, ["--store", store, "ingest", str(source)])
    assert ingest.exit_code == 0, ingest.output

    log = runner.invoke(cli, ["--store", store, "log", "--format", "json"])
    events = json.loads(log.output)
    roles = [p["role"] for e in events for p in e["participants"]]
    assert roles == ["manager", "top_manager", "top_manager"]
    assert events[1]["phase"] == "negotiation"

    check = runner.invoke(
        cli,
        [
            "--store",
            store,
            "check",
            "--format",
            "json",
            "--fail-on",
            "hidden_objective",
        ],
    )
    deviations = json.loads(check.output)["deviations"]
    assert [(d["rule"], d["evidence"]) for d in deviations] == [
        ("hidden_objective", [rows[1]["event_id"]])
    ]
    assert check.exit_code == 1


def test_an_unknown_role_is_still_rejected_with_its_line(tmp_path):
    source = tmp_path / "bad.jsonl"
    source.write_text(
        json.dumps(_row(1, "initiate_partnership", "01-01", [("x", "EM", "boss")]))
        + "\n"
    )
    store = str(tmp_path / "s.db")
    result = CliRunner().invoke(cli, ["--store", store, "ingest", str(source)])
    assert result.exit_code == 2
    assert "line 1" in result.output
    assert "role" in result.output

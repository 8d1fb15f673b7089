"""``partnermine simulate | scenario`` through the CLI (CliRunner)."""

from __future__ import annotations

import json

import polars as pl
from click.testing import CliRunner

from cli.main import cli
from engine import schema as s


def _run(store, *args):
    return CliRunner().invoke(cli, ["--store", str(store), *args])


def test_simulate_to_parquet_writes_events_and_truth(tmp_path):
    out = tmp_path / "sim"
    result = _run(
        tmp_path / "x.db",
        "simulate",
        "-n",
        "40",
        "--seed",
        "3",
        "--mix",
        "healthy=0.5,stalled=0.5",
        "--out",
        str(out),
        "--format",
        "json",
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    events = pl.read_parquet(out / "events.parquet")
    truth = pl.read_parquet(out / "truth_partnerships.parquet")
    deviations = pl.read_parquet(out / "truth_deviations.parquet")
    assert doc["events"] == events.height
    assert doc["deviations"] == deviations.height > 0
    assert doc["mix"] == {"healthy": 0.5, "stalled": 0.5}
    assert doc["out"] == str(out)
    assert doc["store"] is None
    assert truth["profile"].value_counts().sort("profile")["count"].to_list() == [
        20,
        20,
    ]
    assert set(deviations["rule"]) == {"stalled_idea_to_action"}
    assert events.schema == s.INPUT_SCHEMA
    assert not (tmp_path / "x.db").exists()


def test_simulate_into_the_store_is_idempotent(tmp_path):
    store = tmp_path / "p.db"
    first = _run(
        store,
        "simulate",
        "-n",
        "12",
        "--seed",
        "5",
        "--format",
        "json",
        "--truth",
        str(tmp_path / "truth"),
    )
    assert first.exit_code == 0, first.output
    doc = json.loads(first.output)
    assert doc["appended"] == doc["events"] > 0
    assert doc["store"] == str(store)
    assert (
        pl.read_parquet(tmp_path / "truth" / "truth_partnerships.parquet").height == 12
    )
    again = json.loads(
        _run(store, "simulate", "-n", "12", "--seed", "5", "--format", "json").output
    )
    assert (again["appended"], again["duplicates"]) == (0, doc["events"])


def test_scenario_into_the_store_and_to_parquet(tmp_path):
    store = tmp_path / "p.db"
    result = _run(store, "scenario", "oh-collaboration", "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["scenario"] == "oh-collaboration"
    assert doc["appended"] == doc["events"] == 15
    out = tmp_path / "uh"
    doc = json.loads(
        _run(
            store,
            "scenario",
            "urban-health-partnership",
            "--out",
            str(out),
            "--format",
            "json",
        ).output
    )
    events = pl.read_parquet(out / "events.parquet")
    assert doc["events"] == events.height
    assert events[s.PARTNERSHIP_ID].unique().to_list() == ["urban-health-partnership"]


def test_bad_options_exit_2_with_a_message(tmp_path):
    bad_mix = _run(
        tmp_path / "p.db",
        "simulate",
        "--mix",
        "healthy=1,bogus=1",
        "--out",
        str(tmp_path),
    )
    assert bad_mix.exit_code == 2
    assert "bogus" in bad_mix.output
    bad_name = _run(tmp_path / "p.db", "scenario", "nope")
    assert bad_name.exit_code == 2
    assert "oh-collaboration" in bad_name.output
    bad_count = _run(tmp_path / "p.db", "simulate", "-n", "0")
    assert bad_count.exit_code == 2


def test_table_output_is_readable(tmp_path):
    result = _run(
        tmp_path / "p.db", "simulate", "-n", "3", "--out", str(tmp_path / "o")
    )
    assert result.exit_code == 0, result.output
    assert "partnerships" in result.output
    assert "events" in result.output

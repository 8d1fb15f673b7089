from __future__ import annotations

import json
from datetime import UTC, datetime

import polars as pl
import pytest
from click.testing import CliRunner

from adapters.simulation import simulate_partnerships
from cli.bootstrap import open_store
from cli.main import cli
from engine.events import new_events_to_frame
from tests.unit.engine.test_indicators import LOG

SPEC_COLUMNS = {
    "partnership_id",
    "period",
    "workstream",
    "alignment_score",
    "mode",
    "status",
    "inclusiveness",
}


def _store(path, frame):
    store = open_store(str(path), create=True)
    store.append_frame(frame)
    store.close()
    return str(path)


@pytest.fixture
def small(tmp_path):
    return _store(tmp_path / "small.db", new_events_to_frame(LOG))


@pytest.fixture
def drifting(tmp_path):
    sim = simulate_partnerships(
        partnerships=6,
        mix={"healthy": 0.5, "drifting": 0.5},
        seed=5,
        start=datetime(2018, 1, 1, tzinfo=UTC),
    )
    return _store(tmp_path / "drift.db", sim.events)


def run(*args):
    return CliRunner().invoke(cli, list(args))


def test_indicators_table(small):
    result = run("--store", small, "indicators")
    assert result.exit_code == 0, result.output
    assert "alignment_score" in result.output
    assert "2020-01-31" in result.output


def test_indicators_periods_by_workstream_json(small):
    result = run(
        "--store",
        small,
        "indicators",
        "--periods",
        "I:2020-01-01..2020-03-31,II:2020-04-01..2020-12-31",
        "--by",
        "workstream",
        "--format",
        "json",
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert len(rows) == 3
    assert set(rows[0]) >= SPEC_COLUMNS
    assert "window_index" not in rows[0]
    contract = next(r for r in rows if r["workstream"] == "contract")
    assert contract["period"] == "I"
    assert contract["inclusiveness"] == 1.0


def test_indicators_by_stage_csv_and_parquet(small, tmp_path):
    result = run("--store", small, "indicators", "--by-stage", "--format", "csv")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0].startswith("partnership_id,period,workstream")
    out = tmp_path / "ind.parquet"
    result = run(
        "--store",
        small,
        "indicators",
        "--window",
        "60d",
        "--step",
        "20d",
        "--format",
        "parquet",
        "--out",
        str(out),
    )
    assert result.exit_code == 0, result.output
    frame = pl.read_parquet(out)
    assert frame["period"].to_list()[:2] == ["2020-01-01", "2020-01-21"]


@pytest.mark.parametrize(
    "args",
    [
        ["--periods", "I:2020-01-01"],
        ["--periods", "I:2020-01-01..2020-02-01", "--by-stage"],
        ["--window", "ninety"],
        ["--format", "parquet"],
    ],
)
def test_indicators_usage_errors(small, args):
    result = run("--store", small, "indicators", *args)
    assert result.exit_code == 2, result.output


def test_bad_config_is_an_input_error(small, tmp_path):
    config = tmp_path / "bad.toml"
    config.write_text("[thresholds]\naligned_min = 7\n")
    result = run("--store", small, "indicators", "--config", str(config))
    assert result.exit_code == 2
    assert "bad.toml" in result.output


def test_alerts_once_then_nothing_new(drifting, tmp_path):
    sink = tmp_path / "alerts.jsonl"
    first = run("--store", drifting, "alerts", "--format", "json", "--jsonl", str(sink))
    assert first.exit_code == 0, first.output
    alerts = json.loads(first.output)
    assert alerts
    assert set(alerts[0]) == {
        "event_id",
        "partnership_id",
        "signal",
        "window",
        "value",
        "baseline",
        "message",
    }
    assert [json.loads(x)["event_id"] for x in sink.read_text().splitlines()] == [
        a["event_id"] for a in alerts
    ]
    second = run(
        "--store", drifting, "alerts", "--format", "json", "--jsonl", str(sink)
    )
    assert json.loads(second.output) == []
    assert len(sink.read_text().splitlines()) == len(alerts)


def test_alerts_with_an_unreachable_webhook_exit_3_and_keep_the_alerts(
    drifting, tmp_path
):
    config = tmp_path / "fast.toml"
    config.write_text("[sinks]\nwebhook_retries = 1\nwebhook_backoff_s = 0.0\n")
    result = run(
        "--store",
        drifting,
        "alerts",
        "--config",
        str(config),
        "--webhook",
        "http://127.0.0.1:9/",
    )
    assert result.exit_code == 3
    assert "kept for the next run" in result.output


def test_watch_bounded_prints_alerts_and_checkpoints(drifting):
    result = run(
        "--store", drifting, "watch", "--interval", "0", "--max-iterations", "3"
    )
    assert result.exit_code == 0, result.output
    printed = [json.loads(line) for line in result.output.splitlines()]
    assert printed
    store = open_store(drifting)
    try:
        assert store.read_checkpoint("watch") == store.head_position()
        stored = store.to_frame().filter(pl.col("concept:name") == "alert_raised")
    finally:
        store.close()
    assert sorted(stored["event_id"]) == sorted(a["event_id"] for a in printed)

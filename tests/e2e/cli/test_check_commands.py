from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
from click.testing import CliRunner

from cli.bootstrap import open_store
from cli.main import cli
from engine.events import new_events_to_frame
from tests.conftest import make_event

TOPS = (("ta", "A", "top_manager"), ("tb", "B", "top_manager"))
TEAM = (("ma", "A", "manager"), ("mb", "B", "manager"))


def _healthy(pid: str, base: int) -> list:
    steps = [
        ("initiate_partnership", 0, TEAM, {}),
        ("define_values", 10, TEAM, {}),
        ("agree_action_plan", 20, TEAM, {"idea_id": "i1"}),
        ("start_action", 30, TEAM, {"idea_id": "i1"}),
        ("feedback_meeting", 60, TOPS, {}),
    ]
    return [
        make_event(base + i, pid, act, day=d, participants=parts, attributes=attrs)
        for i, (act, d, parts, attrs) in enumerate(steps)
    ]


@pytest.fixture
def store(tmp_path):
    """A SQLite store with a conformant p1 and a p2 that starts with execution."""
    path = tmp_path / "pm.db"
    events = [
        *_healthy("p1", 100),
        make_event(
            200,
            "p2",
            "start_action",
            day=0,
            participants=TEAM,
            attributes={"idea_id": "x"},
        ),
        *_healthy("p2", 300),
    ]
    db = open_store(str(path), create=True)
    try:
        db.append_frame(new_events_to_frame(events))
    finally:
        db.close()
    return str(path)


def _check(store: str, *args: str):
    return CliRunner().invoke(cli, ["--store", store, "check", *args])


def test_conformant_partnership_exits_zero(store):
    result = _check(store, "--partnership", "p1")
    assert result.exit_code == 0, result.output
    assert "No deviations in 1 partnership(s)." in result.output
    result = _check(store, "--partnership", "p1", "--format", "json")
    assert json.loads(result.output) == {"deviations": [], "fitness": None}


def test_deviations_exit_one_with_the_json_schema(store):
    result = _check(store, "--format", "json")
    assert result.exit_code == 1, result.output
    document = json.loads(result.output)
    assert set(document) == {"deviations", "fitness"}
    assert document["fitness"] is None
    (row,) = document["deviations"]
    assert set(row) == {
        "partnership_id",
        "rule",
        "severity",
        "time",
        "evidence",
        "message",
    }
    assert row["partnership_id"] == "p2"
    assert row["rule"] == "phase_order_violation"
    assert row["severity"] == "critical"
    assert row["time"].startswith("2020-01-01T00:00:00")
    assert row["evidence"] == ["00000000-0000-0000-0000-0000000000c8"]
    assert row["message"].startswith("Execution step start_action on 2020-01-01")


def test_table_lists_deviations_and_a_summary(store):
    result = _check(store)
    assert result.exit_code == 1
    assert "phase_order_violation" in result.output
    assert "1 deviation(s), 1 failing, in 1 of 2 partnership(s)." in result.output


def test_fail_on_only_counts_the_named_rules(store):
    assert _check(store, "--fail-on", "hidden_objective,commitment_loss").exit_code == 0
    assert _check(store, "--fail-on", " phase_order_violation ").exit_code == 1


@pytest.mark.parametrize("value", ["no_such_rule", "phase_order_violation,nope", ","])
def test_unknown_fail_on_rules_exit_two(store, value):
    result = _check(store, "--fail-on", value)
    assert result.exit_code == 2
    assert "unknown rule" in result.output


def test_rules_file_overrides_thresholds(store, tmp_path):
    rules = tmp_path / "rules.toml"
    rules.write_text("[thresholds]\nfeedback_gap_days = 20\n")
    result = _check(
        store, "--rules", str(rules), "--partnership", "p1", "--format", "json"
    )
    assert result.exit_code == 1
    assert {r["rule"] for r in json.loads(result.output)["deviations"]} == {
        "missing_top_manager_feedback"
    }


@pytest.mark.parametrize(
    "text",
    ["[thresholds]\nstall_days = -1\n", "[thresholds]\nnope = 1\n", "not toml ["],
)
def test_bad_rules_file_exits_two_naming_the_file(store, tmp_path, text):
    rules = tmp_path / "bad.toml"
    rules.write_text(text)
    result = _check(store, "--rules", str(rules))
    assert result.exit_code == 2
    assert "bad.toml" in result.output


def test_missing_rules_file_and_unknown_partnership_exit_two(store, tmp_path):
    assert _check(store, "--rules", str(tmp_path / "none.toml")).exit_code == 2
    result = _check(store, "--partnership", "p9")
    assert result.exit_code == 2
    assert "p9" in result.output


def test_junit_has_one_testcase_per_partnership(store, tmp_path):
    out = tmp_path / "report.xml"
    result = _check(store, "--format", "junit", "--out", str(out))
    assert result.exit_code == 1
    assert result.output == ""
    root = ET.parse(out).getroot()
    cases = {c.get("name"): c for c in root.iter("testcase")}
    assert sorted(cases) == ["p1", "p2"]
    assert cases["p1"].find("failure") is None
    failure = cases["p2"].find("failure")
    assert failure is not None
    assert "phase_order_violation" in failure.get("message")
    suite = root.find("testsuite")
    assert (suite.get("tests"), suite.get("failures")) == ("2", "1")


def test_junit_reports_non_failing_deviations_as_output(store):
    result = _check(store, "--format", "junit", "--fail-on", "hidden_objective")
    assert result.exit_code == 0
    root = ET.fromstring(result.output.encode())
    (case,) = [c for c in root.iter("testcase") if c.get("name") == "p2"]
    assert case.find("failure") is None
    assert "phase_order_violation" in case.find("system-out").text


def test_min_fitness_out_of_range_is_a_usage_error(store):
    assert _check(store, "--min-fitness", "1.5").exit_code == 2


def test_fitness_per_partnership_and_min_fitness_failures(store):
    result = _check(store, "--format", "json", "--fail-on", "hidden_objective")
    assert json.loads(result.output)["fitness"] is None
    result = _check(
        store, "--format", "json", "--min-fitness", "0", "--fail-on", "hidden_objective"
    )
    assert result.exit_code == 0, result.output
    fitness = {
        f["partnership_id"]: f["fitness"] for f in json.loads(result.output)["fitness"]
    }
    assert sorted(fitness) == ["p1", "p2"]
    assert all(0 <= v <= 1 for v in fitness.values())
    # p2 starts with execution: it fits the reference lifecycle worse than p1
    assert fitness["p2"] < fitness["p1"]
    threshold = (fitness["p1"] + fitness["p2"]) / 2
    result = _check(store, "--format", "json", "--min-fitness", str(threshold))
    assert result.exit_code == 1
    low = [
        d for d in json.loads(result.output)["deviations"] if d["rule"] == "low_fitness"
    ]
    assert [d["partnership_id"] for d in low] == ["p2"]
    assert low[0]["evidence"] == []
    assert low[0]["time"] is None
    table = _check(store, "--min-fitness", str(threshold), "--fail-on", "low_fitness")
    assert table.exit_code == 1
    assert "Fitness of 2 partnership(s)" in table.output


def test_model_file_is_used_for_fitness(store, tmp_path):
    from adapters.pm4py.models import load_reference_model

    model = tmp_path / "reference.pnml"
    load_reference_model().write_model(model)
    result = _check(
        store,
        "--model",
        str(model),
        "--format",
        "json",
        "--fail-on",
        "hidden_objective",
    )
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.output)["fitness"]) == 2
    broken = tmp_path / "broken.pnml"
    broken.write_text("<pnml><net>")
    assert _check(store, "--model", str(broken)).exit_code == 2
    assert _check(store, "--model", str(tmp_path / "none.pnml")).exit_code == 2


@pytest.mark.parametrize("terminal", [True, False])
def test_long_steps_are_announced_on_stderr_only_to_a_terminal(
    store, monkeypatch, terminal
):
    monkeypatch.setattr("cli.output.stderr_is_terminal", lambda: terminal)
    runner = CliRunner()
    checked = runner.invoke(cli, ["--store", store, "check", "--format", "json"])
    computed = runner.invoke(cli, ["--store", store, "indicators", "--format", "json"])
    assert checked.exit_code == 1, checked.output
    assert computed.exit_code == 0, computed.output
    # stdout stays the document a script parses, whatever stderr shows.
    assert json.loads(checked.stdout)["deviations"]
    assert json.loads(computed.stdout)
    announced = [
        (checked, "reading the log... done"),
        (checked, "checking 7 rules over 11 events... done"),
        (computed, "computing the indicators of 11 events... done"),
    ]
    for result, line in announced:
        assert (line in result.stderr) is terminal, result.stderr


def test_a_step_that_fails_ends_its_line_before_the_error(monkeypatch, capsys):
    from cli import output

    monkeypatch.setattr(output, "stderr_is_terminal", lambda: True)
    with pytest.raises(ValueError, match="broken"), output.report_progress("reading"):
        raise ValueError("broken")  # noqa: EM101
    assert capsys.readouterr().err == "reading... failed\n"

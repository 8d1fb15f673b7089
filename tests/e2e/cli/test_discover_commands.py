from __future__ import annotations

import importlib.util
import json
import shutil

import pytest
from click.testing import CliRunner

from cli.main import cli
from engine.dfg import discover_dfg
from engine.events import new_events_to_frame
from engine.memory_store import MemoryEventStore
from tests.conftest import TickingClock, make_event

LIFECYCLE = [
    "initiate_partnership",
    "explore_expectations",
    "feedback_meeting",
    "define_values",
    "agree_action_plan",
    "start_action",
    "report_progress",
    "negotiate_terms",
]


def events():
    out, n = [], 0
    for pid, trace in {
        "p1": LIFECYCLE,
        "p2": LIFECYCLE[:6],
        "p3": ["start_action", "initiate_partnership", "sign_agreement"],
    }.items():
        for day, activity in enumerate(trace):
            n += 1
            out.append(make_event(n, pid, activity, day=day * 10))
    return out


@pytest.fixture
def store(tmp_path, monkeypatch):
    """A SQLite store when that adapter exists, else the in-memory reference store."""
    path = tmp_path / "pm.db"
    if importlib.util.find_spec("adapters.storage.sqlite") is not None:
        from cli.bootstrap import open_store

        db = open_store(str(path), create=True)
        try:
            db.append_frame(new_events_to_frame(events()))
        finally:
            db.close()
        return str(path)
    memory = MemoryEventStore(clock=TickingClock())
    memory.append_frame(new_events_to_frame(events()))
    memory.close = lambda: None  # the fake outlives one command
    monkeypatch.setattr("cli.discover_commands.open_store", lambda url, **kw: memory)
    return str(path)


def run(store, *args):
    return CliRunner().invoke(cli, ["--store", store, "discover", *args])


def frame_of_store(store):
    memory = MemoryEventStore(clock=TickingClock())
    memory.append_frame(new_events_to_frame(events()))
    return memory.to_frame()


def test_dfg_json_has_the_documented_schema_and_equals_the_engine(store, tmp_path):
    out = tmp_path / "dfg.json"
    result = run(store, "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "wrote" in result.output
    document = json.loads(out.read_text())
    assert set(document) == {"edges", "start_activities", "end_activities"}
    assert set(document["edges"][0]) == {
        "source",
        "target",
        "count",
        "mean_seconds",
        "median_seconds",
    }
    assert document == discover_dfg(frame_of_store(store).lazy()).to_dict()
    assert document["start_activities"] == {
        "initiate_partnership": 2,
        "start_action": 1,
    }


def test_repeated_partnership_option_selects_a_set(store, tmp_path):
    out = tmp_path / "dfg.json"
    result = run(store, "--partnership", "p2", "--partnership", "p3", "--out", str(out))
    assert result.exit_code == 0, result.output
    document = json.loads(out.read_text())
    assert document["start_activities"] == {
        "initiate_partnership": 1,
        "start_action": 1,
    }
    assert sum(e["count"] for e in document["edges"]) == 5 + 2


def test_phases_json_has_stage_edges_and_time_in_stage(store, tmp_path):
    out = tmp_path / "phases.json"
    result = run(
        store, "--algorithm", "phases", "--partnership", "p1", "--out", str(out)
    )
    assert result.exit_code == 0, result.output
    document = json.loads(out.read_text())
    pairs = {(e["source"], e["target"]): e["count"] for e in document["edges"]}
    assert pairs == {
        ("negotiation", "commitment"): 1,
        ("commitment", "execution"): 1,
        ("execution", "negotiation"): 1,
    }
    stages = {(r["stage"], r["runs"]) for r in document["time_in_stage"]}
    assert stages == {("negotiation", 2), ("commitment", 1), ("execution", 1)}


@pytest.mark.parametrize(
    ("algorithm", "suffix"),
    [
        ("inductive", ".pnml"),
        ("inductive", ".bpmn"),
        ("heuristics", ".pnml"),
        ("heuristics", ".json"),
    ],
)
def test_pm4py_models_are_written_and_readable(store, tmp_path, algorithm, suffix):
    out = tmp_path / f"model{suffix}"
    result = run(store, "--algorithm", algorithm, "--noise", "0.1", "--out", str(out))
    assert result.exit_code == 0, result.output
    if suffix == ".json":
        assert json.loads(out.read_text())["transitions"]
    else:
        from adapters.pm4py.models import read_model

        labels = {t.label for t in read_model(out).net.transitions} - {None}
        assert "start_action" in labels


def test_dot_text_output_needs_no_graphviz(store, tmp_path):
    out = tmp_path / "dfg.dot"
    assert run(store, "--out", str(out)).exit_code == 0
    assert out.read_text().startswith('digraph "DFG"')


def test_picture_without_dot_exits_three_and_keeps_the_dot_text(
    store, tmp_path, monkeypatch
):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    out = tmp_path / "dfg.svg"
    result = run(store, "--out", str(out))
    assert result.exit_code == 3
    assert "Graphviz `dot` was not found" in result.output
    assert (tmp_path / "dfg.dot").exists()
    assert not out.exists()


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot is not installed")
@pytest.mark.parametrize("algorithm", ["dfg", "phases", "inductive"])
def test_pictures_with_dot(store, tmp_path, algorithm):
    out = tmp_path / "picture.svg"
    result = run(store, "--algorithm", algorithm, "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "<svg" in out.read_text()


@pytest.mark.parametrize(
    "args",
    [
        ["--out", "x.pnml"],
        ["--algorithm", "inductive", "--out", "x.txt"],
        ["--noise", "0.2", "--out", "x.json"],
        ["--algorithm", "heuristics", "--noise", "2", "--out", "x.pnml"],
        ["--algorithm", "alpha", "--out", "x.json"],
    ],
)
def test_usage_errors_exit_two(store, tmp_path, args):
    result = run(store, *args)
    assert result.exit_code == 2, result.output


def test_unknown_partnership_exits_two(store, tmp_path):
    result = run(store, "--partnership", "p9", "--out", str(tmp_path / "x.json"))
    assert result.exit_code == 2
    assert "p9" in result.output


def test_missing_store_exits_two(tmp_path):
    result = CliRunner().invoke(
        cli,
        [
            "--store",
            str(tmp_path / "none.db"),
            "discover",
            "--out",
            str(tmp_path / "x.json"),
        ],
    )
    assert result.exit_code == 2
    assert "partnermine init" in result.output

from __future__ import annotations

import json
import shutil
from typing import TYPE_CHECKING

import pytest

from adapters.models import REFERENCE_LIFECYCLE_PNML
from adapters.pm4py.discovery import (
    Pm4pyDiscoverer,
    discover_heuristics_model,
    discover_inductive_model,
)
from adapters.pm4py.models import (
    build_reference_net,
    load_reference_model,
    read_model,
    summarize_net,
)
from adapters.pm4py.render import dfg_to_dot, model_to_dot, render_dot
from engine.dfg import discover_dfg
from engine.errors import AdapterError, NotFoundError, ValidationError
from engine.models import REFERENCE_LIFECYCLE
from tests.integration.adapters.pm4py.conftest import read_log

if TYPE_CHECKING:
    from engine.ports import ModelDiscoverer


def structure(model):
    summary = summarize_net(model)
    return (
        summary["places"],
        summary["transitions"],
        summary["arcs"],
        summary["initial_marking"],
        summary["final_marking"],
    )


def test_shipped_pnml_is_the_reference_lifecycle_built_from_engine_models():
    assert REFERENCE_LIFECYCLE_PNML.exists()
    assert structure(load_reference_model()) == structure(build_reference_net())
    labels = {t["label"] for t in summarize_net(load_reference_model())["transitions"]}
    expected = {
        a for acts in REFERENCE_LIFECYCLE.stage_activities.values() for a in acts
    }
    assert labels - {None} == expected | set(REFERENCE_LIFECYCLE.any_stage_activities)


@pytest.mark.parametrize("algorithm", ["inductive", "heuristics"])
@pytest.mark.parametrize("suffix", [".pnml", ".bpmn"])
def test_discovered_model_round_trips_through_files(tmp_path, algorithm, suffix):
    _, frame = read_log("running-example.xes")
    discoverer: ModelDiscoverer = Pm4pyDiscoverer()
    model = discoverer.discover_model(frame, algorithm=algorithm, noise_threshold=0.2)
    path = tmp_path / f"model{suffix}"
    model.write_model(path)
    again = read_model(path)
    original = {t["label"] for t in summarize_net(model)["transitions"]} - {None}
    assert {t["label"] for t in summarize_net(again)["transitions"]} - {
        None
    } == original
    assert original == set(frame["concept:name"].unique())


def test_noise_threshold_simplifies_the_heuristics_net():
    _, frame = read_log("08_receipt.xes.gz")
    loose = discover_heuristics_model(frame, noise_threshold=0.0)
    strict = discover_heuristics_model(frame, noise_threshold=0.99)
    assert len(strict.net.arcs) < len(loose.net.arcs)


def test_inductive_json_summary_holds_the_process_tree(tmp_path):
    _, frame = read_log("running-example.xes")
    path = tmp_path / "model.json"
    discover_inductive_model(frame).write_model(path)
    document = json.loads(path.read_text())
    assert document["kind"] == "process_tree"
    assert "register request" in document["process_tree"]
    assert document["final_marking"]


def test_bad_inputs_raise_typed_errors(tmp_path):
    _, frame = read_log("running-example.xes")
    with pytest.raises(ValidationError, match="outside"):
        discover_inductive_model(frame, noise_threshold=1.5)
    with pytest.raises(ValidationError, match="no events"):
        discover_inductive_model(frame.head(0))
    with pytest.raises(ValidationError, match="unknown discovery algorithm"):
        Pm4pyDiscoverer().discover_model(frame, algorithm="alpha")
    with pytest.raises(NotFoundError):
        read_model(tmp_path / "missing.pnml")
    broken = tmp_path / "broken.pnml"
    broken.write_text("<pnml><net>")
    with pytest.raises(ValidationError, match=r"broken\.pnml"):
        read_model(broken)
    with pytest.raises(ValidationError, match="unknown model format"):
        build_reference_net().write_model(tmp_path / "model.txt")


def test_render_without_dot_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    _, frame = read_log("running-example.xes")
    with pytest.raises(AdapterError, match="Graphviz `dot` was not found"):
        render_dot(dfg_to_dot(discover_dfg(frame.lazy())), tmp_path / "dfg.svg")
    with pytest.raises(ValidationError, match="picture format"):
        render_dot("digraph {}", tmp_path / "dfg.gif")


def test_model_dot_text_names_the_activities():
    assert "start_action" in model_to_dot(load_reference_model())
    _, frame = read_log("running-example.xes")
    assert "register request" in model_to_dot(discover_inductive_model(frame))


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot is not installed")
@pytest.mark.parametrize("suffix", [".svg", ".png"])
def test_pictures_are_rendered_with_dot(tmp_path, suffix):
    _, frame = read_log("running-example.xes")
    render_dot(dfg_to_dot(discover_dfg(frame.lazy())), tmp_path / f"dfg{suffix}")
    load_reference_model().write_model(tmp_path / f"net{suffix}")
    assert (tmp_path / f"dfg{suffix}").stat().st_size > 0
    assert (tmp_path / f"net{suffix}").stat().st_size > 0

from __future__ import annotations

import warnings
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pm4py
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.pm4py.conformance import (
    Pm4pyConformanceChecker,
    compute_fitness,
    summarize_fitness,
)
from adapters.pm4py.discovery import discover_inductive_model
from adapters.pm4py.models import build_reference_net
from engine import schema as s
from engine.errors import AdapterError, ValidationError

if TYPE_CHECKING:
    from engine.ports import ConformanceChecker


def frame_of(traces: dict[str, list[str]]) -> pl.DataFrame:
    rows = [
        (case, activity, datetime(2020, 1, 1, tzinfo=UTC) + timedelta(days=i))
        for case, trace in traces.items()
        for i, activity in enumerate(trace)
    ]
    return pl.DataFrame(
        rows, schema=[s.PARTNERSHIP_ID, s.ACTIVITY, s.TIMESTAMP], orient="row"
    )


def pm4py_trace_results(dataframe, model, *, method):
    log = pm4py.convert_to_event_log(dataframe)
    net, im, fm = model.net, model.initial_marking, model.final_marking
    if method == "token":
        results = pm4py.conformance_diagnostics_token_based_replay(log, net, im, fm)
        key = "trace_fitness"
    else:
        with warnings.catch_warnings():  # numpy.matrix inside pm4py's soundness check
            warnings.simplefilter("ignore", PendingDeprecationWarning)
            results = pm4py.conformance_diagnostics_alignments(
                log, net, im, fm, multi_processing=False
            )
        key = "fitness"
    return {
        t.attributes["concept:name"]: r[key] for t, r in zip(log, results, strict=True)
    }


def test_token_fitness_per_partnership_identical_to_pm4py(real_log):
    dataframe, frame = real_log
    model = discover_inductive_model(frame)
    ours = compute_fitness(frame, model=model)
    assert ours.height == frame[s.PARTNERSHIP_ID].n_unique()
    expected = pm4py_trace_results(dataframe.copy(), model, method="token")
    assert dict(ours.select(s.PARTNERSHIP_ID, "fitness").iter_rows()) == expected


def test_log_level_token_fitness_equals_pm4py(real_log):
    dataframe, frame = real_log
    model = discover_inductive_model(frame, noise_threshold=0.2)
    expected = pm4py.fitness_token_based_replay(
        dataframe.copy(), model.net, model.initial_marking, model.final_marking
    )
    got = summarize_fitness(compute_fitness(frame, model=model))
    assert got["log_fitness"] == expected["log_fitness"]
    assert got["perc_fit_traces"] == expected["perc_fit_traces"]
    assert got["average_trace_fitness"] == pytest.approx(
        expected["average_trace_fitness"], rel=1e-12
    )


def test_alignment_fitness_identical_to_pm4py_on_running_example():
    from tests.integration.adapters.pm4py.conftest import read_log

    dataframe, frame = read_log("running-example.xes")
    model = discover_inductive_model(frame, noise_threshold=0.3)
    ours = compute_fitness(frame, model=model, method="alignments")
    expected = pm4py_trace_results(dataframe.copy(), model, method="alignments")
    assert dict(ours.select(s.PARTNERSHIP_ID, "fitness").iter_rows()) == expected
    assert set(ours.columns) == {
        s.PARTNERSHIP_ID,
        "variant_id",
        "fitness",
        "is_fit",
        "cost",
    }


def test_reference_lifecycle_is_the_default_model():
    frame = frame_of(
        {
            "ok": [
                "initiate_partnership",
                "feedback_meeting",
                "sign_agreement",
                "start_action",
                "report_progress",
                "negotiate_terms",
            ],
            "same": [
                "initiate_partnership",
                "feedback_meeting",
                "sign_agreement",
                "start_action",
                "report_progress",
                "negotiate_terms",
            ],
            "skips_commitment": ["initiate_partnership", "start_action"],
            "no_negotiation": ["define_values", "start_action"],
            "ongoing": ["initiate_partnership", "explore_expectations"],
        }
    )
    for method in ("token", "alignments"):
        result = compute_fitness(frame, method=method)
        fit = dict(result.select(s.PARTNERSHIP_ID, "is_fit").iter_rows())
        assert fit == {
            "ok": True,
            "same": True,
            "ongoing": True,
            "skips_commitment": False,
            "no_negotiation": False,
        }
    variants = dict(result.select(s.PARTNERSHIP_ID, "variant_id").iter_rows())
    assert variants["ok"] == variants["same"] == 0


def test_checker_implements_the_port_and_rejects_unknown_method():
    checker: ConformanceChecker = Pm4pyConformanceChecker()
    frame = frame_of({"p": ["initiate_partnership"]})
    assert checker.check_fitness(frame, model=build_reference_net())[
        "is_fit"
    ].to_list() == [True]
    with pytest.raises(ValidationError, match="unknown fitness method"):
        checker.check_fitness(frame, method="magic")


def test_non_pm4py_model_is_refused():
    class Other:
        kind = "other"

        def write_model(self, path):
            raise NotImplementedError

    with pytest.raises(AdapterError, match="Pm4pyModel"):
        compute_fitness(frame_of({"p": ["initiate_partnership"]}), model=Other())


def test_native_replay_equals_pm4py_replay_on_an_unfitting_heuristics_net(real_log):
    from adapters.pm4py.discovery import discover_heuristics_model

    _, frame = real_log
    model = discover_heuristics_model(frame, noise_threshold=0.9)
    native = compute_fitness(frame, model=model)
    assert native.equals(compute_fitness(frame, model=model, replayer="pm4py"))
    assert not native["is_fit"].all()


CANONICAL = [*s.ACTIVITY_STAGE, "unknown_activity"]


@settings(max_examples=15, deadline=None)
@given(
    st.lists(
        st.lists(st.sampled_from(CANONICAL), min_size=1, max_size=8),
        min_size=1,
        max_size=6,
    )
)
def test_native_replay_equals_pm4py_on_random_traces_of_the_reference(traces):
    frame = frame_of({f"p{i}": trace for i, trace in enumerate(traces)})
    model = build_reference_net()
    native = compute_fitness(frame, model=model)
    assert native.equals(compute_fitness(frame, model=model, replayer="pm4py"))


def test_lockstep_and_small_log_replays_agree_with_pm4py(real_log, monkeypatch):
    import adapters.pm4py.replay as replay
    from adapters.pm4py.discovery import discover_heuristics_model

    _, frame = real_log
    model = discover_heuristics_model(frame, noise_threshold=0.9)
    expected = compute_fitness(frame, model=model, replayer="pm4py")
    assert compute_fitness(frame, model=model).equals(expected)  # walked one by one
    monkeypatch.setattr(replay, "SMALL_REPLAY_EVENTS", 0)  # polars lockstep
    assert compute_fitness(frame, model=model).equals(expected)

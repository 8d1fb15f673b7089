"""Token-replay fitness: partnermine vs pm4py.fitness_token_based_replay, same group.

Real logs (model: inductive miner on the log) and simulated partnerships
(model: the shipped reference lifecycle). Each benchmark checks that the
log-level figures equal pm4py's. Run:
``.venv/bin/python -m pytest benchmarks/test_fitness.py -p no:cacheprovider``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache

import pytest

from adapters.pm4py.conformance import compute_fitness, summarize_fitness
from benchmarks.discovery_ratios import LOGS, read_real, to_pm4py_strings
from engine import schema as s

CASES = [
    pytest.param("08_receipt.xes.gz", id="receipt"),
    pytest.param("helpdesk.xes.gz", id="helpdesk"),
    pytest.param("06_bpic2013_closed.xes.gz", id="bpic2013"),
    pytest.param(2_000, id="simulated-2e3"),
]


@cache
def workload(case):
    """Return (frame, pm4py dataframe, model) of a real log or a simulation."""
    if isinstance(case, int):
        from adapters.pm4py.models import load_reference_model
        from adapters.simulation import simulate_partnerships

        log = simulate_partnerships(
            partnerships=case, seed=7, start=datetime(2015, 1, 1, tzinfo=UTC)
        )
        frame = log.events.select(s.PARTNERSHIP_ID, s.ACTIVITY, s.TIMESTAMP)
        return frame, to_pm4py_strings(frame), load_reference_model()
    from adapters.pm4py.discovery import discover_inductive_model

    if not (LOGS / case).exists():
        pytest.skip(f"{case} is not available")
    df, frame = read_real(case)
    return frame, df, discover_inductive_model(frame)


def pm4py_fitness(df, model):
    import pm4py

    return pm4py.fitness_token_based_replay(
        df.copy(), model.net, model.initial_marking, model.final_marking
    )


@pytest.mark.parametrize("case", CASES)
def test_token_fitness_partnermine(benchmark, case):
    frame, df, model = workload(case)
    benchmark.group = f"fitness-{case}"
    result = benchmark.pedantic(
        lambda: compute_fitness(frame, model=model), rounds=3, iterations=1
    )
    summary, expected = summarize_fitness(result), pm4py_fitness(df, model)
    assert summary["log_fitness"] == expected["log_fitness"]
    assert summary["perc_fit_traces"] == expected["perc_fit_traces"]


@pytest.mark.parametrize("case", CASES)
def test_token_fitness_pm4py(benchmark, case):
    _, df, model = workload(case)
    benchmark.group = f"fitness-{case}"
    result = benchmark.pedantic(
        lambda: pm4py_fitness(df, model), rounds=1, iterations=1
    )
    assert 0.0 <= result["log_fitness"] <= 1.0

"""pytest-benchmark: append throughput of every store (bulk, single, N writers).

The same measurements as ``benchmarks/append_ratios.py``, grouped so that
pytest-benchmark prints the stores side by side. Each benchmark also checks
its result (everything appended, chains verify).
"""

from __future__ import annotations

import itertools
import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import pytest

from adapters.clock import SystemClock
from benchmarks.append_ratios import append_singles
from benchmarks.data import generate_input_frame
from benchmarks.stores import available_store_kinds, fresh_store_url
from cli.bootstrap import open_store
from engine.memory_store import MemoryEventStore

KINDS = available_store_kinds()
SEEDS = itertools.count(100)


@pytest.fixture(params=KINDS)
def store(request):
    if request.param == "memory":
        opened = MemoryEventStore(clock=SystemClock())
        yield opened
        opened.close()
        return
    with fresh_store_url(request.param) as url:
        opened = open_store(url)
        yield opened
        opened.close()


@pytest.mark.parametrize("n_events", [10_000, 100_000], ids=["1e4", "1e5"])
def test_bulk_append(benchmark, store, n_events):
    benchmark.group = f"bulk append {n_events:,}"

    def fresh_frame():
        frame = generate_input_frame(
            n_events=n_events, n_partnerships=500, seed=next(SEEDS)
        )
        return (frame,), {}

    report = benchmark.pedantic(store.append_frame, setup=fresh_frame, rounds=3)
    assert report.appended == n_events
    assert store.verify().ok


def test_single_appends(benchmark, store):
    benchmark.group = "100 single-event appends"
    writers = itertools.count()

    def append_hundred():
        # a fresh writer number per round: fresh event ids
        from benchmarks.append_ratios import one_event

        w = next(writers)
        for n in range(100):
            pid = f"p{n % 10}"
            store.append(
                pid, [one_event(w, n, pid)], expected_version=store.stream_version(pid)
            )

    benchmark.pedantic(append_hundred, rounds=3)
    assert store.head_position() == 300


@pytest.mark.parametrize("kind", [k for k in KINDS if k != "memory"])
def test_concurrent_appenders(benchmark, kind):
    benchmark.group = "4 writers x 50 appends"
    spawn = multiprocessing.get_context("spawn")
    with fresh_store_url(kind) as url, ProcessPoolExecutor(4, mp_context=spawn) as pool:
        list(pool.map(int, range(4)))  # spawn the workers before timing
        offsets = itertools.count(0, 4)

        def race():
            first = next(offsets)
            return list(
                pool.map(append_singles, [url] * 4, range(first, first + 4), [50] * 4)
            )

        benchmark.pedantic(race, rounds=2)
        store = open_store(url)
        assert store.head_position() == 2 * 4 * 50
        assert store.verify().ok
        store.close()

"""Reading a whole store into a polars event frame, against pm4py.read_xes.

The pm4py baseline reads an XES export of the same events (1e5 only: pm4py
needs minutes for 1e6), in the same group so the ratio is printed.
"""

from __future__ import annotations

import warnings

import polars as pl
import pytest

from adapters.io.export import write_xes
from engine import schema as s


def test_read_sqlite_to_polars(benchmark, filled_sqlite, input_frame):
    benchmark.group = f"store read {input_frame.height}"
    frame = benchmark.pedantic(filled_sqlite.to_frame, rounds=3)
    assert frame.schema == s.EVENT_SCHEMA
    assert frame.height == input_frame.height
    assert frame[s.POSITION].is_sorted()
    sent = input_frame.select(s.INPUT_COLUMNS)
    back = frame.select(s.INPUT_COLUMNS)
    assert back.head(1000).equals(sent.head(1000))
    assert back.tail(1000).equals(sent.tail(1000))
    benchmark.extra_info["events_per_s"] = frame.height / benchmark.stats["mean"]


def test_read_xes_pm4py(benchmark, filled_sqlite, input_frame, tmp_path_factory):
    if input_frame.height > 100_000:
        pytest.skip("pm4py.read_xes takes minutes at this size")
    pm4py = pytest.importorskip("pm4py")
    benchmark.group = f"store read {input_frame.height}"
    path = tmp_path_factory.mktemp("xes") / "log.xes"
    write_xes(filled_sqlite.to_frame(), path)

    def read():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return pm4py.read_xes(str(path), show_progress_bar=False)

    log = benchmark.pedantic(read, rounds=1)
    assert len(log) == input_frame.height
    assert set(log["case:concept:name"]) == set(
        input_frame[s.PARTNERSHIP_ID].unique().to_list()
    )
    assert pl.Series(log["concept:name"]).value_counts().height > 1

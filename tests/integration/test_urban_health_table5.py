"""Seed 003's Table 5 from the urban-health-partnership scenario's indicators.

Periods I (2012-2016), II (2017 to mid-2018), III (mid-2018 to 2019); the
scenario's workstreams separate the coalitions (see its module docstring).
"""

from __future__ import annotations

import polars as pl
import pytest

from adapters.scenarios.registry import load_scenario
from engine.indicators import compute_indicators
from engine.windows import parse_periods

PERIODS = (
    "I:2012-01-01..2016-12-31,II:2017-01-01..2018-06-30,III:2018-07-01..2019-12-31"
)
TABLE5 = [
    ("insurers_HI1", "I", "exclusive"),
    ("insurers_HI1", "II", "inclusive"),
    ("insurers_HI2_HI3", "I", "exclusive"),
    ("insurers_HI2_HI3", "II", "exclusive"),
    ("service_design", "I", "inclusive"),
    ("service_design", "II", "inclusive"),
    ("service_design", "III", "inclusive"),
    ("consortium", "III", "inclusive"),
]


@pytest.fixture(scope="module")
def indicators() -> pl.DataFrame:
    frame = load_scenario("urban-health-partnership")
    return compute_indicators(frame, windows=parse_periods(PERIODS), by="workstream")


@pytest.mark.parametrize(("workstream", "period", "mode"), TABLE5)
def test_mode_matches_table5(indicators, workstream, period, mode):
    row = indicators.filter(
        (pl.col("workstream") == workstream) & (pl.col("period") == period)
    )
    assert row.height == 1
    assert row["mode"].item() == mode

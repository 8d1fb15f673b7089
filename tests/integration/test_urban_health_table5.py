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
SCENARIO_GAP = (
    "the scenario holds no event the DOMAIN.md definitions read as exclusive here "
    "(HC-insurer meetings of phase II are multilateral, mediated; no decision of "
    "the service-design coalition in phases I and III, so mode is null): reported "
    "to the scenario author, indicators not tuned to it"
)

TABLE5 = [
    ("insurers_HI1", "I", "exclusive"),
    ("insurers_HI1", "II", "inclusive"),
    ("insurers_HI2_HI3", "I", "exclusive"),
    pytest.param(
        "insurers_HI2_HI3",
        "II",
        "exclusive",
        marks=pytest.mark.xfail(reason=SCENARIO_GAP, strict=True),
    ),
    pytest.param(
        "service_design",
        "I",
        "inclusive",
        marks=pytest.mark.xfail(reason=SCENARIO_GAP, strict=True),
    ),
    ("service_design", "II", "inclusive"),
    pytest.param(
        "service_design",
        "III",
        "inclusive",
        marks=pytest.mark.xfail(reason=SCENARIO_GAP, strict=True),
    ),
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

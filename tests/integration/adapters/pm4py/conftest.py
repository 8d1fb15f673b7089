from __future__ import annotations

from functools import cache

import pytest

from tests.conftest import LOGS

# The larger logs take seconds to parse and replay through pm4py: marked slow.
REAL_LOGS = (
    "running-example.xes",
    pytest.param("08_receipt.xes.gz", marks=pytest.mark.slow),
    pytest.param("helpdesk.xes.gz", marks=pytest.mark.slow),
    pytest.param("06_bpic2013_closed.xes.gz", marks=pytest.mark.slow),
)


@cache
def read_log(name: str):
    """Return (pm4py dataframe, partnermine frame) of a real log, read once."""
    import pm4py

    from adapters.pm4py.frames import pm4py_to_frame

    dataframe = pm4py.read_xes(str(LOGS / name), show_progress_bar=False)
    return dataframe, pm4py_to_frame(dataframe)


@pytest.fixture(params=REAL_LOGS)
def real_log(request):
    path = LOGS / request.param
    if not path.exists():
        pytest.skip(f"{path} is not available")
    return read_log(request.param)

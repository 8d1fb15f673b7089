"""The edge between partnermine frames and pm4py's pandas dataframes.

pm4py reads pandas; partnermine works in polars. These two functions are the
only places the conversion happens, in either direction.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import polars as pl

from engine import schema as s

if TYPE_CHECKING:
    import pandas as pd  # type: ignore[import-untyped]  # pandas ships no stubs here

__all__ = ["frame_to_pm4py", "pm4py_to_frame"]

_PM4PY_COLUMNS = (s.PARTNERSHIP_ID, s.ACTIVITY, s.TIMESTAMP)


def frame_to_pm4py(frame: pl.DataFrame) -> pd.DataFrame:
    """Return the case, activity and timestamp columns of ``frame`` for pm4py.

    Events are stably ordered by case then timestamp (ties in row order), as
    the engine orders them, so that pm4py and the engine see the same traces.

    Parameters
    ----------
    frame
        An event frame with pm4py's column names (:mod:`engine.schema`).

    Returns
    -------
    pandas.DataFrame
        ``case:concept:name`` (str), ``concept:name`` (str),
        ``time:timestamp`` (datetime64[us, UTC]).
    """
    ordered = frame.select(_PM4PY_COLUMNS).sort(
        [s.PARTNERSHIP_ID, s.TIMESTAMP], maintain_order=True
    )
    return ordered.to_pandas()


def pm4py_to_frame(dataframe: Any) -> pl.DataFrame:
    """Return a pm4py dataframe (e.g. from ``pm4py.read_xes``) as a polars frame.

    Only the case, activity and timestamp columns are kept, in their row
    order; the timestamp becomes ``Datetime("us", "UTC")``.

    Parameters
    ----------
    dataframe
        A pandas dataframe with pm4py's column names.
    """
    columns = dataframe[list(_PM4PY_COLUMNS)]
    frame = pl.from_pandas(columns)
    return frame.with_columns(
        pl.col(s.PARTNERSHIP_ID).cast(pl.String),
        pl.col(s.ACTIVITY).cast(pl.String),
        pl.col(s.TIMESTAMP).dt.cast_time_unit("us").dt.convert_time_zone("UTC"),
    )

"""Windows over a partnership's life: rolling, named periods, lifecycle stages.

A *window* of a partnership is identified by ``window_index`` (0, 1, ...), has a
``period`` label, and covers ``window_start <= timestamp < window_end``. Three
kinds exist (DOMAIN.md, "Rolling alignment indicators"):

* :class:`RollingWindows`: length ``window`` every ``step``, anchored at the
  UTC midnight of each partnership's first event; ``period`` is the window
  start as ``YYYY-MM-DD``. The windows of a partnership run until the last one
  that starts at or before its last event.
* :class:`NamedPeriods`: the same user-given periods for every partnership
  (``I:2012-01-01..2016-12-31,II:...``); a date end is inclusive of that day.
* :class:`LifecycleStages`: one window per stage (negotiation, commitment,
  execution); an event without a phase belongs to the stage of the latest
  phased event before it (or, before any, the first one after it).

Examples
--------
>>> spec = parse_periods("I:2012-01-01..2016-12-31,II:2017-01-01..2018-06-30")
>>> [p.name for p in spec.periods], spec.periods[0].end.isoformat()
(['I', 'II'], '2017-01-01T00:00:00+00:00')
>>> parse_duration("90d")
datetime.timedelta(days=90)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import polars as pl

from engine import schema as s
from engine.errors import ConfigError

__all__ = [
    "COMPLETE",
    "FIRST_WINDOW",
    "PERIOD",
    "WINDOW_END",
    "WINDOW_INDEX",
    "WINDOW_START",
    "LifecycleStages",
    "NamedPeriods",
    "Period",
    "RollingWindows",
    "WindowSpec",
    "assign_windows",
    "build_window_grid",
    "parse_duration",
    "parse_periods",
    "rolling_window_range",
    "window_anchor",
]

WINDOW_INDEX = "window_index"
PERIOD = "period"
WINDOW_START = "window_start"
WINDOW_END = "window_end"
COMPLETE = "complete"
FIRST_WINDOW = "_first_window"
_US = pl.Datetime("us", "UTC")
_DURATION_RE = re.compile(r"^\s*(\d+)\s*([dwh])\s*$")
_UNITS = {"d": timedelta(days=1), "w": timedelta(weeks=1), "h": timedelta(hours=1)}


@dataclass(frozen=True, slots=True)
class RollingWindows:
    """Windows of length ``window`` starting every ``step``."""

    window: timedelta = timedelta(days=90)
    step: timedelta = timedelta(days=30)

    def __post_init__(self) -> None:
        if self.window <= timedelta(0) or self.step <= timedelta(0):
            msg = f"window and step must be positive, got {self.window} and {self.step}"
            raise ConfigError(msg)


@dataclass(frozen=True, slots=True)
class Period:
    """One named period ``start <= timestamp < end``."""

    name: str
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class NamedPeriods:
    """User-named periods, the same for every partnership, in start order."""

    periods: tuple[Period, ...]


@dataclass(frozen=True, slots=True)
class LifecycleStages:
    """One window per lifecycle stage (negotiation, commitment, execution)."""


WindowSpec = RollingWindows | NamedPeriods | LifecycleStages


def parse_duration(text: str) -> timedelta:
    """Return the duration written as ``<n>d``, ``<n>w`` or ``<n>h``.

    Raises
    ------
    ConfigError
        The text is not such a positive duration.
    """
    match = _DURATION_RE.match(text)
    if match is None or int(match.group(1)) == 0:
        msg = (
            f"bad duration {text!r}: expected a positive <n>d, <n>w or <n>h (e.g. 90d)"
        )
        raise ConfigError(msg)
    return int(match.group(1)) * _UNITS[match.group(2)]


def _parse_bound(text: str, *, item: str, end: bool) -> datetime:
    try:
        if "T" in text or " " in text:
            value = datetime.fromisoformat(text)
            if value.tzinfo is None:
                value = value.replace(tzinfo=UTC)
            return value.astimezone(UTC)
        day = date.fromisoformat(text)
    except ValueError as e:
        msg = f"bad period {item!r}: {text!r} is not an ISO date or datetime"
        raise ConfigError(msg) from e
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    # A date end names the last day of the period, so the period runs through it.
    return start + timedelta(days=1) if end else start


def parse_periods(spec: str) -> NamedPeriods:
    """Return the periods of ``NAME:START..END[,NAME:START..END...]``.

    Bounds are ISO dates (an end date is inclusive) or ISO datetimes (an end
    datetime is exclusive; naive ones are UTC).

    Raises
    ------
    ConfigError
        Empty spec, malformed item, duplicate name, or end not after start.

    Examples
    --------
    >>> parse_periods("a:2020-01-01..2020-01-31").periods[0].end.day
    1
    """
    items = [item.strip() for item in spec.split(",")]
    periods: list[Period] = []
    for item in items:
        name, sep, bounds = item.partition(":")
        first, dots, last = bounds.partition("..")
        if not sep or not dots or not name.strip() or not first or not last:
            msg = f"bad period {item!r}: expected NAME:START..END (e.g. I:2012-01-01..2016-12-31)"
            raise ConfigError(msg)
        start = _parse_bound(first.strip(), item=item, end=False)
        end = _parse_bound(last.strip(), item=item, end=True)
        if end <= start:
            msg = f"bad period {item!r}: its end is not after its start"
            raise ConfigError(msg)
        periods.append(Period(name.strip(), start, end))
    names = [p.name for p in periods]
    if len(set(names)) != len(names):
        msg = f"bad periods {spec!r}: duplicate period names"
        raise ConfigError(msg)
    return NamedPeriods(tuple(sorted(periods, key=lambda p: p.start)))


def _us(delta: timedelta) -> int:
    return delta // timedelta(microseconds=1)


def window_anchor(first: pl.Expr) -> pl.Expr:
    """Return where a partnership's rolling windows start: the UTC midnight of ``first``.

    ``first`` is the time of the partnership's first event.

    Examples
    --------
    >>> from datetime import datetime, UTC
    >>> df = pl.DataFrame({"t": [datetime(2020, 1, 2, 15, tzinfo=UTC)]})
    >>> df.select(window_anchor(pl.col("t"))).item()
    datetime.datetime(2020, 1, 2, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC'))
    """
    return first.dt.truncate("1d")


def _partnership_span(frame: pl.LazyFrame) -> pl.LazyFrame:
    return frame.group_by(s.PARTNERSHIP_ID).agg(
        window_anchor(pl.col(s.TIMESTAMP).min()).alias("_first"),
        pl.col(s.TIMESTAMP).max().alias("_last"),
    )


def _rolling_labels(spec: RollingWindows) -> list[pl.Expr]:
    start = pl.col("_first") + pl.duration(
        microseconds=pl.col(WINDOW_INDEX) * _us(spec.step)
    )
    return [
        start.alias(WINDOW_START),
        (start + spec.window).alias(WINDOW_END),
        start.dt.strftime("%Y-%m-%d").alias(PERIOD),
    ]


def rolling_window_range(
    spec: RollingWindows, *, first: pl.Expr, timestamp: pl.Expr
) -> tuple[pl.Expr, pl.Expr]:
    """Return ``(lo, hi)``: the rolling windows holding ``timestamp`` are ``lo <= i < hi``.

    ``first`` is the partnership's anchor (the UTC midnight of its first
    event). The range is empty when the time falls between two windows
    (a step longer than the window).

    Examples
    --------
    >>> from datetime import datetime, UTC
    >>> spec = RollingWindows(window=timedelta(days=20), step=timedelta(days=10))
    >>> df = pl.DataFrame({"t": [datetime(2020, 1, d, tzinfo=UTC) for d in (1, 15)]})
    >>> lo, hi = rolling_window_range(spec, first=pl.col("t").min(), timestamp=pl.col("t"))
    >>> df.select(lo.alias("lo"), hi.alias("hi")).rows()
    [(0, 1), (0, 2)]
    """
    step, width = _us(spec.step), _us(spec.window)
    offset = (timestamp - first).dt.total_microseconds()
    lo = ((offset - width) // step + 1).clip(lower_bound=0)
    return lo, offset // step + 1


def _assign_rolling(frame: pl.LazyFrame, spec: RollingWindows) -> pl.LazyFrame:
    lo, hi = rolling_window_range(
        spec, first=pl.col("_first"), timestamp=pl.col(s.TIMESTAMP)
    )
    return (
        frame.join(_partnership_span(frame), on=s.PARTNERSHIP_ID, maintain_order="left")
        .with_columns(pl.int_ranges(lo, hi, dtype=pl.Int64).alias(WINDOW_INDEX))
        .explode(WINDOW_INDEX)
        .with_columns(_rolling_labels(spec))
        .drop("_first", "_last")
    )


def _periods_frame(spec: NamedPeriods) -> pl.LazyFrame:
    return pl.LazyFrame(
        {
            WINDOW_INDEX: list(range(len(spec.periods))),
            PERIOD: [p.name for p in spec.periods],
            WINDOW_START: [p.start for p in spec.periods],
            WINDOW_END: [p.end for p in spec.periods],
        },
        schema={
            WINDOW_INDEX: pl.Int64,
            PERIOD: pl.String,
            WINDOW_START: _US,
            WINDOW_END: _US,
        },
    )


def _stage_expr() -> pl.Expr:
    order = [s.TIMESTAMP, s.VERSION]
    phase = pl.col(s.PHASE).sort_by(order)
    filled = phase.forward_fill().backward_fill()
    # Undo the sort so each row gets its own stage back.
    rank = pl.struct(order).rank("ordinal").cast(pl.Int64) - 1
    return filled.gather(rank).over(s.PARTNERSHIP_ID).alias(PERIOD)


def _with_stages(frame: pl.LazyFrame) -> pl.LazyFrame:
    stages = pl.DataFrame({PERIOD: list(s.PHASES), WINDOW_INDEX: range(3)})
    staged = frame.with_columns(_stage_expr()).filter(pl.col(PERIOD).is_not_null())
    bounds = staged.group_by(s.PARTNERSHIP_ID, PERIOD).agg(
        pl.col(s.TIMESTAMP).min().alias(WINDOW_START),
        (pl.col(s.TIMESTAMP).max() + timedelta(microseconds=1)).alias(WINDOW_END),
    )
    # Rows keep the events' order, so the same log always gives the same frame.
    return staged.join(stages.lazy(), on=PERIOD, maintain_order="left").join(
        bounds, on=[s.PARTNERSHIP_ID, PERIOD], maintain_order="left"
    )


def assign_windows(frame: pl.LazyFrame, *, windows: WindowSpec) -> pl.LazyFrame:
    """Return one row per (event, window containing it), with the window columns.

    ``frame`` holds whole partnerships (``case:concept:name``,
    ``time:timestamp``; ``phase`` and ``version`` for stages). Adds
    ``window_index``, ``period``, ``window_start``, ``window_end``.

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> t = [datetime(2020, 1, d, tzinfo=timezone.utc) for d in (1, 15)]
    >>> lf = pl.LazyFrame({"case:concept:name": ["p", "p"], "time:timestamp": t})
    >>> spec = RollingWindows(window=timedelta(days=20), step=timedelta(days=10))
    >>> out = assign_windows(lf, windows=spec).collect()
    >>> out["window_index"].to_list(), out["period"].to_list()
    ([0, 0, 1], ['2020-01-01', '2020-01-01', '2020-01-11'])
    """
    if isinstance(windows, RollingWindows):
        return _assign_rolling(frame, windows)
    if isinstance(windows, NamedPeriods):
        return frame.join_where(
            _periods_frame(windows),
            pl.col(s.TIMESTAMP) >= pl.col(WINDOW_START),
            pl.col(s.TIMESTAMP) < pl.col(WINDOW_END),
        )
    return _with_stages(frame)


def build_window_grid(frame: pl.LazyFrame, *, windows: WindowSpec) -> pl.LazyFrame:
    """Return every window of every partnership, with a ``complete`` flag.

    One row per (partnership, window), including windows that hold no event
    (rolling windows up to the last one starting at or before the partnership's
    last event; named periods overlapping the partnership's span; stages it
    reached). A window is ``complete`` once the partnership has an event at or
    after its end (a stage always is).

    Rolling windows of a ``frame`` carrying ``_first_window``
    (:data:`FIRST_WINDOW`, per partnership) start at that index instead of 0:
    the same rows, without the earlier windows.
    """
    span = _partnership_span(frame)
    if isinstance(windows, RollingWindows):
        step = _us(windows.step)
        count = (pl.col("_last") - pl.col("_first")).dt.total_microseconds() // step + 1
        first = pl.lit(0, pl.Int64)
        if FIRST_WINDOW in frame.collect_schema().names():
            span = span.join(
                frame.group_by(s.PARTNERSHIP_ID).agg(pl.col(FIRST_WINDOW).min()),
                on=s.PARTNERSHIP_ID,
            )
            first = pl.col(FIRST_WINDOW).cast(pl.Int64).clip(lower_bound=0)
        grid = (
            span.with_columns(
                pl.int_ranges(first, count, dtype=pl.Int64).alias(WINDOW_INDEX)
            )
            .explode(WINDOW_INDEX, empty_as_null=False)
            .with_columns(_rolling_labels(windows))
        )
    elif isinstance(windows, NamedPeriods):
        grid = span.join(_periods_frame(windows), how="cross").filter(
            (pl.col(WINDOW_START) <= pl.col("_last"))
            & (pl.col(WINDOW_END) > pl.col("_first"))
        )
    else:
        grid = (
            _with_stages(frame)
            .select(s.PARTNERSHIP_ID, WINDOW_INDEX, PERIOD, WINDOW_START, WINDOW_END)
            .unique()
            .join(span, on=s.PARTNERSHIP_ID)
        )
    complete = pl.col(WINDOW_END) <= pl.col("_last") + timedelta(microseconds=1)
    return grid.select(
        s.PARTNERSHIP_ID,
        WINDOW_INDEX,
        PERIOD,
        WINDOW_START,
        WINDOW_END,
        complete.alias(COMPLETE),
    )

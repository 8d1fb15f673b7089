"""``missing_top_manager_feedback``: execution assessed without the top managers.

Seed 000: the top managers of both partners were absent from the final feedback
meeting ("nice try"); assessment belongs in every stage (Ring & Van de Ven).
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import polars as pl

from engine import schema as s
from engine.partners import (
    ACTIVE_PARTNER,
    ACTIVE_PARTNER_COUNT,
    count_active_partners,
    explode_active_partners,
    filter_active_partners,
    partner_intervals,
)
from engine.rules.deviation import (
    SEQ,
    finish_deviations,
    format_date_expr,
)

if TYPE_CHECKING:
    from datetime import datetime

    from engine.rules.thresholds import RuleThresholds

__all__ = ["check_top_manager_feedback"]

_EXEC_SEQ = "_exec_seq"
_TOPS = "_top_organizations"
# The phases that start or stop execution: a return to negotiation stops it
# (renegotiation); commitment steps while a pilot runs (a new idea or plan) do not.
_MOVES_EXECUTION = ("negotiation", "execution")
# Messages name the partners without a top manager up to this many.
_MAX_NAMED = 10


def _in_execution(events: pl.LazyFrame, points: pl.LazyFrame) -> pl.LazyFrame:
    """Return the ``points`` (events without a phase of their own) in execution.

    An event without a phase (any-stage activities such as
    ``feedback_meeting``) is in execution while execution runs: after an
    execution-phase event and before the next negotiation-phase event
    (commitment steps taken while a pilot runs do not stop it, as in the
    feedback-gap check). Cheaply for most points: before the first
    execution-phase event it is not execution, and after it, until the first
    later negotiation-phase event, it is. Only points after such a return
    (renegotiation) look up the last of those phases before them, among that
    partnership's events from the return on.
    """
    # Only the phased events of the points' partnerships are read (often none:
    # meetings usually carry their phase), picked once for every use below.
    phased = (
        events.select(s.PARTNERSHIP_ID, SEQ, s.PHASE)
        .filter(pl.col(s.PHASE).is_in(_MOVES_EXECUTION))
        .join(points.select(s.PARTNERSHIP_ID).unique(), on=s.PARTNERSHIP_ID, how="semi")
        .cache()
    )
    starts = (
        phased.filter(pl.col(s.PHASE) == "execution")
        .group_by(s.PARTNERSHIP_ID)
        .agg(pl.col(SEQ).min().alias(_EXEC_SEQ))
    )
    returns = (
        phased.filter(pl.col(s.PHASE) != "execution")
        .join(starts, on=s.PARTNERSHIP_ID)
        .filter(pl.col(SEQ) > pl.col(_EXEC_SEQ))
        .group_by(s.PARTNERSHIP_ID)
        .agg(pl.col(SEQ).min().alias("_return_seq"))
    )
    placed = points.join(starts, on=s.PARTNERSHIP_ID).join(
        returns, on=s.PARTNERSHIP_ID, how="left"
    )
    after_start = pl.col(SEQ) > pl.col(_EXEC_SEQ)
    before_return = pl.col("_return_seq").is_null() | (
        pl.col(SEQ) < pl.col("_return_seq")
    )
    settled = placed.filter(after_start & before_return)
    later = placed.filter(after_start & before_return.not_()).drop(
        _EXEC_SEQ, "_return_seq"
    )
    tail = (
        phased.join(returns, on=s.PARTNERSHIP_ID)
        .filter(pl.col(SEQ) >= pl.col("_return_seq"))
        .select(s.PARTNERSHIP_ID, pl.col(SEQ).alias("_phased_seq"), s.PHASE)
        .sort("_phased_seq")
    )
    looked_up = (
        later.sort(SEQ)
        .join_asof(
            tail.rename({s.PHASE: "_stage"}),
            left_on=SEQ,
            right_on="_phased_seq",
            by=s.PARTNERSHIP_ID,
            strategy="backward",
            check_sortedness=False,
        )
        .filter(pl.col("_stage") == "execution")
        .drop("_phased_seq", "_stage")
    )
    return pl.concat([settled.drop(_EXEC_SEQ, "_return_seq"), looked_up])


def _meeting_rows(events: pl.LazyFrame) -> pl.LazyFrame:
    """Return every ``feedback_meeting`` with its distinct top-manager organizations.

    Cached: both parts of the rule read the meetings, picked in one pass.
    """
    # Only listed participants can be top managers (an event without any makes
    # its own organization appear with role `other`). Distinct per meeting:
    # the active ones are then counted, not n_unique'd.
    element = pl.element().struct.field
    is_top = (element("role") == "top_manager") & element("organization").is_not_null()
    top_orgs = pl.col(s.PARTICIPANTS).list.eval(
        element("organization").filter(is_top).unique()
    )
    return (
        events.filter(pl.col(s.ACTIVITY) == "feedback_meeting")
        .select(
            s.PARTNERSHIP_ID,
            SEQ,
            s.EVENT_ID,
            s.TIMESTAMP,
            s.ACTIVITY,
            s.PHASE,
            top_orgs.alias(_TOPS),
        )
        .cache()
    )


def _absent_top_managers(
    events: pl.LazyFrame, meeting_rows: pl.LazyFrame, intervals: pl.LazyFrame
) -> pl.LazyFrame:
    """Return execution-stage meetings where an active partner has no top manager."""
    keys = meeting_rows.select(s.PARTNERSHIP_ID, SEQ, s.PHASE)
    in_execution = pl.concat(
        [
            keys.filter(pl.col(s.PHASE) == "execution").select(SEQ),
            _in_execution(events, keys.filter(pl.col(s.PHASE).is_null())).select(SEQ),
        ]
    )
    meetings = meeting_rows.join(in_execution, on=SEQ, how="semi")
    tops = (
        meetings.select(
            s.PARTNERSHIP_ID, SEQ, s.TIMESTAMP, pl.col(_TOPS).alias(s.ORGANIZATION)
        )
        .explode(s.ORGANIZATION)
        .drop_nulls(s.ORGANIZATION)
        .cache()
    )
    # Counts first (partnerships may have hundreds of partners); names only
    # where few partners are missing.
    n_missing = pl.col(ACTIVE_PARTNER_COUNT) - pl.col("_tops").fill_null(0)
    absent = (
        count_active_partners(
            intervals, meetings.select(s.PARTNERSHIP_ID, SEQ, s.EVENT_ID, s.TIMESTAMP)
        )
        .join(
            filter_active_partners(intervals, tops)
            .group_by(SEQ)
            .agg(pl.len().alias("_tops")),
            on=SEQ,
            how="left",
        )
        .with_columns(n_missing.alias("_n_missing"))
        .filter(pl.col("_n_missing") > 0)
        .cache()
    )
    named = (
        explode_active_partners(
            intervals,
            absent.filter(pl.col("_n_missing") <= _MAX_NAMED).select(
                s.PARTNERSHIP_ID, SEQ, s.TIMESTAMP
            ),
        )
        .select(SEQ, pl.col(ACTIVE_PARTNER).alias(s.ORGANIZATION))
        .join(tops.select(SEQ, s.ORGANIZATION), on=[SEQ, s.ORGANIZATION], how="anti")
        .group_by(SEQ)
        .agg(pl.col(s.ORGANIZATION).sort().str.join(", ").alias("_names"))
    )
    whom = pl.coalesce(
        "_names",
        pl.format("{} of {} active partners", "_n_missing", ACTIVE_PARTNER_COUNT),
    )
    return absent.join(named, on=SEQ, how="left").select(
        s.PARTNERSHIP_ID,
        pl.col(s.TIMESTAMP).alias("time"),
        pl.concat_list(s.EVENT_ID).alias("evidence"),
        pl.format(
            "Feedback meeting on {} during execution had no top manager from {}",
            format_date_expr(s.TIMESTAMP),
            whom,
        ).alias("message"),
    )


def _execution_points(events: pl.LazyFrame, meeting_rows: pl.LazyFrame) -> pl.LazyFrame:
    """Return the points where execution gaps open or close, with ``_kind``.

    ``start``: the first execution-phase event; ``end``: a later
    negotiation-phase event (renegotiation: execution stops running; a new
    idea or plan while a pilot runs does not stop it); ``resume``: an
    execution-phase event after an end; ``meeting``: a feedback meeting after
    the start. All carry the partnership's last timestamp (``_last_seen``).
    Most partnerships never return from execution: only those that do have
    their phased events sorted for the transitions.
    """
    # Execution is known to run only while the partnership records events: the
    # last gap ends at its last event (by as_of), not at the end of a log that
    # other partnerships run on (a partnership that stopped in 2019 did not run
    # execution without feedback until 2024).
    spans = (
        events.group_by(s.PARTNERSHIP_ID)
        .agg(
            pl.col(SEQ).filter(pl.col(s.PHASE) == "execution").min().alias(_EXEC_SEQ),
            pl.col(s.TIMESTAMP).max().alias("_last_seen"),
        )
        .filter(pl.col(_EXEC_SEQ).is_not_null())
        .cache()
    )
    columns = (s.PARTNERSHIP_ID, SEQ, s.EVENT_ID, s.TIMESTAMP, s.ACTIVITY, "_last_seen")
    starts = events.join(
        spans.select(pl.col(_EXEC_SEQ).alias(SEQ), "_last_seen"), on=SEQ
    ).select(*columns, pl.lit("start").alias("_kind"))
    # Cached: the meetings that are transitions themselves are left out below.
    transitions = (
        _execution_transitions(events, spans).select(*columns, "_kind").cache()
    )
    meetings = (
        meeting_rows.join(spans, on=s.PARTNERSHIP_ID)
        .filter(pl.col(SEQ) > pl.col(_EXEC_SEQ))
        .join(transitions.select(SEQ), on=SEQ, how="anti")
        .select(*columns, pl.lit("meeting").alias("_kind"))
    )
    return pl.concat([starts, transitions, meetings])


def _execution_transitions(events: pl.LazyFrame, spans: pl.LazyFrame) -> pl.LazyFrame:
    """Return the ends and resumptions of execution after each first return.

    Only negotiation (a return: renegotiation) and execution steps move it;
    commitment steps taken while execution runs do not stop it.
    """
    phased = events.filter(pl.col(s.PHASE).is_in(_MOVES_EXECUTION))
    returns = (
        phased.filter(pl.col(s.PHASE) == "negotiation")
        .select(s.PARTNERSHIP_ID, SEQ)
        .join(spans, on=s.PARTNERSHIP_ID)
        .filter(pl.col(SEQ) > pl.col(_EXEC_SEQ))
        .group_by(s.PARTNERSHIP_ID)
        .agg(pl.col(SEQ).min().alias("_return_seq"), pl.col("_last_seen").first())
    )
    is_exec = pl.col(s.PHASE) == "execution"
    # Sorted by (partnership, seq): the first row of a partnership is its
    # return, whose predecessor is in execution.
    was_exec = (
        pl.when(pl.col(s.PARTNERSHIP_ID) == pl.col(s.PARTNERSHIP_ID).shift(1))
        .then(is_exec.shift(1))
        .otherwise(pl.lit(value=True))
    )
    kind = (
        pl.when(is_exec & was_exec.not_())
        .then(pl.lit("resume"))
        .when(is_exec.not_() & was_exec)
        .then(pl.lit("end"))
    )
    # One u64 sort key (partnership code, seq < 2**32 events) instead of a
    # string-then-int sort.
    code = pl.col(s.PARTNERSHIP_ID).cast(pl.Categorical).to_physical().cast(pl.UInt64)
    order = code * 2**32 + pl.col(SEQ).cast(pl.UInt64)
    return (
        phased.join(returns, on=s.PARTNERSHIP_ID)
        .filter(pl.col(SEQ) >= pl.col("_return_seq"))
        .select(
            s.PARTNERSHIP_ID,
            SEQ,
            s.EVENT_ID,
            s.TIMESTAMP,
            s.ACTIVITY,
            s.PHASE,
            "_last_seen",
        )
        .sort(order)
        .with_columns(kind.alias("_kind"))
        .filter(pl.col("_kind").is_not_null())
    )


def _feedback_gaps(
    events: pl.LazyFrame, meeting_rows: pl.LazyFrame, *, days: int, as_of: datetime
) -> pl.LazyFrame:
    """Return execution gaps longer than ``days`` without a feedback meeting.

    A gap opens at an execution start or resumption, or at a feedback meeting
    while execution runs, and closes at the next point (a meeting, or a
    return to negotiation), else at the partnership's last event. As in the
    waiting rules, a point exactly ``days`` later is in time, but a gap still
    open and observed through ``days`` has run that long without feedback.
    """
    points = _execution_points(events, meeting_rows)
    # Sorted by partnership: a global shift masked at partnership edges.
    until = (
        pl.when(pl.col(s.PARTNERSHIP_ID) == pl.col(s.PARTNERSHIP_ID).shift(-1))
        .then(pl.col(s.TIMESTAMP).shift(-1))
        .otherwise(
            pl.min_horizontal(
                pl.col("_last_seen"), pl.lit(as_of, pl.Datetime("us", "UTC"))
            )
        )
    )
    kind = pl.col("_kind")
    # Whether execution runs from each point on: set by starts, resumptions and
    # ends, carried over meetings (every partnership's first point is its start).
    running = (
        pl.when(kind.is_in(["start", "resume"]))
        .then(pl.lit(value=True))
        .when(kind == "end")
        .then(pl.lit(value=False))
        .forward_fill()
    )
    gap = (pl.col("_until") - pl.col(s.TIMESTAMP)).dt.total_days()
    span = pl.col("_until") - pl.col(s.TIMESTAMP)
    limit = timedelta(days=days)
    closed = pl.col(s.PARTNERSHIP_ID) == pl.col(s.PARTNERSHIP_ID).shift(-1)
    too_long = (span > limit) | (closed.fill_null(value=False).not_() & (span >= limit))
    opener = (
        pl.when(kind == "meeting")
        .then(pl.lit("the feedback meeting"))
        .when(kind == "resume")
        .then(pl.format("execution resumed ({})", s.ACTIVITY))
        .when(pl.col(s.ACTIVITY) == "start_action")
        .then(pl.lit("the first pilot"))
        .otherwise(pl.format("execution began ({})", s.ACTIVITY))
    )
    return (
        points.sort(s.PARTNERSHIP_ID, SEQ)
        .with_columns(until.alias("_until"), running.alias("_running"))
        .filter(pl.col("_running") & (kind != "end") & too_long)
        .select(
            s.PARTNERSHIP_ID,
            (pl.col(s.TIMESTAMP) + timedelta(days=days)).alias("time"),
            pl.concat_list(s.EVENT_ID).alias("evidence"),
            pl.format(
                "No feedback meeting for {} days after {} on {} (limit {})",
                gap,
                opener,
                format_date_expr(s.TIMESTAMP),
                pl.lit(days),
            ).alias("message"),
        )
    )


def check_top_manager_feedback(
    events: pl.LazyFrame,
    *,
    thresholds: RuleThresholds,
    as_of: datetime,
    intervals: pl.LazyFrame | None = None,
) -> pl.LazyFrame:
    """Return the ``missing_top_manager_feedback`` deviations (docs/rules.md).

    (a) An execution-stage ``feedback_meeting`` (its phase ``execution``, else
    while execution runs: the last negotiation- or execution-phase event
    before it is an execution one)
    where some active partner organization has no participant with role
    ``top_manager``. (b) While execution runs (from an execution-phase event
    until a negotiation-phase event), a gap of more than ``feedback_gap_days``
    between the execution start or resumption, the feedback meetings and the
    return to negotiation, or of ``feedback_gap_days`` until the
    partnership's last event (by ``as_of``).

    Parameters
    ----------
    events
        The prepared frame (:func:`engine.rules.prepare_events`).
    thresholds
        Uses ``feedback_gap_days``.
    as_of
        The end of observation.
    intervals
        :func:`engine.partners.partner_intervals` of ``events``, if already known.
    """
    meeting_rows = _meeting_rows(events)
    found = pl.concat(
        [
            _absent_top_managers(
                events,
                meeting_rows,
                intervals if intervals is not None else partner_intervals(events),
            ),
            _feedback_gaps(
                events, meeting_rows, days=thresholds.feedback_gap_days, as_of=as_of
            ),
        ]
    )
    return finish_deviations(found, rule="missing_top_manager_feedback")

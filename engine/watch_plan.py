"""Which events a ``watch`` step recomputes from, per touched partnership.

Part of :mod:`engine.watch_state`, whose docstring says why: the plan of a
step (the first window to recompute, ``_k``; where kept rows end, ``_keep``;
where the reduced frame starts, ``_cut``; or the whole history, ``_full``), the
slim event columns it is decided on, and the carriers (earlier events the
recomputed windows read) of the indicators.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import polars as pl

from engine import schema as s
from engine.attributes import CONFLICT_ID, attribute_expr, objective_ids_expr
from engine.partners import explode_partner_organizations
from engine.watch_process import EARLIEST, STEP_ENGINE, TS, flag_rows
from engine.windows import rolling_window_range, window_anchor

if TYPE_CHECKING:
    from engine.watch_state import WatchState
    from engine.windows import RollingWindows

__all__ = [
    "SEEN_SCHEMA",
    "first_appearances",
    "first_windows",
    "indicator_rows",
    "item_carriers",
    "partner_appearances",
    "plan_steps",
    "slim_events",
]

# A carried event that closes an item (resolves a conflict, agrees an
# objective, plans or starts an idea) only matters to the recomputed windows
# when an event at or after the cut opens the same item (raises that
# conflict, proposes that objective, starts that idea): others are dropped.
_CLOSERS = {
    "resolve_conflict": "conflict",
    "agree_objectives": "objective",
    "agree_action_plan": "idea",
    "start_action": "idea",
}
_OPENERS = {
    "raise_conflict": "conflict",
    "propose_objective": "objective",
    "start_action": "idea",
}
SEEN_SCHEMA = pl.Schema(
    {
        s.PARTNERSHIP_ID: pl.String(),
        s.ORGANIZATION: pl.String(),
        s.TIMESTAMP: TS,
        s.VERSION: pl.Int64(),
    }
)


def _us(delta: timedelta) -> int:
    return delta // timedelta(microseconds=1)


def _after(anchor: pl.Expr, windows: int | pl.Expr, step: int) -> pl.Expr:
    return anchor + pl.duration(microseconds=windows * step)


def partner_appearances(events: pl.DataFrame) -> pl.DataFrame:
    """Return per (partnership, organization) its first partner-role appearance."""
    exploded = explode_partner_organizations(
        events.lazy().select(
            s.PARTNERSHIP_ID,
            s.TIMESTAMP,
            s.VERSION,
            s.ACTIVITY,
            s.PARTICIPANTS,
            s.ORGANIZATION,
        )
    )
    return first_appearances(exploded.collect(engine=STEP_ENGINE))


def first_appearances(rows: pl.DataFrame) -> pl.DataFrame:
    """Return the earliest row per (partnership, organization), by (time, version)."""
    return (
        rows.select(SEEN_SCHEMA.names())
        .cast(SEEN_SCHEMA)
        .sort(s.TIMESTAMP, s.VERSION)
        .unique([s.PARTNERSHIP_ID, s.ORGANIZATION], keep="first")
    )


def plan_steps(
    state: WatchState,
    *,
    events: pl.DataFrame,
    batch: pl.DataFrame,
    windows: RollingWindows,
) -> pl.DataFrame:
    """Per touched partnership: where its kept rows end and its reduced frames start.

    Columns ``case:concept:name, _full, _k`` (the first window to recompute,
    0 for a full partnership), ``_keep`` (its start, which is also where the
    process-drift frame starts: earlier windows' pair counts are kept) and
    ``_cut`` (indicator frame start); a full partnership has them at the
    earliest time. ``_cut_window`` is the window ``_cut`` starts (0 for a
    full partnership).
    """
    step, width = _us(windows.step), _us(windows.window)
    engine = pl.col(s.ACTIVITY).is_in(sorted(s.ENGINE_ACTIVITIES))
    touched = (
        batch.filter(pl.col(s.ACTIVITY) != "alert_raised")
        .group_by(s.PARTNERSHIP_ID)
        .agg(
            pl.col(s.TIMESTAMP).filter(engine.not_()).min().alias("_t"),
            engine.any().alias("_erased"),
        )
    )
    arriving = partner_appearances(batch.filter(engine.not_()))
    new_org = arriving.join(
        state.partners, on=[s.PARTNERSHIP_ID, s.ORGANIZATION], how="anti"
    ).select(s.PARTNERSHIP_ID, pl.lit(value=True).alias("_new_org"))
    anchor = window_anchor(pl.col("_first"))
    # The first window holding the new events (or the last one, if earlier).
    first_kept, _ = rolling_window_range(
        windows, first=anchor, timestamp=pl.min_horizontal("_t", "_last")
    )
    plan = (
        touched.join(state.meta, on=s.PARTNERSHIP_ID, how="left")
        .join(new_org.unique(), on=s.PARTNERSHIP_ID, how="left")
        .with_columns(first_kept.alias("_k"), anchor.alias("_anchor"))
        .with_columns(
            _after(pl.col("_anchor"), pl.col("_k") - 1, step)
            .add(pl.duration(microseconds=width))
            .alias("_end_prev")
        )
    )
    # The last earlier window with events: that of the latest event before
    # the end of window k - 1 (commitment compares with its actors).
    latest = (
        events.select(s.PARTNERSHIP_ID, s.TIMESTAMP)
        .join(plan.select(s.PARTNERSHIP_ID, "_end_prev"), on=s.PARTNERSHIP_ID)
        .filter(pl.col(s.TIMESTAMP) < pl.col("_end_prev"))
        .group_by(s.PARTNERSHIP_ID)
        .agg(pl.col(s.TIMESTAMP).max().alias("_latest"))
    )
    last_window = (
        pl.col("_latest") - pl.col("_anchor")
    ).dt.total_microseconds() // step
    full = (
        pl.col("_first").is_null()
        | pl.col("_t").is_null()
        | pl.col("_erased")
        | pl.col("_new_org").fill_null(value=False)
        | (pl.col("_t") < pl.col("_first"))
        | (pl.col("_k") <= 0)
        | pl.col("_latest").is_null()
    )

    cut_window = pl.min_horizontal(pl.col("_k") - 1, last_window)

    def unless_full(value: pl.Expr) -> pl.Expr:
        return pl.when(pl.col("_full")).then(pl.lit(EARLIEST, TS)).otherwise(value)

    return (
        plan.join(latest, on=s.PARTNERSHIP_ID, how="left")
        .with_columns(full.fill_null(value=True).alias("_full"))
        .select(
            s.PARTNERSHIP_ID,
            "_full",
            "_first",
            pl.when(pl.col("_full")).then(0).otherwise(pl.col("_k")).alias("_k"),
            unless_full(_after(pl.col("_anchor"), pl.col("_k"), step)).alias("_keep"),
            unless_full(_after(pl.col("_anchor"), cut_window, step)).alias("_cut"),
            pl.when(pl.col("_full"))
            .then(0)
            .otherwise(cut_window.clip(lower_bound=0))
            .cast(pl.Int64)
            .alias("_cut_window"),
        )
    )


def first_windows(plan: pl.DataFrame) -> pl.DataFrame:
    """Return per planned partnership the window its reduced indicator frame starts.

    That of ``_cut`` (0 for a full partnership): windows before it only hold
    carriers, so they are not computed at all.
    """
    return plan.select(s.PARTNERSHIP_ID, pl.col("_cut_window").alias("window_index"))


def slim_events(events: pl.DataFrame, plan: pl.DataFrame) -> pl.DataFrame:
    """Return the few columns the frame selection reads, in ``events``' row order."""
    return events.select(
        s.PARTNERSHIP_ID, s.TIMESTAMP, s.VERSION, s.ACTIVITY, s.PHASE
    ).join(
        plan.select(s.PARTNERSHIP_ID, "_first", "_cut", "_keep"),
        on=s.PARTNERSHIP_ID,
        how="left",
        maintain_order="left",
    )


def item_carriers(events: pl.DataFrame, plan: pl.DataFrame) -> pl.DataFrame:
    """Return the closers before the cut whose item is opened from the cut on.

    Rows ``case:concept:name, version`` (see :data:`_CLOSERS`): an idea's
    plans and earlier starts decide which of its starts is the first after
    its plan, a conflict's or objective's closers whether it is closed by a
    window's end; an item no later event opens reaches no recomputed window.
    """
    before = pl.col(s.TIMESTAMP) < pl.col("_cut")
    activity = pl.col(s.ACTIVITY)
    rows = (
        events.lazy()
        .filter(activity.is_in(sorted(_CLOSERS.keys() | _OPENERS.keys())))
        .select(s.PARTNERSHIP_ID, s.VERSION, s.TIMESTAMP, s.ACTIVITY, s.ATTRIBUTES)
        .join(plan.lazy().select(s.PARTNERSHIP_ID, "_cut"), on=s.PARTNERSHIP_ID)
        # Only closers before the cut and openers from it on are parsed.
        .filter(
            pl.when(before)
            .then(activity.is_in(sorted(_CLOSERS)))
            .otherwise(activity.is_in(sorted(_OPENERS)))
        )
        .with_columns(before.alias("_before"))
    )
    items = {
        "conflict": pl.concat_list(attribute_expr(CONFLICT_ID)),
        "objective": objective_ids_expr(),
        "idea": pl.concat_list(attribute_expr("idea_id")),
    }
    kind = pl.when(pl.col("_before"))
    kind_of = {
        k: kind.then(
            activity.is_in([a for a, v in _CLOSERS.items() if v == k])
        ).otherwise(activity.is_in([a for a, v in _OPENERS.items() if v == k]))
        for k in items
    }
    keyed = (
        pl.concat(
            [
                rows.filter(kind_of[k]).select(
                    s.PARTNERSHIP_ID,
                    s.VERSION,
                    "_before",
                    pl.lit(k).alias("_kind"),
                    item.alias("_item"),
                )
                for k, item in items.items()
            ]
        )
        .explode("_item")
        .drop_nulls("_item")
    )
    key = [s.PARTNERSHIP_ID, "_kind", "_item"]
    opened = keyed.filter(pl.col("_before").not_()).select(key).unique()
    return (
        keyed.filter("_before")
        .join(opened, on=key, how="semi")
        .select(s.PARTNERSHIP_ID, s.VERSION)
        .unique()
        .collect(engine=STEP_ENGINE)
    )


def indicator_rows(
    state: WatchState, slim: pl.DataFrame, carriers: pl.DataFrame
) -> pl.Series:
    """Return which events the recomputed windows' indicators read (and carriers).

    Those from the cut on, those at the first time (the anchor), the
    membership events, each partner organization's first appearance and the
    closers of items opened from the cut on (:func:`item_carriers`).
    """
    seen = pl.concat([state.partners.select(s.PARTNERSHIP_ID, s.VERSION), carriers])
    return flag_rows(
        slim,
        seen,
        (pl.col(s.TIMESTAMP) >= pl.col("_cut"))
        | (pl.col(s.TIMESTAMP) <= pl.col("_first"))
        | pl.col(s.ACTIVITY).is_in(["member_joined", "member_left"]),
    )

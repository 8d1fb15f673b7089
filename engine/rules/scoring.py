"""Precision and recall of found deviations against a ground truth, per rule.

Matching is on the set of ``(partnership_id, rule)`` pairs (docs/rules.md).

Examples
--------
>>> import polars as pl
>>> found = pl.DataFrame({"partnership_id": ["p1", "p2"], "rule": ["r", "r"]})
>>> truth = pl.DataFrame({"partnership_id": ["p1", "p3"], "rule": ["r", "r"]})
>>> score_deviations(found, truth).row(0, named=True)
{'rule': 'r', 'true_positives': 1, 'false_positives': 1, 'false_negatives': 1, 'precision': 0.5, 'recall': 0.5}
"""

from __future__ import annotations

import polars as pl

__all__ = ["score_deviations"]

_KEY = ["partnership_id", "rule"]


def score_deviations(found: pl.DataFrame, truth: pl.DataFrame) -> pl.DataFrame:
    """Return per rule: true/false positives, false negatives, precision, recall.

    Parameters
    ----------
    found
        Deviations (at least ``partnership_id`` and ``rule``).
    truth
        Expected deviations (at least ``partnership_id`` and ``rule``).

    Returns
    -------
    pl.DataFrame
        One row per rule seen in either frame, sorted by rule. Precision is 1
        when nothing was found, recall 1 when nothing was expected.
    """
    got = found.select(_KEY).unique().with_columns(pl.lit(value=True).alias("_found"))
    want = truth.select(_KEY).unique().with_columns(pl.lit(value=True).alias("_truth"))
    pairs = got.join(want, on=_KEY, how="full", coalesce=True)
    f = pl.col("_found").fill_null(value=False)
    t = pl.col("_truth").fill_null(value=False)
    counts = pairs.group_by("rule").agg(
        (f & t).sum().alias("true_positives"),
        (f & t.not_()).sum().alias("false_positives"),
        (f.not_() & t).sum().alias("false_negatives"),
    )
    tp, fp, fn = (
        pl.col(c) for c in ("true_positives", "false_positives", "false_negatives")
    )
    return counts.with_columns(
        pl.when(tp + fp > 0).then(tp / (tp + fp)).otherwise(1.0).alias("precision"),
        pl.when(tp + fn > 0).then(tp / (tp + fn)).otherwise(1.0).alias("recall"),
    ).sort("rule")

"""Print DFG and token-replay speed of partnermine vs pm4py, side by side, in one run.

Usage::

    .venv/bin/python benchmarks/discovery_ratios.py [--events 10000000]
        [--partnerships 100000] [--pm4py-partnerships 2000] [--skip-large]

Sections (every result is checked equal to pm4py's before its time is shown):

1. DFG on ``--events`` synthetic events (global time order, minute
   resolution so ties occur): ``engine.dfg.discover_dfg(performance=False)``
   vs ``pm4py.discover_dfg`` on the same data as a pandas dataframe (both
   count edges, start and end activities only; the time of the DFG with
   mean/median durations as well is shown beside).
2. DFG on each real log in /work/shared/data/logs.
3. Token-replay fitness on each real log, model = inductive miner on that
   log: ``pm4py.fitness_token_based_replay`` on the log vs partnermine's
   ``compute_fitness`` (pm4py per variant, and the native replay) +
   ``summarize_fitness``.
4. Token-replay fitness of ``--partnerships`` simulated partnerships
   (adapters.simulation) on the shipped reference lifecycle: partnermine on
   all of them; pm4py on the first ``--pm4py-partnerships`` (pm4py needs about
   20 ms per distinct trace, and simulated partnerships are nearly all
   distinct), with both timed on that sample and pm4py's full time
   extrapolated linearly (labelled as such).
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adapters.pm4py.conformance import compute_fitness, summarize_fitness
from adapters.pm4py.frames import frame_to_pm4py, pm4py_to_frame
from engine import schema as s
from engine.dfg import discover_dfg

LOGS = Path(__file__).resolve().parents[2] / "shared" / "data" / "logs"
REAL_LOGS = (
    "running-example.xes",
    "08_receipt.xes.gz",
    "helpdesk.xes.gz",
    "06_bpic2013_closed.xes.gz",
)
ACTIVITIES = list(s.ACTIVITY_STAGE)


def generate_dfg_frame(n_events: int, *, seed: int = 0) -> pl.DataFrame:
    """Return ``n_events`` events over n/20 cases, in global time order."""
    rng = np.random.default_rng(seed)
    n_cases = max(1, n_events // 20)
    cases = rng.integers(0, n_cases, n_events)
    minutes = np.sort(rng.integers(0, 60 * 24 * 365 * 4, n_events))
    weights = np.linspace(2.0, 0.5, len(ACTIVITIES))
    activities = rng.choice(len(ACTIVITIES), n_events, p=weights / weights.sum())
    return pl.DataFrame(
        {
            s.PARTNERSHIP_ID: pl.Series(cases).cast(pl.String),
            s.ACTIVITY: pl.Series(activities).replace_strict(
                dict(enumerate(ACTIVITIES)), return_dtype=pl.String
            ),
            s.TIMESTAMP: pl.Series(minutes * 60_000_000).cast(pl.Datetime("us", "UTC")),
        }
    )


def timed(fn, repeat: int = 1):
    best, result = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t)
    return best, result


def to_pm4py_strings(frame: pl.DataFrame):
    """The frame as pm4py.read_xes would give it (pandas string columns)."""
    df = frame_to_pm4py(frame)
    for column in (s.PARTNERSHIP_ID, s.ACTIVITY):
        df[column] = df[column].astype("string")
    return df


def check_dfg(frame: pl.DataFrame, df) -> tuple[float, float, float]:
    """Time the frequency DFG (like with like: pm4py.discover_dfg counts only).

    Returns (ours, theirs, ours with mean/median durations as well).
    """
    import pm4py

    ours_t, ours = timed(
        lambda: discover_dfg(frame.lazy(), performance=False), repeat=3
    )
    perf_t, perf = timed(lambda: discover_dfg(frame.lazy()), repeat=3)
    theirs_t, (edges, starts, ends) = timed(lambda: pm4py.discover_dfg(df.copy()))
    got = {(r["source"], r["target"]): r["count"] for r in ours.edges.to_dicts()}
    assert got == dict(edges), "DFG edges differ from pm4py"
    assert ours.to_dict()["start_activities"] == starts
    assert ours.to_dict()["end_activities"] == ends
    assert perf.edges.select("source", "target", "count").equals(
        ours.edges.select("source", "target", "count")
    )
    return ours_t, theirs_t, perf_t


def row(name: str, ours: float, theirs: float, note: str = "") -> None:
    print(
        f"  {name:<34} partnermine {ours:9.3f}s   pm4py {theirs:9.3f}s   ratio {theirs / ours:8.1f}x {note}"
    )


def section_dfg_synthetic(n_events: int) -> None:
    print(f"\n[1] DFG, {n_events:,} synthetic events (counts checked equal)")
    frame = generate_dfg_frame(n_events)
    orders = {
        "global time order (a store)": frame,
        "grouped by case (an XES file)": frame.sort(
            [s.PARTNERSHIP_ID, s.TIMESTAMP], maintain_order=True
        ),
    }
    for label, data in orders.items():
        df = to_pm4py_strings(data)
        ours, theirs, perf = check_dfg(data, df)
        row(label, ours, theirs, f"(with mean/median durations: {perf:.3f}s)")
        del df


def read_real(name: str):
    import pm4py

    df = pm4py.read_xes(str(LOGS / name), show_progress_bar=False)
    return df, pm4py_to_frame(df)


def section_real_logs() -> None:
    import pm4py

    from adapters.pm4py.discovery import discover_inductive_model

    print("\n[2] DFG on the real logs (counts checked equal)")
    logs = {name: read_real(name) for name in REAL_LOGS if (LOGS / name).exists()}
    for name, (df, frame) in logs.items():
        ours, theirs, perf = check_dfg(frame, df)
        row(f"{name} ({frame.height:,} ev)", ours, theirs, f"(durations: {perf:.3f}s)")
    print(
        "\n[3] token-replay fitness on the real logs, inductive model (results checked equal)"
    )
    for name, (df, frame) in logs.items():
        model = discover_inductive_model(frame)
        net, im, fm = model.net, model.initial_marking, model.final_marking
        theirs_t, theirs = timed(
            lambda df=df, net=net, im=im, fm=fm: pm4py.fitness_token_based_replay(
                df.copy(), net, im, fm
            ),
            repeat=3,  # best of 3 on both sides: a single run is noisy
        )
        variant_t, per_variant = timed(
            lambda frame=frame, model=model: compute_fitness(
                frame, model=model, replayer="pm4py"
            )
        )
        ours_t, ours = timed(
            lambda frame=frame, model=model: compute_fitness(frame, model=model),
            repeat=3,
        )
        assert ours.equals(per_variant), "native replay differs from pm4py's"
        summary = summarize_fitness(ours)
        assert summary["log_fitness"] == theirs["log_fitness"], (summary, theirs)
        assert summary["perc_fit_traces"] == theirs["perc_fit_traces"]
        assert (
            abs(summary["average_trace_fitness"] - theirs["average_trace_fitness"])
            < 1e-12
        )
        row(f"{name} per variant via pm4py", variant_t, theirs_t)
        row(
            f"{name} native replay",
            ours_t,
            theirs_t,
            f"(log_fitness {summary['log_fitness']:.4f})",
        )


def section_simulated(partnerships: int, sample: int) -> None:
    import pm4py

    from adapters.pm4py.models import load_reference_model
    from adapters.simulation import simulate_partnerships

    print(
        f"\n[4] token-replay fitness, {partnerships:,} simulated partnerships, reference lifecycle"
    )
    log = simulate_partnerships(
        partnerships=partnerships, seed=7, start=datetime(2015, 1, 1, tzinfo=UTC)
    )
    frame = log.events.select(s.PARTNERSHIP_ID, s.ACTIVITY, s.TIMESTAMP)
    model = load_reference_model()
    ours_t, ours = timed(lambda: compute_fitness(frame, model=model))
    n_variants = ours["variant_id"].n_unique()
    print(
        f"  {frame.height:,} events, {n_variants:,} variants; partnermine native: {ours_t:.2f}s "
        f"(log_fitness {summarize_fitness(ours)['log_fitness']:.4f})"
    )
    keep = frame[s.PARTNERSHIP_ID].unique(maintain_order=True).head(sample)
    small = frame.filter(pl.col(s.PARTNERSHIP_ID).is_in(keep.implode()))
    df = to_pm4py_strings(small)
    net, im, fm = model.net, model.initial_marking, model.final_marking
    theirs_t, theirs = timed(lambda: pm4py.fitness_token_based_replay(df, net, im, fm))
    small_t, small_ours = timed(lambda: compute_fitness(small, model=model))
    assert summarize_fitness(small_ours)["log_fitness"] == theirs["log_fitness"]
    row(f"{sample:,} partnerships (measured)", small_t, theirs_t)
    extrapolated = theirs_t * partnerships / sample
    row(
        f"{partnerships:,} partnerships",
        ours_t,
        extrapolated,
        "(pm4py extrapolated linearly)",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--partnerships", type=int, default=100_000)
    parser.add_argument("--pm4py-partnerships", type=int, default=2_000)
    parser.add_argument("--skip-large", action="store_true", help="only the real logs")
    parser.add_argument(
        "--sections", default="1234", help="which sections to run, e.g. 13"
    )
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    print(
        f"partnermine vs pm4py; polars {pl.__version__}; {time.strftime('%Y-%m-%d %H:%M')}"
    )
    if "1" in args.sections and not args.skip_large:
        section_dfg_synthetic(args.events)
    if "2" in args.sections or "3" in args.sections:
        section_real_logs()
    if "4" in args.sections and not args.skip_large:
        section_simulated(args.partnerships, args.pm4py_partnerships)


if __name__ == "__main__":
    main()

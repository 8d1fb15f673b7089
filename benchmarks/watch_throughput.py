"""Events per second that ``watch`` keeps up with, appending to a SQLite store.

Builds a SQLite store holding the history of ``--partnerships`` simulated
partnerships (all but the last ``--batches x --batch`` events in time order),
lets the watcher catch up, then repeats: append ``--batch`` new events (the
next ones in time order, as a live feed would) and run one incremental
:func:`engine.watching.run_watch_step` with a
:class:`engine.watch_state.WatchState` kept between steps, as ``partnermine
watch`` does (``--stateless``: without one, re-evaluating the touched
partnerships' whole history). Each step reads the events after the
checkpoint, recomputes the windows they can change and appends the new alerts
with the checkpoint in one transaction.

With ``--rate R`` the feed is live at R events/s: each step's backlog is
what arrived while the previous step ran (``R x`` its seconds, the first one
``R x 1 s``). A step costs a fixed part plus a part per event, so the backlog
either settles (each step clears what arrived during the one before: the
watcher keeps up, with the settled backlog / R as its latency) or keeps
growing (it falls behind). Once settled, every step processes exactly R
events/s, so a step's own rate cannot tell a watcher with room to spare from
one falling behind; the verdict is whether the backlog has stopped growing:
the last backlog is no higher than the highest before it (8 steps by
default). A fixed ``--batch`` of 10,000 understates what a watcher that
takes whatever has arrived keeps up with: a step's time grows more slowly
than its backlog.

Prints, per step and best of the steps, the events processed per second of the
step (the target is 10,000 events/s), and where the step's time goes: the
store's ``read_all`` (new events), ``to_frame`` (touched partnerships'
history), ``append_frame`` (alerts + checkpoint) and the evaluation itself
(indicators + drift detection), so a limit in the store's read path shows up
as such; ``cpu`` is the step's CPU time (user + sys, all threads).

Run: ``.venv/bin/python -m benchmarks.watch_throughput --partnerships 1000``
(fixed batches) or ``... --partnerships 3000 --rate 10000`` (a live feed)
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from adapters.simulation import simulate_partnerships
from cli.bootstrap import open_store
from engine.watching import WatchState, run_watch_step

TARGET_EVENTS_PER_S = 10_000.0
_TIMED = ("read_all", "to_frame", "append_frame", "read_checkpoint")


class TimedStore:
    """Delegates to a store and adds up the seconds spent in its read/append calls."""

    def __init__(self, store: Any) -> None:
        self._store = store
        self.seconds = dict.fromkeys(_TIMED, 0.0)

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._store, name)
        if name not in _TIMED:
            return attribute

        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return attribute(*args, **kwargs)
            finally:
                self.seconds[name] += time.perf_counter() - start

        return timed

    def reset(self) -> None:
        """Zero the counters."""
        self.seconds = dict.fromkeys(_TIMED, 0.0)


def main() -> int:
    """Build the store, run the appending steps, print the rates."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--partnerships", type=int, default=1_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--batches", type=int, help="steps (default 3; 8 with --rate)")
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument(
        "--rate", type=float, help="live feed at this many events/s (backlog mode)"
    )
    parser.add_argument(
        "--stateless",
        action="store_true",
        help="re-evaluate touched partnerships' whole history (no WatchState)",
    )
    args = parser.parse_args()
    if args.batches is None:
        args.batches = 8 if args.rate else 3
    events = simulate_partnerships(
        partnerships=args.partnerships,
        seed=args.seed,
        start=datetime(2016, 1, 1, tzinfo=UTC),
    ).events.sort("time:timestamp")
    fresh = args.batch * args.batches
    if args.rate:  # room for the growing backlogs of a live feed
        fresh = min(events.height // 2, int(args.rate * 4 * args.batches))
    history = events.head(events.height - fresh)
    with tempfile.TemporaryDirectory() as tmp:
        store = TimedStore(open_store(str(Path(tmp) / "watch.db"), create=True))
        store.append_frame(history)
        state = None if args.stateless else WatchState()
        start = time.perf_counter()
        run_watch_step(store, state=state)  # catch up on the history
        feed = (
            f"a live feed at {args.rate:,.0f} events/s for {args.batches} steps"
            if args.rate
            else f"{args.batches} x {args.batch:,} appended"
        )
        print(
            f"{args.partnerships} partnerships, history {history.height:,} events "
            f"(catch-up {time.perf_counter() - start:.1f} s), then {feed}"
        )
        print(
            f"{'step':>4} {'events':>7} {'touched':>8} {'seconds':>8} {'events/s':>9}"
            f" {'read_all':>9} {'to_frame':>9} {'append':>7} {'evaluate':>9} {'cpu':>6}"
        )
        rates, cpu, backlogs, offset = [], [], [], history.height
        size = args.batch
        if args.rate:
            size = int(args.rate)
        for i in range(args.batches):
            batch = events.slice(offset, size)
            if batch.height < size:  # a short batch is not the backlog of a step
                print(f"the feed ran out after {i} steps (--partnerships for more)")
                break
            offset += batch.height
            backlogs.append(batch.height)
            store.append_frame(batch)
            store.reset()
            start, cpu_start = time.perf_counter(), time.process_time()
            step = run_watch_step(store, state=state)
            seconds = time.perf_counter() - start
            rate = batch.height / seconds
            rates.append(rate)
            t = store.seconds
            store_s = sum(t.values())
            touched = batch["case:concept:name"].n_unique()
            cpu.append(time.process_time() - cpu_start)
            print(
                f"{i + 1:>4} {step.events_read:>7,} {touched:>8,} {seconds:>8.2f}"
                f" {rate:>9,.0f} {t['read_all']:>9.2f} {t['to_frame']:>9.2f}"
                f" {t['append_frame']:>7.2f} {seconds - store_s:>9.2f} {cpu[-1]:>6.2f}"
            )
            if args.rate:  # what arrived meanwhile is the next backlog
                size = max(1, int(args.rate * seconds))
        store.close()
    if not rates:
        print("no step ran: the feed was too short")
        return 2
    if args.rate:
        return _judge_live_feed(backlogs, rate=args.rate)
    best = max(rates)
    verdict = "keeps up" if best >= TARGET_EVENTS_PER_S else "falls behind"
    print(
        f"best {best:,.0f} events/s: {verdict}"
        f" (target {TARGET_EVENTS_PER_S:,.0f} events/s)"
    )
    return 0 if best >= TARGET_EVENTS_PER_S else 1


def _judge_live_feed(backlogs: list[int], *, rate: float) -> int:
    """Print whether the backlog of a live feed settled; 0 when it did."""
    if len(backlogs) < 3:
        print("a live feed needs at least 3 steps to judge (--batches)")
        return 2
    settled = backlogs[-1] <= max(backlogs[:-1])
    verdict = "keeps up" if settled else "falls behind"
    print(
        f"live feed at {rate:,.0f} events/s: {verdict}; backlogs "
        + " -> ".join(f"{b:,}" for b in backlogs)
        + f" (last {backlogs[-1]:,}, highest before {max(backlogs[:-1]):,};"
        f" latency about {backlogs[-1] / rate:.1f} s)"
    )
    return 0 if settled else 1


if __name__ == "__main__":
    sys.exit(main())

"""A follower of read_all never sees positions out of commit order.

Writers race single-event appends on their own connections while a follower
reads ``read_all(from_position=seen + 1)`` in a loop. Positions are gapless,
so any hole a reader sees means a lower position would commit after a higher
one was visible, and a follower relying on positions would skip it for good.
"""

from __future__ import annotations

import threading

from cli.bootstrap import open_store
from engine import schema as s
from tests.reliability.workers import race_event

WRITERS = 3
APPENDS = 20


def write_events(url: str, worker: int, errors: list[BaseException]) -> None:
    store = open_store(url)
    try:
        for n in range(APPENDS):
            pid = f"order-{(worker + n) % 4}"
            store.append(pid, [race_event(worker, n, pid)])
    except BaseException as e:  # surfaced by the test thread
        errors.append(e)
    finally:
        store.close()


def test_follower_sees_positions_in_commit_order(store_url):
    errors: list[BaseException] = []
    writers = [
        threading.Thread(target=write_events, args=(store_url, w, errors))
        for w in range(WRITERS)
    ]
    follower = open_store(store_url)
    seen = 0
    reads_with_news = 0
    try:
        for thread in writers:
            thread.start()
        while True:
            running = any(t.is_alive() for t in writers)
            frame = follower.read_all(from_position=seen + 1)
            positions = frame[s.POSITION].to_list()
            # no hole: exactly the next positions, in order
            assert positions == list(range(seen + 1, seen + 1 + len(positions)))
            if positions:
                reads_with_news += 1
            seen += len(positions)
            if not running:
                break
        for thread in writers:
            thread.join()
        assert not errors, errors
        assert seen == WRITERS * APPENDS == follower.head_position()
        assert reads_with_news > 1  # the follower really interleaved with writers
    finally:
        follower.close()

"""The ranked pool the REST lookups run on: the calls of earlier slices first (zns_sync.ranked)."""

from __future__ import annotations

import threading
from concurrent.futures import CancelledError

import pytest

from zns_sync.ranked import RankedPool, carried, ranked


def _held(pool: RankedPool) -> threading.Event:
    """Keep the pool's only thread busy until the event is set (rank 0: before anything submitted after)."""
    gate = threading.Event()
    with ranked(0):
        pool.submit(lambda _: gate.wait(5), None)
    return gate


def test_a_free_thread_takes_the_lowest_rank_queued_then_the_first_submitted() -> None:
    pool = RankedPool(1, "test")
    gate, ran = _held(pool), []
    for rank, call in [(2, "third slice"), (1, "second slice, first call"), (1, "second slice, second call")]:
        with ranked(rank):
            pool.submit(ran.append, call)
    gate.set()
    pool.shutdown()  # once every call queued has run
    assert ran == ["second slice, first call", "second slice, second call", "third slice"]


def test_a_task_handed_to_another_thread_carries_the_rank_of_the_thread_that_made_it() -> None:
    pool = RankedPool(1, "test")
    gate, ran = _held(pool), []
    with ranked(2):
        lookup = carried(lambda: pool.submit(ran.append, "second slice, from a gather thread"))
    other = threading.Thread(target=lookup)  # of rank 0 itself: first of all, were the rank not carried
    with ranked(1):
        pool.submit(ran.append, "first slice")
    other.start()
    other.join()
    gate.set()
    pool.shutdown()
    assert ran == ["first slice", "second slice, from a gather thread"]


def test_map_gives_results_in_order_errors_reach_their_caller_and_a_cancelled_call_never_runs() -> None:
    pool = RankedPool(4, "test")
    assert pool.map(lambda n: n * n, range(10)) == [n * n for n in range(10)]
    with pytest.raises(ZeroDivisionError):
        pool.map(lambda n: 1 // n, [1, 0, 2])
    single = RankedPool(1, "test")
    gate, ran = _held(single), []
    cancelled = single.submit(ran.append, "cancelled")
    assert cancelled.cancel()
    gate.set()
    single.shutdown()
    pool.shutdown()
    assert ran == []
    with pytest.raises(CancelledError):
        cancelled.result()
    with pytest.raises(RuntimeError, match="shut down"):  # never queued for no thread to run
        single.submit(ran.append, "too late")

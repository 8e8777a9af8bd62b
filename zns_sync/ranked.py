"""A thread pool that runs the calls of earlier slices first.

A pass looks up two slices or more at once (`engine.read_ahead`), and a slice whose lookups read each record with a
REST call (a payment's parts, a memo's items) queues hundreds of calls. On a first-in-first-out pool two slices'
calls interleave, so the first slice is ready only when the second nearly is, and the pass's first write waits for
both. Here a call takes the rank of the slice whose lookups made it (`ranked`, set by the engine, carried into the
threads the lookups fan out to by `carried`), and a free thread takes the lowest rank queued, in submission order
within a rank: the first slice's calls go first, and the next slice's fill the threads it leaves idle.
"""

from __future__ import annotations

import contextlib
import contextvars
import itertools
import queue
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from typing import Any, TypeVar

_T = TypeVar("_T")
_U = TypeVar("_U")

_rank: contextvars.ContextVar[int] = contextvars.ContextVar("zns_sync_rank", default=0)
_LAST = sys.maxsize  # the rank of the stop sentinels: after every call queued before them


@contextlib.contextmanager
def ranked(rank: int) -> Iterator[None]:
    """Calls submitted in this block (and in the tasks it hands on with `carried`) take this rank."""
    token = _rank.set(rank)
    try:
        yield
    finally:
        _rank.reset(token)


def carried(fn: Callable[[], _T]) -> Callable[[], _T]:
    """`fn`, to run on another thread with this thread's rank."""
    context = contextvars.copy_context()
    return lambda: context.run(fn)


class RankedPool:
    """Up to `threads` threads running submitted calls, lowest rank first, then first submitted first."""

    def __init__(self, threads: int, name: str) -> None:
        self._max = threads
        self._name = name
        self._queue: queue.PriorityQueue[tuple[int, int, Callable[[], Any] | None, Future[Any] | None]] = (
            queue.PriorityQueue()
        )
        self._order = itertools.count()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._closed = False

    def submit(self, fn: Callable[..., _U], *args: Any) -> Future[_U]:
        future: Future[_U] = Future()
        with self._lock:
            if self._closed:  # no thread would ever run it
                raise RuntimeError(f"the {self._name} pool is shut down: it takes no more calls")
            self._queue.put((_rank.get(), next(self._order), lambda: fn(*args), future))
            if len(self._threads) < self._max:
                thread = threading.Thread(target=self._work, name=f"{self._name}_{len(self._threads)}", daemon=True)
                thread.start()
                self._threads.append(thread)
        return future

    def map(self, fn: Callable[[_T], _U], args: Iterable[_T]) -> list[_U]:
        """`fn(arg)` for each arg, in their order (an error raised as its result is reached)."""
        futures = [self.submit(fn, arg) for arg in args]
        return [future.result() for future in futures]

    def shutdown(self) -> None:
        """Once every call queued has run, stop the threads."""
        with self._lock:
            threads, self._threads, self._closed = self._threads, [], True
        for _ in threads:
            self._queue.put((_LAST, next(self._order), None, None))
        for thread in threads:
            thread.join()

    def _work(self) -> None:
        while True:
            _, _, call, future = self._queue.get()
            if call is None or future is None:
                return
            if not future.set_running_or_notify_cancel():  # cancelled while queued
                continue
            try:
                future.set_result(call())
            except BaseException as exc:  # handed to whoever waits on the future, as ThreadPoolExecutor does
                future.set_exception(exc)

"""Races: RACERS threads, or RACERS worker processes, released together by a barrier.

The worker processes are spawned once per test session and reused by every
process race (of every backend class): starting 16 interpreters costs
seconds, a race milliseconds. For each race every worker gets one job: it
opens the storage with the backend's factory, waits at the pool's barrier
until all RACERS workers have, runs the operation once, closes the storage
(``close()``, when it has one) and reports. So each race is still RACERS
separate processes, each with connections of its own, released at once.
"""

from __future__ import annotations

import atexit
import contextlib
import multiprocessing
import pickle
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection, wait
from operator import itemgetter
from typing import TYPE_CHECKING, Any, TypeVar

import pytest

from ...protocols import Storage

if TYPE_CHECKING:
    from multiprocessing.context import SpawnProcess
    from multiprocessing.synchronize import Barrier

T = TypeVar("T")

#: How many threads (or processes) each race releases at once.
RACERS = 16
#: Seconds a race may take before it counts as a deadlock.
RACE_TIMEOUT = 60.0
#: Seconds the worker processes may take to start (they import wsactions and pytest).
START_TIMEOUT = 120.0


def _race(work: Callable[[int], T], count: int = RACERS) -> list[T]:
    """Run *work(i)* in *count* threads released together; the results in order of *i*."""
    barrier = threading.Barrier(count)
    lock = threading.Lock()
    results: list[tuple[int, T]] = []
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait(RACE_TIMEOUT)
            outcome = work(i)
        except BaseException as exc:  # reported in the test's thread
            with lock:
                errors.append(exc)
        else:
            with lock:
                results.append((i, outcome))

    threads = [
        threading.Thread(target=run, args=(i,), name=f"contract-race-{i}", daemon=True)
        for i in range(count)
    ]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + RACE_TIMEOUT
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    if any(thread.is_alive() for thread in threads):
        pytest.fail(f"racing threads still run after {RACE_TIMEOUT:.0f} s: a deadlock?")
    if errors:
        raise errors[0]
    return [outcome for _, outcome in sorted(results, key=itemgetter(0))]


# processes ---------------------------------------------------------------------------------

# A job is (race number, pickled (sys.path, factory, operation, index)); a report is
# (race number, whether it worked, the outcome or a traceback).
_Report = tuple[int, bool, Any]


def _run_job(payload: bytes, barrier: Barrier) -> tuple[bool, Any]:
    """Open the storage, wait for the other workers, run the operation once."""
    released = False
    try:
        path, factory, operation, index = pickle.loads(payload)  # noqa: S301  (our own parent)
        # modules the parent imported since the pool started (a test folder pytest added)
        sys.path[:0] = [entry for entry in path if entry not in sys.path]
        storage = factory()
        try:
            barrier.wait(RACE_TIMEOUT)
            released = True
            outcome = operation(storage, index)
        finally:
            close = getattr(storage, "close", None)
            if callable(close):
                close()  # the worker lives on: nothing stays open between races
        pickle.dumps(outcome)  # fails here, where the traceback says why
    except BaseException:  # reported in the test's process
        if not released:
            barrier.abort()  # the others stop waiting for this one
        return False, traceback.format_exc()
    return True, outcome


def _serve(connection: Connection, barrier: Barrier) -> None:
    """A worker process: run the jobs the parent sends until it sends none or goes away."""
    # Ctrl-C is for the parent, which stops the workers (and they stop when it is gone).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    connection.send((0, True, None))  # started: the first race need not wait for imports
    while True:
        try:
            race, payload = connection.recv()
        except (EOFError, OSError):
            return
        if payload is None:
            return
        worked, detail = _run_job(payload, barrier)
        connection.send((race, worked, detail))


class _WorkerPool:
    """RACERS spawned worker processes sharing one barrier, for the whole test session."""

    def __init__(self, size: int = RACERS) -> None:
        context = multiprocessing.get_context("spawn")
        self.size = size
        self.barrier = context.Barrier(size)
        self.races = 0
        self.started = False
        self.connections: list[Connection] = []
        self.processes: list[SpawnProcess] = []
        for i in range(size):
            ours, theirs = context.Pipe()
            process = context.Process(
                target=_serve, args=(theirs, self.barrier), name=f"contract-racer-{i}", daemon=True
            )
            process.start()
            theirs.close()
            self.connections.append(ours)
            self.processes.append(process)

    def start(self) -> list[_Report]:
        """Wait until every worker has started (imports take seconds, which no race's
        deadline should include); a failure report for each that did not."""
        if self.started:
            return []
        self.started = True
        failed: list[_Report] = []
        deadline = time.monotonic() + START_TIMEOUT
        for index, connection in enumerate(self.connections):
            try:
                if connection.poll(max(0.0, deadline - time.monotonic())):
                    connection.recv()
                    continue
            except (EOFError, OSError):
                pass
            failed.append((index, False, f"worker process {index} did not start"))
        return failed

    def run(
        self, factory: Callable[[], Storage], operation: Callable[[Storage, int], object]
    ) -> tuple[list[_Report], bool]:
        """One race: every worker runs *operation* once; the reports that came, and whether
        the pool can race again."""
        unstarted = self.start()
        if unstarted:
            return unstarted, False
        self.races += 1
        race = self.races
        path = list(sys.path)
        pending: dict[int, Connection] = {}
        received: list[_Report] = []
        healthy = True
        for index, connection in enumerate(self.connections):
            job = pickle.dumps((path, factory, operation, index))
            try:
                connection.send((race, job))
            except OSError:  # the worker is gone (it failed to start, or was killed)
                healthy = False
                self.barrier.abort()
                received.append((index, False, f"worker process {index} is gone"))
            else:
                pending[index] = connection
        deadline = time.monotonic() + RACE_TIMEOUT
        while pending:
            ready = wait(list(pending.values()), max(0.0, deadline - time.monotonic()))
            if not ready:
                break  # a deadlock: the workers still run
            for index, connection in list(pending.items()):
                if connection not in ready:
                    continue
                del pending[index]
                try:
                    number, worked, detail = connection.recv()
                except (EOFError, OSError):
                    healthy = False
                    self.barrier.abort()
                    received.append((index, False, f"worker process {index} exited"))
                    continue
                if number != race:  # cannot happen: a pool that lost a race is closed
                    healthy = False
                received.append((index, worked, detail))
        if pending:
            healthy = False
        elif not all(worked for _, worked, _ in received):
            self.barrier.reset()  # every worker reported: none waits at it
        return received, healthy

    def close(self) -> None:
        """Stop the workers: ask, then kill those that do not stop."""
        for connection in self.connections:
            with contextlib.suppress(OSError):  # already gone
                connection.send((0, None))
        deadline = time.monotonic() + 5.0
        for process in self.processes:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()
        for connection in self.connections:
            connection.close()


_pool: _WorkerPool | None = None


def _worker_pool(config: pytest.Config | None = None) -> _WorkerPool:
    """The session's worker pool, started on first use and stopped when pytest ends (when
    the process ends, without *config*)."""
    global _pool
    if _pool is None:
        _pool = _WorkerPool()
        if config is None:
            atexit.register(_close_pool)
        else:
            config.add_cleanup(_close_pool)
    return _pool


def _close_pool() -> None:
    global _pool
    if _pool is not None:
        pool, _pool = _pool, None
        pool.close()


def _race_processes(
    factory: Callable[[], Storage], operation: Callable[[Storage, int], object]
) -> list[Any]:
    """Run *operation* in RACERS worker processes released together; their outcomes."""
    received, healthy = _worker_pool().run(factory, operation)
    if not healthy:
        _close_pool()  # the next race starts a fresh pool
    failures = [detail for _, worked, detail in received if not worked]
    if failures:
        # the cause, rather than the others' BrokenBarrierError it led to
        first = next((f for f in failures if "BrokenBarrierError" not in f), failures[0])
        pytest.fail(f"{len(failures)} worker process(es) failed; the first:\n{first}")
    if len(received) < RACERS:
        pytest.fail(
            f"only {len(received)} of {RACERS} worker processes reported within "
            f"{RACE_TIMEOUT:.0f} s: a deadlock?"
        )
    return [outcome for _, _, outcome in sorted(received, key=itemgetter(0))]

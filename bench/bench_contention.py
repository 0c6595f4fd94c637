"""SessionUpdate latency while other clients log in with production hashing.

Run by hand: ``PYTHONPATH=src python bench/bench_contention.py [--samples N]
[--rounds R] [--sleep-ms MS] [--seconds S]``.

Measures ``registry.execute`` of SessionUpdate (as :class:`wsactions.testing.Client`
posts it, for a logged-in browser, so the request reads its account and login
record from the store) in the measuring thread, with a short sleep between
calls. Phases alternate: *alone* (no other work) and *contended* (two
background threads log in continuously, each to its own account, with the
production argon2 profile, RFC 9106 low memory: t=3, m=64 MiB, p=4). Every
login succeeds, so the login throttle never blocks. The phases are
interleaved *rounds* times so that machine noise hits both alike. Each phase
stops after its share of the samples or of *seconds* (default 50), whichever
comes first, so the run stays under a minute even when a lock is contended.

Prints median and p99 of both and the ratio of the medians. Goal: under
contention the median stays in the low milliseconds -- the CPU is shared, no
lock is (before the memory backend stopped holding its lock across hashing,
it was ~800 ms against ~0.1 ms alone).
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time

from wsactions import PRODUCTION_HASHING
from wsactions.testing import Client, Harness

PASSWORD = "correct horse battery staple 42"
LOGIN_THREADS = 2


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, int(len(ordered) * q) - 1)]


def _login(shop: Harness, email: str) -> float:
    """One successful Login from a new browser; its duration in seconds."""
    client = shop.client(client_address="198.51.100.7")
    handle = client.create("Login")
    form = {"wsact": handle.id, "wscsrf": handle.csrf, "id": email, "password": PASSWORD}
    ctx = client.context()
    start = time.perf_counter()
    result = shop.registry.execute(ctx, form)
    elapsed = time.perf_counter() - start
    if not result.success:
        raise RuntimeError(f"login of {email} failed: {result.errors}")
    return elapsed


class _LoginLoad:
    """Background threads that log in back to back until stopped."""

    def __init__(self, shop: Harness, emails: list[str]) -> None:
        self.shop = shop
        self.emails = emails
        self.durations: list[float] = []
        self.errors: list[BaseException] = []
        self._stop = threading.Event()
        self._started = threading.Barrier(len(emails) + 1)
        self._threads = [
            threading.Thread(target=self._loop, args=(email,), daemon=True) for email in emails
        ]

    def _loop(self, email: str) -> None:
        self._started.wait()
        try:
            while not self._stop.is_set():
                self.durations.append(_login(self.shop, email))
        except BaseException as error:  # reported by the main thread
            self.errors.append(error)

    def __enter__(self) -> _LoginLoad:
        for thread in self._threads:
            thread.start()
        self._started.wait()
        time.sleep(0.05)  # let both logins get into argon2
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()
        if self.errors:
            raise RuntimeError("a login thread failed") from self.errors[0]


def _session_updates(
    client: Client, count: int, pause: float, budget: float = float("inf")
) -> list[float]:
    """Up to *count* SessionUpdate executes with *pause* seconds between, for at most
    *budget* seconds; their durations in seconds."""
    registry = client.harness.registry
    handle = client.create("SessionUpdate")
    samples: list[float] = []
    deadline = time.perf_counter() + budget
    for i in range(count):
        if time.perf_counter() > deadline:
            break
        form = {"wsact": handle.id, "wscsrf": handle.csrf, "session.step": f"s{i % 7}"}
        ctx = client.context()
        start = time.perf_counter()
        result = registry.execute(ctx, form)
        samples.append(time.perf_counter() - start)
        if not result.success:
            raise RuntimeError(f"SessionUpdate failed: {result.errors}")
        time.sleep(pause)
    return samples


def main(
    samples: int = 1000, rounds: int = 5, sleep_ms: float = 2.0, seconds: float = 50.0
) -> None:
    shop = Harness(password_hashing=PRODUCTION_HASHING)
    shop.registry.event_sink = None
    emails = [f"load{i}@example.com" for i in range(LOGIN_THREADS)]
    for email in emails:
        shop.create_account(email, PASSWORD)
    browser = shop.client()
    shop.log_in(browser, shop.create_account("measured@example.com"))

    pause = sleep_ms / 1000
    per_round = max(1, samples // rounds)
    budget = seconds / (2 * rounds)
    _login(shop, emails[0])  # warm up: argon2, caches
    _session_updates(browser, 50, pause)

    alone: list[float] = []
    contended: list[float] = []
    logins: list[float] = []
    load_time = 0.0
    began = time.perf_counter()
    for _ in range(rounds):
        alone += _session_updates(browser, per_round, pause, budget)
        start = time.perf_counter()
        with _LoginLoad(shop, emails) as load:
            contended += _session_updates(browser, per_round, pause, budget)
        load_time += time.perf_counter() - start
        logins += load.durations
    total = time.perf_counter() - began

    ms = 1000
    p = PRODUCTION_HASHING
    print(
        f"argon2: t={p.time_cost} m={p.memory_cost} KiB p={p.parallelism}   "
        f"login threads: {LOGIN_THREADS}   rounds: {rounds}   sleep: {sleep_ms} ms"
    )
    print(
        f"logins during contended phases: {len(logins)} "
        f"({len(logins) / load_time:.1f}/s), "
        f"login median {statistics.median(logins) * ms:.1f} ms"
    )
    for label, values in [("SessionUpdate alone", alone), ("SessionUpdate contended", contended)]:
        print(
            f"{label:24s} n={len(values):4d}  median {statistics.median(values) * ms:8.3f} ms"
            f"   p99 {_percentile(values, 0.99) * ms:8.3f} ms"
        )
    ratio = statistics.median(contended) / statistics.median(alone)
    print(f"contended / alone (medians): {ratio:.1f}   run: {total:.1f} s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=1000, help="per phase kind (default 1000)")
    parser.add_argument("--rounds", type=int, default=5, help="alone/contended pairs (default 5)")
    parser.add_argument("--sleep-ms", type=float, default=2.0, help="pause between calls")
    parser.add_argument("--seconds", type=float, default=50.0, help="time budget of all phases")
    args = parser.parse_args()
    main(args.samples, args.rounds, args.sleep_ms, args.seconds)

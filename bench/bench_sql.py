"""SQL backend: login lookup at scale, engine overhead per backend, PostgreSQL throughput.

Run by hand: ``PYTHONPATH=src python bench/bench_sql.py [--parts 123] [--small N]
[--large N] [--lookups N] [--samples N] [--seconds S] [--rounds R] [--sync-only]
[--profile]`` (about 2 minutes with the defaults). ``WSACTIONS_TEST_POSTGRES`` names the
server (default ``postgresql+psycopg://postgres@127.0.0.1:5432/test``, as for the test
suite). Every table lives in a new SQLite file or a new PostgreSQL schema of its own; the
files and schemas are removed at the end.

1. **Login lookup**: ``storage.accounts.find_account(email_key)`` alone (no hashing, no
   engine) with 1,000 and with 1,000,000 accounts, on SQLite (a file) and on PostgreSQL.
   The accounts (``_account_row`` of an Account, as the backend stores them) go in in bulk
   (SQLite: executemany of ``schema.accounts`` inserts in batches of 50,000 in one
   transaction; PostgreSQL: ``COPY``, then ``VACUUM ANALYZE``). Random existing keys; the
   four stores take turns call by call, in rotating order, so that machine noise hits all
   alike. Goal: the large store within 1.5x of the small one (medians) on both databases.
2. **Engine overhead**: ``registry.execute`` of SessionUpdate and of AddressCreate (a
   German address) for a logged-in browser (testing hashing), on memory, SQLite,
   PostgreSQL, and -- a diagnostic -- PostgreSQL with ``synchronous_commit=off`` (commits
   do not wait for the WAL flush: the difference is what the commit's fsync costs on this
   disk). Interleaved call by call; every created address is deleted again (untimed), so
   each AddressCreate is the account's first address. Medians, p99, ratio to memory.
3. **Throughput on PostgreSQL**: worker processes (spawn), each with its own
   ``SqlStorage(url, schema=...)`` and Harness on one shared schema and an account of its
   own, run a fixed mix of non-hashing actions (SessionUpdate, AddressCreate,
   SetMainAddress, accountDisplayNameUpdate, AccountSetCustomerData, AddressDelete) back to
   back for *seconds*, all starting at one barrier. 1 and 2 processes alternate for
   *rounds* rounds; the same again with ``synchronous_commit=off`` unless ``--sync-only``.
   Prints actions/s and the ratio of the medians (goal: 2 processes >= 1.8x one, on a
   2-core machine), and where the time went, as cores busy during each phase (from
   /proc): the worker processes, all PostgreSQL processes, and everything else on the
   machine (other load makes the 2-process phases unreliable). ``--profile`` adds a
   CPU-clock cProfile of one worker running alone, by package and function.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import multiprocessing as mp
import os
import pstats
import random
import secrets
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from wsactions.backends.sql import SqlStorage, _account_row, create_all
from wsactions.backends.sql import schema as sql_schema
from wsactions.models import Account
from wsactions.protocols import Storage
from wsactions.testing import Client, Harness

POSTGRES_URL = os.environ.get(
    "WSACTIONS_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
ADDRESS = {
    "address.firstName": "Erika",
    "address.lastName": "Mustermann",
    "address.street": "Heidestraße",
    "address.houseNumber": "17",
    "address.zip": "51147",
    "address.city": "Köln",
    "address.country": "DE",
}
CUSTOMER_DATA_FIELDS = frozenset({"salutation", "phone"})
FILL_BATCH = 50_000
MIX = (
    "SessionUpdate",
    "AddressCreate",
    "SetMainAddress",
    "accountDisplayNameUpdate",
    "AccountSetCustomerData",
    "AddressDelete",
)


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, int(len(ordered) * q) - 1)]


def _us(samples: list[float]) -> str:
    return (
        f"n={len(samples):5d}  median {statistics.median(samples) * 1e6:8.1f} us"
        f"   p99 {_percentile(samples, 0.99) * 1e6:8.1f} us"
    )


# stores ----------------------------------------------------------------------------------


class _Stores:
    """Fresh SQLite files and PostgreSQL schemas; the schemas are dropped on close."""

    def __init__(self) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="wsactions-bench-"))
        self.schemas: list[str] = []
        self.opened: list[SqlStorage] = []

    def sqlite(self) -> SqlStorage:
        url = f"sqlite:///{self.tmp / secrets.token_hex(6)}.db"
        create_all(url)
        return self._open(SqlStorage(url))

    def postgres(self, *, synchronous_commit: bool = True) -> SqlStorage:
        name = f"wsa_bench_{secrets.token_hex(6)}"
        engine = sa.create_engine(POSTGRES_URL)
        with engine.begin() as connection:
            connection.execute(sa.text(f'CREATE SCHEMA "{name}"'))
        engine.dispose()
        self.schemas.append(name)
        create_all(POSTGRES_URL, schema=name)
        return self._open(_postgres(name, synchronous_commit))

    def _open(self, storage: SqlStorage) -> SqlStorage:
        self.opened.append(storage)
        return storage

    def close(self) -> None:
        while self.opened:
            self.opened.pop().close()
        if self.schemas:
            engine = sa.create_engine(POSTGRES_URL)
            with engine.begin() as connection:
                for name in self.schemas:
                    connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
            engine.dispose()
        for path in self.tmp.iterdir():
            path.unlink()
        self.tmp.rmdir()


def _postgres(schema: str, synchronous_commit: bool = True) -> SqlStorage:
    """A storage on *schema*; without *synchronous_commit*, its sessions do not wait for the
    WAL flush at commit (a diagnostic: what the commit's fsync costs on this disk)."""
    storage = SqlStorage(POSTGRES_URL, schema=schema)
    if not synchronous_commit:

        @sa.event.listens_for(storage.engine.pool, "connect")
        def _no_flush_wait(dbapi_connection: Any, record: Any) -> None:
            with dbapi_connection.cursor() as cursor:
                cursor.execute("SET synchronous_commit = off")
            dbapi_connection.commit()

    return storage


# 1. login lookup ---------------------------------------------------------------------------

_COLUMNS = [c.name for c in sql_schema.accounts.columns if c.name != "seq"]


def _email_key(i: int) -> str:
    return f"customer{i:07d}@example.com"


def _account_rows(start: int, stop: int, now: float) -> list[dict[str, Any]]:
    """Account rows as the backend stores them: ``_account_row`` of one Account, copied
    with its identity changed (so that every NOT NULL column is set, whatever the model
    holds)."""
    template = _account_row(
        Account(
            id="",
            email="",
            email_key="",
            password_hash="$argon2id$v=19$m=8,t=1,p=1$" + "a" * 70,
            active=True,
            verified=True,
            security_stamp="",
            created_at=now,
        )
    )
    rows = []
    for i in range(start, stop):
        row = dict(template)
        row["id"] = f"acct-{i:07d}-{'x' * 9}"
        row["email"] = row["email_key"] = _email_key(i)
        row["security_stamp"] = f"stamp-{i:016d}"
        rows.append(row)
    return rows


def _copy_value(value: Any) -> Any:
    """A value as the backend's JSON text columns store it (COPY skips bind processing)."""
    return json.dumps(value, sort_keys=True) if isinstance(value, dict | list) else value


def _fill(storage: SqlStorage, count: int) -> float:
    """Store *count* accounts in one transaction; the seconds it took."""
    start = time.perf_counter()
    now = time.time()
    table = sql_schema.accounts
    if storage.engine.dialect.name == "postgresql":
        raw = storage.engine.raw_connection()
        try:
            driver = raw.driver_connection
            assert driver is not None
            columns = ", ".join(_COLUMNS)
            name = f'"{storage.schema}".{table.name}'
            with (
                driver.cursor() as cursor,
                cursor.copy(f"COPY {name} ({columns}) FROM STDIN") as copy,
            ):
                for first in range(0, count, FILL_BATCH):
                    for row in _account_rows(first, min(count, first + FILL_BATCH), now):
                        copy.write_row([_copy_value(row[c]) for c in _COLUMNS])
            driver.commit()
        finally:
            raw.close()
        with storage.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.exec_driver_sql(f'VACUUM ANALYZE "{storage.schema}".{table.name}')
    else:
        with storage.engine.begin() as c:
            for first in range(0, count, FILL_BATCH):
                c.execute(table.insert(), _account_rows(first, min(count, first + FILL_BATCH), now))
        with storage.engine.connect() as c:
            c.exec_driver_sql("ANALYZE")
    return time.perf_counter() - start


def bench_lookup(stores: _Stores, small: int, large: int, lookups: int) -> None:
    print(f"== 1. login lookup: find_account(email_key) with {small:,} vs {large:,} accounts")
    targets: list[tuple[str, int, SqlStorage]] = []
    for label, make in (("SQLite", stores.sqlite), ("PostgreSQL", stores.postgres)):
        for size in (small, large):
            storage = make()
            seconds = _fill(storage, size)
            print(f"   filled {label} with {size:>9,} accounts in {seconds:5.1f} s")
            targets.append((label, size, storage))
    rng = random.Random(1)
    for _, size, storage in targets:  # warm up: pool, statement cache
        for _ in range(200):
            assert storage.accounts.find_account(_email_key(rng.randrange(size))) is not None
    times: list[list[float]] = [[] for _ in targets]
    turns = list(zip(targets, times, strict=True))
    for i in range(lookups):
        shift = i % len(turns)  # take turns in every order
        for (_, size, storage), into in turns[shift:] + turns[:shift]:
            key = _email_key(rng.randrange(size))
            find = storage.accounts.find_account
            begin = time.perf_counter()
            found = find(key)
            into.append(time.perf_counter() - begin)
            assert found is not None
            assert found.email_key == key
    for (label, size, _), samples in zip(targets, times, strict=True):
        print(f"   {label:10s} {size:>9,}: {_us(samples)}")
    for i in range(0, len(targets), 2):
        label = targets[i][0]
        ratio = statistics.median(times[i + 1]) / statistics.median(times[i])
        print(f"   {label:10s} {large:,} / {small:,} (medians) = {ratio:.2f}   (goal < 1.5)")


# 2. engine overhead ------------------------------------------------------------------------


def _logged_in(storage: Storage | None) -> tuple[Harness, Client]:
    shop = Harness(storage=storage, customer_data_fields=CUSTOMER_DATA_FIELDS)
    shop.registry.event_sink = None
    client = shop.client()
    shop.log_in(client, shop.create_account(f"bench-{secrets.token_hex(4)}@example.com"))
    return shop, client


class _Timed:
    """SessionUpdate and AddressCreate of one logged-in browser, timed one execute each."""

    def __init__(self, label: str, storage: Storage | None) -> None:
        self.label = label
        self.shop, self.client = _logged_in(storage)
        account_id = self.client.session.account_id
        assert account_id is not None
        self.account_id = account_id
        self.handles = {
            name: self.client.create(name) for name in ("SessionUpdate", "AddressCreate")
        }
        self.times: dict[str, list[float]] = {"SessionUpdate": [], "AddressCreate": []}

    def _execute(self, name: str, fields: dict[str, str], record: bool) -> Any:
        handle = self.handles[name]
        form = {"wsact": handle.id, "wscsrf": handle.csrf, **fields}
        ctx = self.client.context()
        execute = self.shop.registry.execute
        begin = time.perf_counter()
        result = execute(ctx, form)
        elapsed = time.perf_counter() - begin
        if not result.success:
            raise RuntimeError(f"{self.label} {name} failed: {result.errors}")
        if record:
            self.times[name].append(elapsed)
        return result

    def round(self, i: int, record: bool = True) -> None:
        self._execute("SessionUpdate", {"session.step": f"s{i % 7}"}, record)
        created = self._execute("AddressCreate", ADDRESS, record)
        assert self.shop.accounts.delete_address(self.account_id, created.data["addressId"])


def bench_engine(stores: _Stores, samples: int) -> None:
    print("== 2. engine overhead: registry.execute, logged in, testing hashing")
    backends = [
        _Timed("memory", None),
        _Timed("SQLite", stores.sqlite()),
        _Timed("PostgreSQL", stores.postgres()),
        _Timed("PG no-sync", stores.postgres(synchronous_commit=False)),
    ]
    for backend in backends:
        for i in range(30):
            backend.round(i, record=False)
    for i in range(samples):
        shift = i % len(backends)  # take turns in every order
        for backend in backends[shift:] + backends[:shift]:
            backend.round(i)
    for name in ("SessionUpdate", "AddressCreate"):
        base = statistics.median(backends[0].times[name])
        for backend in backends:
            values = backend.times[name]
            ratio = statistics.median(values) / base
            print(f"   {name:14s} {backend.label:10s} {_us(values)}   x{ratio:6.1f} memory")
    print("   (PG no-sync: synchronous_commit=off, a diagnostic: the rest is the commit's fsync)")


# 3. throughput ----------------------------------------------------------------------------


class _Mixer:
    """One logged-in browser running the action mix back to back."""

    def __init__(self, shop: Harness, email: str) -> None:
        self.shop = shop
        self.client = shop.client()
        shop.log_in(self.client, shop.create_account(email))
        self.handles = {name: self.client.create(name) for name in MIX}
        self.address_id = ""
        self.i = 0

    def step(self, name: str) -> None:
        self.i += 1
        i = self.i
        fields: dict[str, str]
        if name == "SessionUpdate":
            fields = {"session.step": f"s{i % 7}"}
        elif name == "AddressCreate":
            fields = ADDRESS
        elif name in ("SetMainAddress", "AddressDelete"):
            fields = {"addressId": self.address_id}
        elif name == "accountDisplayNameUpdate":
            fields = {"displayName": f"Erika {i}"}
        else:
            fields = {"customerData.phone": f"+49 221 {i}", "customerData.salutation": "Ms"}
        handle = self.handles[name]
        result = self.client.post({"wsact": handle.id, "wscsrf": handle.csrf, **fields})
        if not result.success:
            raise RuntimeError(f"{name} failed: {result.errors}")
        if name == "AddressCreate":
            self.address_id = result.data["addressId"]

    def run(self, seconds: float) -> int:
        """Whole mixes for *seconds* (checked after every mix); the actions done."""
        done = 0
        deadline = time.perf_counter() + seconds
        while True:
            for name in MIX:
                self.step(name)
                done += 1
            if time.perf_counter() >= deadline:
                return done


def _worker_shop(schema: str, synchronous_commit: bool) -> Harness:
    storage = _postgres(schema, synchronous_commit)
    shop = Harness(storage=storage, customer_data_fields=CUSTOMER_DATA_FIELDS)
    shop.registry.event_sink = None
    return shop


def _worker(
    schema: str, sync: bool, email: str, seconds: float, start: Any, done: Any, results: Any
) -> None:
    shop = _worker_shop(schema, sync)
    try:
        mixer = _Mixer(shop, email)
        mixer.run(0.3)  # warm up
        start.wait()
        cpu = time.process_time()
        wall = time.perf_counter()
        count = mixer.run(seconds)
        results.put((count, time.perf_counter() - wall, time.process_time() - cpu))
        done.wait()  # keep the PostgreSQL backend alive until its CPU time is read
    except BaseException as error:
        results.put(error)
        raise
    finally:
        shop.storage.close()  # type: ignore[attr-defined]


def _postgres_cpu() -> float:
    """CPU seconds (user + system) of every running PostgreSQL process on this machine."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        comm_end = stat.rindex(")")
        if not stat[stat.index("(") + 1 : comm_end].startswith("postgres"):
            continue
        fields = stat[comm_end + 2 :].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def _machine_busy() -> float:
    """CPU seconds all cores of this machine spent busy so far (/proc/stat; not idle,
    not waiting for I/O)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def _phase(schema: str, sync: bool, processes: int, seconds: float, tag: str) -> dict[str, float]:
    spawn = mp.get_context("spawn")
    start = spawn.Barrier(processes + 1)
    done = spawn.Event()
    results = spawn.Queue()
    workers = [
        spawn.Process(
            target=_worker,
            args=(schema, sync, f"{tag}-{n}@example.com", seconds, start, done, results),
        )
        for n in range(processes)
    ]
    for worker in workers:
        worker.start()
    try:
        start.wait(timeout=120)
        pg_before, busy_before = _postgres_cpu(), _machine_busy()
        began = time.perf_counter()
        reports = [results.get(timeout=seconds + 60) for _ in workers]
        wall = time.perf_counter() - began
        pg_cpu, busy = _postgres_cpu() - pg_before, _machine_busy() - busy_before
    finally:
        done.set()
        for worker in workers:
            worker.join(timeout=30)
    for report in reports:
        if isinstance(report, BaseException):
            raise RuntimeError("a worker failed") from report
    return {
        "actions": sum(r[0] for r in reports),
        "rate": sum(r[0] / r[1] for r in reports),
        "wall": wall,
        "worker_cpu": sum(r[2] for r in reports),
        "pg_cpu": pg_cpu,
        "busy": busy,
    }


def _profile(schema: str, seconds: float) -> None:
    """Where one worker's CPU goes (synchronous_commit=off, so that it is busy): cProfile
    with a CPU-time clock, as totals per package and the top functions."""
    shop = _worker_shop(schema, False)
    try:
        mixer = _Mixer(shop, "profiled@example.com")
        mixer.run(0.3)
        profiler = cProfile.Profile(time.process_time)
        wall = time.perf_counter()
        profiler.enable()
        count = mixer.run(seconds)
        profiler.disable()
        wall = time.perf_counter() - wall
    finally:
        shop.storage.close()  # type: ignore[attr-defined]
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    packages: dict[str, float] = {}
    for (filename, _, _), (_, _, tottime, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        package = next(
            (p for p in ("sqlalchemy", "psycopg", "wsactions", "attrs") if f"/{p}/" in filename),
            "other (stdlib, builtins, C calls)",
        )
        packages[package] = packages.get(package, 0.0) + tottime
    cpu = sum(packages.values())
    print(
        f"   cProfile (CPU clock) of one worker alone, synchronous_commit=off: {count} actions"
        f" in {wall:.1f} s wall, {cpu:.2f} s CPU under the profiler"
    )
    for package, spent in sorted(packages.items(), key=lambda item: -item[1]):
        print(f"     {package:34s} {spent:6.2f} s  {spent / cpu:4.0%}")
    stats.sort_stats("tottime").print_stats(15)
    print("\n".join("   " + line for line in out.getvalue().splitlines() if line.strip()))


def bench_throughput(
    stores: _Stores, seconds: float, rounds: int, no_sync_too: bool, profile: bool
) -> None:
    print(f"== 3. PostgreSQL throughput: action mix, {seconds:g} s per phase, {rounds} rounds")
    print(f"   mix: {', '.join(MIX)}")
    shared = stores.postgres()
    schema = shared.schema
    assert schema is not None
    _round_trips(shared)
    modes = [True, False] if no_sync_too else [True]
    phases: dict[tuple[bool, int], list[dict[str, float]]] = {}
    for r in range(rounds):
        for sync in modes:
            for processes in (1, 2):
                phase = _phase(schema, sync, processes, seconds, f"r{r}s{sync:d}p{processes}")
                phases.setdefault((sync, processes), []).append(phase)
                wall = phase["wall"]
                others = phase["busy"] - phase["worker_cpu"] - phase["pg_cpu"]
                print(
                    f"   round {r + 1} {_mode(sync)} {processes} proc: "
                    f"{phase['actions']:6.0f} actions {phase['rate']:7.1f} actions/s   "
                    f"cores busy: workers {phase['worker_cpu'] / wall:4.2f}"
                    f"  postgres {phase['pg_cpu'] / wall:4.2f}"
                    f"  others {others / wall:4.2f}"
                    f"  (of {os.cpu_count()})"
                )
    for sync in modes:
        rates = {n: statistics.median(p["rate"] for p in phases[sync, n]) for n in (1, 2)}
        for n, rate in rates.items():
            runs = phases[sync, n]
            worker = statistics.median(p["worker_cpu"] / p["actions"] * 1e6 for p in runs)
            pg = statistics.median(p["pg_cpu"] / p["actions"] * 1e6 for p in runs)
            print(
                f"   {_mode(sync)} {n} proc: median {rate:7.1f} actions/s"
                f" = {1e6 / rate * n:6.0f} us wall per action per process;"
                f"  CPU per action: worker {worker:5.0f} us, postgres {pg:4.0f} us"
            )
        goal = "   (goal >= 1.8)" if sync else "   (diagnostic)"
        print(f"   {_mode(sync)} 2 processes / 1 process = {rates[2] / rates[1]:.2f}{goal}")
    if profile:
        _profile(schema, seconds)


def _spin() -> None:
    os.nice(19)
    while True:
        pass


def _round_trips(storage: SqlStorage) -> None:
    """The latency of one ``SELECT 1`` on an idle machine and with every core kept busy by
    a nice-19 spinner: what an idle virtual CPU's wake-up adds to each round trip."""
    raw = storage.engine.raw_connection()

    def median_round_trip() -> float:
        cursor = raw.cursor()
        samples = []
        for _ in range(3000):
            begin = time.perf_counter()
            cursor.execute("SELECT 1")
            cursor.fetchall()
            samples.append(time.perf_counter() - begin)
        cursor.close()
        return statistics.median(samples) * 1e6

    try:
        idle = median_round_trip()
        spawn = mp.get_context("spawn")
        spinners = [spawn.Process(target=_spin, daemon=True) for _ in range(os.cpu_count() or 1)]
        for spinner in spinners:
            spinner.start()
        time.sleep(1.0)
        try:
            busy = median_round_trip()
        finally:
            for spinner in spinners:
                spinner.kill()
                spinner.join()
        raw.rollback()
    finally:
        raw.close()
    print(
        f"   round trip SELECT 1: median {idle:5.1f} us on the idle machine,"
        f" {busy:5.1f} us with every core kept busy (nice 19)"
    )


def _mode(sync: bool) -> str:
    return "synchronous_commit=on " if sync else "synchronous_commit=off"


def main(args: argparse.Namespace) -> None:
    began = time.perf_counter()
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    stores = _Stores()
    try:
        if "1" in args.parts:
            bench_lookup(stores, args.small, args.large, args.lookups)
            stores.close()
            stores = _Stores()
        if "2" in args.parts:
            bench_engine(stores, args.samples)
        if "3" in args.parts:
            bench_throughput(stores, args.seconds, args.rounds, not args.sync_only, args.profile)
    finally:
        stores.close()
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"run: {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", default="123", help="which parts to run (default 123)")
    parser.add_argument("--small", type=int, default=1000, help="accounts, small store")
    parser.add_argument("--large", type=int, default=1_000_000, help="accounts, large store")
    parser.add_argument("--lookups", type=int, default=3000, help="lookups per store")
    parser.add_argument("--samples", type=int, default=500, help="executes per action/backend")
    parser.add_argument("--seconds", type=float, default=5.0, help="throughput phase length")
    parser.add_argument("--rounds", type=int, default=3, help="1-/2-process phase pairs")
    parser.add_argument(
        "--sync-only", action="store_true", help="part 3 without the synchronous_commit=off runs"
    )
    parser.add_argument("--profile", action="store_true", help="cProfile one worker (part 3)")
    main(parser.parse_args())

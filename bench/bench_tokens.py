"""Memory backend scaling: AccountRegister with few and with many outstanding tokens.

Run by hand: ``PYTHONPATH=src python bench/bench_tokens.py [--samples N]
[--small N] [--large N] [--batches N]``.

Two shops with in-memory storage (cheap testing hashing, mail limits raised
so that no registration is refused): one holds 1,000 outstanding opt-in
tokens, the other 1,000,000, stored directly through the public TokenStore
API (``tokens.add``), one per account. Registrations (each a new browser and
a new address, each issuing a ``verify`` token) go to the two shops in turn,
so that machine noise hits both alike; ``registry.execute`` is timed as
:class:`wsactions.testing.Client` posts it. Then each shop gets 1,000 /
1,000,000 other accounts (each its own company, stored with
``accounts.add_account``) and a company of 10 members, and
``accounts.list_members`` of that company is timed the same way, in batches.

Prints median and p99 for both sizes and the ratio of the medians. Goal: the
large store within 1.5x of the small one (before the token store was indexed
by account, AccountRegister was 43x slower with 1,000,000 tokens).
"""

from __future__ import annotations

import argparse
import statistics
import time

from wsactions import RateLimit
from wsactions.models import Account, TokenRecord
from wsactions.testing import Harness

PASSWORD = "correct horse battery staple 42"
UNLIMITED = RateLimit(limit=10**9, window=3600)
BATCH = 100


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, int(len(ordered) * q) - 1)]


def _shop(tokens: int) -> Harness:
    shop = Harness(mail_per_client=UNLIMITED, mail_per_address=UNLIMITED)
    shop.registry.event_sink = None
    now = shop.clock.now()
    add = shop.tokens.add
    for i in range(tokens):
        add(TokenRecord(f"{i:064x}", "verify", f"acct-{i:08d}", now, now + 86400.0))
    return shop


def _register(shop: Harness, i: int) -> float:
    """One successful AccountRegister from a new browser; its duration in seconds."""
    client = shop.client(client_address=f"198.51.100.{i % 250}")
    handle = client.create("AccountRegister")
    form = {
        "wsact": handle.id,
        "wscsrf": handle.csrf,
        "email": f"customer{i}@example.com",
        "password": PASSWORD,
        "passwordRepeat": PASSWORD,
    }
    ctx = client.context()
    start = time.perf_counter()
    result = shop.registry.execute(ctx, form)
    elapsed = time.perf_counter() - start
    if not result.success:
        raise RuntimeError(f"registration {i} failed: {result.errors}")
    return elapsed


def _add_accounts(shop: Harness, count: int) -> str:
    """*count* single-account companies, then a company of 10; that company's id."""
    now = shop.clock.now()
    add = shop.accounts.add_account
    for i in range(count):
        account_id = f"other-{i:08d}"
        email = f"other{i}@example.com"
        add(Account(account_id, email, email, company_id=account_id, admin=True, created_at=now))
    company = "company-ten"
    for i in range(10):
        email = f"member{i}@example.com"
        add(Account(f"member-{i}", email, email, company_id=company, admin=i == 0))
    return company


def _report(label: str, small: list[float], large: list[float], sizes: tuple[int, int]) -> None:
    us = 1e6
    for size, values in zip(sizes, (small, large), strict=True):
        p50, p99 = statistics.median(values) * us, _percentile(values, 0.99) * us
        print(
            f"{label} with {size:>9,}: n={len(values):4d}  median {p50:9.2f} us   p99 {p99:9.2f} us"
        )
    ratio = statistics.median(large) / statistics.median(small)
    print(f"{label}: {sizes[1]:,} / {sizes[0]:,} (medians) = {ratio:.2f}   (goal <= 1.5)")


def main(samples: int = 300, small: int = 1000, large: int = 1_000_000, batches: int = 300) -> None:
    start = time.perf_counter()
    shops = (_shop(small), _shop(large))
    print(f"filled {small:,} + {large:,} tokens in {time.perf_counter() - start:.1f} s")

    for shop in shops:  # warm up: hasher, strength scorer, caches
        for i in range(5):
            _register(shop, 10**6 + i)
    times: tuple[list[float], list[float]] = ([], [])
    for i in range(samples):
        for shop, into in zip(shops, times, strict=True):
            into.append(_register(shop, i))
    _report("AccountRegister", *times, (small, large))

    start = time.perf_counter()
    companies = [_add_accounts(shop, n) for shop, n in zip(shops, (small, large), strict=True)]
    print(f"added {small:,} + {large:,} accounts in {time.perf_counter() - start:.1f} s")
    lists: tuple[list[float], list[float]] = ([], [])
    for _ in range(batches):
        for shop, company, into in zip(shops, companies, lists, strict=True):
            list_members = shop.accounts.list_members
            begin = time.perf_counter()
            for _ in range(BATCH):
                members = list_members(company)
            into.append((time.perf_counter() - begin) / BATCH)
            assert len(members) == 10
    _report("list_members(10)", *lists, (small, large))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=300, help="registrations per size")
    parser.add_argument("--small", type=int, default=1000, help="tokens / accounts, small store")
    parser.add_argument("--large", type=int, default=1_000_000, help="tokens / accounts, large")
    parser.add_argument("--batches", type=int, default=300, help=f"list_members batches of {BATCH}")
    args = parser.parse_args()
    main(args.samples, args.small, args.large, args.batches)

"""Login cost against one bare argon2 verify with the same parameters.

Run by hand: ``python bench/bench_login.py [rounds]``. Uses the production
argon2 profile (RFC 9106 low memory). Login and bare verify are measured
interleaved, so that machine noise hits both alike; prints medians and their
ratio (target: at most 1.01), and the unknown-account and wrong-password
medians (they should match the successful login: no timing oracle), and the
same for an account with a TOTP second factor (the right password answers
``secondFactorRequired``; its cost should match a plain account's login).

Then the non-hashing part of a Login: the same measurement with argon2's
cheapest parameters (``TESTING_HASHING``), so the difference of the medians
is what Login does besides verifying (target: at most 0.3 ms).
"""

from __future__ import annotations

import random
import statistics
import sys
import time

import argon2
import pyotp

from wsactions import PRODUCTION_HASHING, TESTING_HASHING, RateLimit
from wsactions.testing import Harness

PASSWORD = "correct horse battery staple 42"


def main(rounds: int = 40) -> None:
    _compare(PRODUCTION_HASHING, rounds)
    print()
    print("non-hashing part (argon2's cheapest parameters):")
    _compare(TESTING_HASHING, 2000, overhead=True)


def _compare(parameters: argon2.Parameters, rounds: int, *, overhead: bool = False) -> None:
    # The fake clock moves one window on per round: wrong passwords never lock the account.
    throttle = RateLimit(limit=100, window=60)
    shop = Harness(password_hashing=parameters, login_throttle=throttle)
    shop.registry.event_sink = None
    setup = shop.client()
    assert setup.submit(
        "AccountRegister", email="bench@example.com", password=PASSWORD, passwordRepeat=PASSWORD
    ).success
    bare = argon2.PasswordHasher.from_parameters(parameters)
    stored = shop.accounts.find_account("bench@example.com").password_hash
    owner = shop.client()
    assert owner.submit(
        "AccountRegister", email="totp@example.com", password=PASSWORD, passwordRepeat=PASSWORD
    ).success
    shop.accounts.update_account(
        shop.accounts.find_account("totp@example.com").id, {"verified": True}
    )
    assert owner.submit("Login", id="totp@example.com", password=PASSWORD).success
    secret = owner.submit("TotpSetup").data["secret"]
    enrol = pyotp.TOTP(secret).at(shop.clock.now())
    assert owner.submit("TotpConfirm", code=enrol).success

    def login(identifier: str, password: str) -> float:
        client = shop.client()
        handle = client.create("Login")
        form = {"wsact": handle.id, "wscsrf": handle.csrf, "id": identifier, "password": password}
        ctx = client.context()
        start = time.perf_counter()
        result = shop.registry.execute(ctx, form)
        elapsed = time.perf_counter() - start
        assert result.success == (identifier == "bench@example.com" and password == PASSWORD)
        if identifier == "totp@example.com" and password == PASSWORD:
            assert result.codes == {"secondFactorRequired"}
        return elapsed

    def verify() -> float:
        start = time.perf_counter()
        bare.verify(stored, PASSWORD)
        return time.perf_counter() - start

    logins: list[float] = []
    verifies: list[float] = []
    unknown: list[float] = []
    wrong: list[float] = []
    totp_right: list[float] = []
    totp_wrong: list[float] = []
    login("bench@example.com", PASSWORD)  # warm up (dummy hash, caches)
    login("nobody@example.com", PASSWORD)
    order = random.Random(7)
    for i in range(rounds):
        steps = [
            lambda: verifies.append(verify()),
            lambda: logins.append(login("bench@example.com", PASSWORD)),
            lambda i=i: unknown.append(login(f"nobody{i}@example.com", PASSWORD)),
        ]
        steps.append(lambda: wrong.append(login("bench@example.com", PASSWORD + "x")))
        steps.append(lambda: totp_right.append(login("totp@example.com", PASSWORD)))
        steps.append(lambda: totp_wrong.append(login("totp@example.com", PASSWORD + "x")))
        order.shuffle(steps)
        shop.clock.advance(throttle.window)
        for step in steps:
            step()
    ms = 1000
    v, l_ = statistics.median(verifies), statistics.median(logins)
    print(
        f"rounds: {rounds}  argon2: t={parameters.time_cost} "
        f"m={parameters.memory_cost} KiB p={parameters.parallelism}"
    )
    print(f"bare verify           median {v * ms:8.2f} ms")
    print(f"Login (success)       median {l_ * ms:8.2f} ms   ratio {l_ / v:.4f}")
    print(f"Login (unknown id)    median {statistics.median(unknown) * ms:8.2f} ms")
    print(f"Login (wrong pw)      median {statistics.median(wrong) * ms:8.2f} ms")
    t = statistics.median(totp_right)
    print(f"Login TOTP (right pw) median {t * ms:8.2f} ms   ratio to Login (success) {t / l_:.4f}")
    print(f"Login TOTP (wrong pw) median {statistics.median(totp_wrong) * ms:8.2f} ms")
    if overhead:
        print(f"Login - bare verify (medians): {(l_ - v) * ms:.3f} ms  (target <= 0.3 ms)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 40)

"""What logging in without a password costs, next to a password Login (production argon2).

Run by hand: ``python bench/bench_passwordless.py [rounds]`` (in-memory storage, the engine
only, interleaved rounds; medians in ms):

- Login with the password (one argon2 verify);
- a passkey: PasskeyLoginOptions, then PasskeyLogin with a P-256 assertion (the
  verification of py_webauthn; the software authenticator's signing is outside the timing);
- a code: LoginCode with the mailed code (LoginCodeRequest outside the timing);
- LoginCodeRequest for a known and for an unknown address (E37: both answer success; the
  known one also stores a token and renders the mail, which the timing shows).
"""

from __future__ import annotations

import random
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from softkey import SoftKey
from wsactions import PRODUCTION_HASHING, RateLimit
from wsactions.testing import Harness

PASSWORD = "correct horse battery staple 42"
ORIGIN = "https://shop.example"


def main(rounds: int = 30) -> None:
    plenty = RateLimit(limit=10_000, window=60)
    shop = Harness(
        password_hashing=PRODUCTION_HASHING,
        login_throttle=RateLimit(limit=100, window=60),
        mail_per_address=plenty,
        mail_per_client=plenty,
    )
    shop.registry.event_sink = None
    owner = shop.client()
    shop.create_account("bench@example.com", PASSWORD)
    assert owner.submit("Login", id="bench@example.com", password=PASSWORD).success
    key = SoftKey()
    options = owner.submit("PasskeyRegisterOptions").data["options"]
    assert owner.submit("PasskeyRegister", credential=key.create(options, ORIGIN)).success

    def timed(work: object) -> float:
        start = time.perf_counter()
        work()  # type: ignore[operator]
        return time.perf_counter() - start

    def password() -> float:
        browser = shop.client()
        browser.create("Login")
        return timed(
            lambda: browser.submit("Login", id="bench@example.com", password=PASSWORD)
        )

    def passkey() -> float:
        browser = shop.client()
        start = time.perf_counter()
        options = browser.submit("PasskeyLoginOptions").data["options"]
        prepared = time.perf_counter() - start
        credential = key.get(options, ORIGIN)  # the authenticator's work: not timed
        start = time.perf_counter()
        assert browser.submit("PasskeyLogin", credential=credential).success
        return prepared + time.perf_counter() - start

    def code() -> float:
        browser = shop.client()
        assert browser.submit("LoginCodeRequest", email="bench@example.com").success
        found = re.search(r"^\s*(\d{6})\s*$", shop.outbox[-1].text, re.M)
        assert found
        start = time.perf_counter()
        assert browser.submit("LoginCode", code=found.group(1)).success
        return time.perf_counter() - start

    def request(email: str) -> float:
        browser = shop.client()
        return timed(lambda: browser.submit("LoginCodeRequest", email=email))

    results: dict[str, list[float]] = {
        "Login (password)": [],
        "passkey (options + login)": [],
        "LoginCode": [],
        "LoginCodeRequest (known)": [],
        "LoginCodeRequest (unknown)": [],
    }
    steps = [
        ("Login (password)", password),
        ("passkey (options + login)", passkey),
        ("LoginCode", code),
        ("LoginCodeRequest (known)", lambda: request("bench@example.com")),
        ("LoginCodeRequest (unknown)", lambda: request(f"nobody{random.random()}@example.com")),
    ]
    for _name, step in steps:  # warm up
        step()
    order = random.Random(3)
    for _ in range(rounds):
        order.shuffle(steps)
        for name, step in steps:
            results[name].append(step())
        shop.clock.advance(61)
    width = max(map(len, results))
    base = statistics.median(results["Login (password)"])
    for name, values in results.items():
        median = statistics.median(values)
        ratio = median / base
        print(f"{name:<{width}}  median {median * 1000:8.3f} ms   / password Login {ratio:.3f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 30)

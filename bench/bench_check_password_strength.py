"""CheckPasswordStrength through the engine: p50/p99 per input class and length.

Run by hand: ``python bench/bench_check_password_strength.py [samples]``.
Each sample is a fresh input posted as a form to ``registry.execute`` (CSRF
check, parsing, the policy and the bounded zxcvbn score), so this is what a
shop's AJAX endpoint costs per keystroke. Target: p99 below 5 ms for every
class up to 100,000 characters.
"""

from __future__ import annotations

import random
import string
import sys
import time

from wsactions.testing import Harness

LENGTHS = (8, 16, 32, 72, 128, 1000, 10_000, 100_000)
L33T = "4@8({[<3691!|70$5+%2"
WORDS = ("correct", "horse", "battery", "staple", "shop", "river", "Lamp", "quiet", "42")


def _random(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(string.printable[:94]) for _ in range(n))


def _l33t(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(L33T + "aeiostlbg") for _ in range(n))


def _repeated(rng: random.Random, n: int) -> str:
    return rng.choice("ab1!") * n


def _passphrase(rng: random.Random, n: int) -> str:
    text = ""
    while len(text) < n:
        text += rng.choice(WORDS) + " "
    return text[:n]


CLASSES = {
    "random printable": _random,
    "l33t-dense": _l33t,
    "repeated": _repeated,
    "passphrase": _passphrase,
}


def main(samples: int = 200) -> None:
    shop = Harness()
    shop.registry.event_sink = None
    client = shop.client()
    ctx = client.context()
    handle = shop.registry.create(ctx, "CheckPasswordStrength")
    execute = shop.registry.execute
    execute(ctx, {"wsact": handle.id, "wscsrf": handle.csrf, "password": "warm up"})
    rng = random.Random(20261122)
    print(f"{'class':18s} {'length':>7s} {'p50 ms':>8s} {'p99 ms':>8s} {'max ms':>8s}")
    worst = 0.0
    for label, make in CLASSES.items():
        for length in LENGTHS:
            times = []
            for _ in range(samples):
                form = {"wsact": handle.id, "wscsrf": handle.csrf, "password": make(rng, length)}
                start = time.perf_counter()
                result = execute(ctx, form)
                times.append((time.perf_counter() - start) * 1000)
                assert result.success
            times.sort()
            p99 = times[max(0, int(len(times) * 0.99) - 1)]
            worst = max(worst, p99)
            print(
                f"{label:18s} {length:7d} {times[len(times) // 2]:8.3f} {p99:8.3f} {times[-1]:8.3f}"
            )
    print(f"worst p99: {worst:.3f} ms over {samples} samples per cell")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)

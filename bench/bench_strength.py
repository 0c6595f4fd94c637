"""Timing of ``wsactions.security.strength.score`` per input class and length.

Run by hand from the repository root::

    python bench/bench_strength.py

Prints p50/p99/max in milliseconds of ``score`` over fresh random inputs, and
for lengths up to 72 the median of plain ``zxcvbn.zxcvbn`` on the same kind
of input (skipped where one call takes more than a second).  The two last
classes are adversarial extras.  The whole run takes about a minute and a half.
"""

from __future__ import annotations

import random
import statistics
import string
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import zxcvbn
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from wsactions.security.strength import score

LENGTHS = (8, 16, 32, 72, 128, 1000, 10000, 100000)
SAMPLES = 200
ZXCVBN_MAX_LENGTH = 72
ZXCVBN_SAMPLES = 15
ZXCVBN_BUDGET_S = 2.0
ZXCVBN_SKIP_S = 1.0

L33T = "4@8({[<3691!|70$5+%2"
PRINTABLE = string.ascii_letters + string.digits + string.punctuation + " "
WORDS = [w for w in FREQUENCY_LISTS["english_wikipedia"][:5000] if len(w) >= 3]

rng = random.Random(20240601)


def random_printable(n: int) -> str:
    return "".join(rng.choices(PRINTABLE, k=n))


def l33t_dense(n: int) -> str:
    chars = list((L33T * (n // len(L33T) + 1))[: n // 2])
    chars += rng.choices(string.ascii_lowercase, k=n - len(chars))
    rng.shuffle(chars)
    return "".join(chars)


def repeated(n: int) -> str:
    return "a" * n


def passphrase(n: int) -> str:
    words: list[str] = []
    while sum(len(w) + 1 for w in words) < n:
        words.append(rng.choice(WORDS))
    return " ".join(words)[:n]


def digits(n: int) -> str:
    """Adversarial for zxcvbn: every substring is a candidate date, l33t word, repeat."""
    return "".join(rng.choices(string.digits, k=n))


def digit_runs(n: int) -> str:
    """Adversarial for the chunking: short runs of digits, each a cheap repeat."""
    out = ""
    while len(out) < n:
        out += rng.choice(string.digits) * rng.randint(3, 15)
    return out[:n]


CLASSES: dict[str, Callable[[int], str]] = {
    "random printable": random_printable,
    "l33t-dense": l33t_dense,
    "repeated 'a'*n": repeated,
    "passphrase": passphrase,
    "digits": digits,
    "digit runs": digit_runs,
}


def timed(function: Callable[[str], object], password: str) -> float:
    start = time.perf_counter()
    function(password)
    return (time.perf_counter() - start) * 1000


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[98]


def plain_zxcvbn_median(make: Callable[[int], str], n: int) -> str:
    if n > ZXCVBN_MAX_LENGTH:
        return ""

    def plain(password: str) -> object:
        return zxcvbn.zxcvbn(password)

    probe = timed(plain, make(n))
    if probe > ZXCVBN_SKIP_S * 1000:
        return f"skipped ({probe / 1000:.1f} s/call)"
    times = [probe]
    started = time.perf_counter()
    while len(times) < ZXCVBN_SAMPLES and time.perf_counter() - started < ZXCVBN_BUDGET_S:
        times.append(timed(plain, make(n)))
    return f"{statistics.median(times):9.2f} (n={len(times)})"


def main() -> None:
    score("warm-up: builds the merged dictionaries once")
    total = time.perf_counter()
    header = f"{'class':18} {'length':>7} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}"
    print(f"{header}  plain zxcvbn p50 ms")
    for name, make in CLASSES.items():
        for n in LENGTHS:
            # Long inputs: fewer distinct ones (making them is slow), each timed
            # several times; score() keeps no results between calls.
            distinct = [make(n) for _ in range(max(10, min(SAMPLES, 2_000_000 // n)))]
            inputs = [distinct[k % len(distinct)] for k in range(SAMPLES)]
            times = sorted(timed(score, password) for password in inputs)
            plain = plain_zxcvbn_median(make, n)
            print(
                f"{name:18} {n:7d} {statistics.median(times):8.3f} {p99(times):8.3f} "
                f"{times[-1]:8.3f}  {plain}",
                flush=True,
            )
    print(f"total {time.perf_counter() - total:.0f} s")


if __name__ == "__main__":
    main()

"""PasswordForgotten for a known vs an unknown address: is delivery in the timing path?

A mailer that takes 45 ms per mail (an SMTP round trip) is used bare and wrapped
in ``BackgroundMailer``; known and unknown addresses are measured interleaved.
With the bare mailer a known address is ~45 ms slower (a timing oracle); with
``BackgroundMailer`` both take the same time.

Run: ``PYTHONPATH=src python bench/bench_mail_timing.py [rounds]``
"""

from __future__ import annotations

import statistics
import sys
import time

from wsactions import BackgroundMailer, Mail, RateLimit
from wsactions.testing import Harness

DELAY = 0.045


class SlowMailer:
    """Takes as long as an SMTP delivery to a nearby server."""

    def send(self, mail: Mail) -> None:
        time.sleep(DELAY)


def measure(background: bool, rounds: int) -> tuple[float, float]:
    limits = RateLimit(limit=10**9, window=3600)
    shop = Harness(mail_per_address=limits, mail_per_client=limits)
    shop.create_account("known@example.com", "correct horse battery staple 42")
    mailer = BackgroundMailer(SlowMailer()) if background else SlowMailer()
    client = shop.client()
    times: dict[str, list[float]] = {"known@example.com": [], "unknown@example.com": []}
    for _ in range(rounds):
        for email, samples in times.items():
            ctx = shop.registry.context(
                session=client.session, storage=shop.storage, mailer=mailer, clock=shop.clock
            )
            handle = shop.registry.create(ctx, "PasswordForgotten")
            form = {"wsact": handle.id, "wscsrf": handle.csrf, "email": email}
            started = time.perf_counter()
            shop.registry.execute(ctx, form)
            samples.append(time.perf_counter() - started)
    if isinstance(mailer, BackgroundMailer):
        mailer.close()
    known = statistics.median(times["known@example.com"]) * 1000
    unknown = statistics.median(times["unknown@example.com"]) * 1000
    return known, unknown


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 40
    for background in (False, True):
        known, unknown = measure(background, rounds)
        label = "BackgroundMailer" if background else "bare mailer     "
        ratio = known / unknown
        print(f"{label}  known {known:8.2f} ms   unknown {unknown:8.2f} ms   ratio {ratio:6.1f}")


if __name__ == "__main__":
    main()

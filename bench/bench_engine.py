"""Engine overhead: ``registry.execute`` for SessionUpdate with in-memory stores.

Run by hand: ``python bench/bench_engine.py``. Prints the median and p99 time
of one execute (measured in batches, so timer overhead is spread out) next to
the floor of the work every action must do (dict lookup, a small attrs
object, an HMAC and a constant-time compare).
"""

from __future__ import annotations

import hashlib
import hmac
import statistics
import time

from wsactions import RequestInfo
from wsactions.testing import Harness

BATCH = 200
BATCHES = 500


def _per_call(fn: object, batches: int = BATCHES) -> list[float]:
    samples = []
    for _ in range(batches):
        start = time.perf_counter_ns()
        for _ in range(BATCH):
            fn()  # type: ignore[operator]
        samples.append((time.perf_counter_ns() - start) / BATCH / 1000)
    return samples


def main() -> None:
    shop = Harness()
    shop.registry.event_sink = None
    client = shop.client()
    ctx = shop.registry.context(
        session=client.session,
        storage=shop.storage,
        mailer=shop.mailer,
        clock=shop.clock,
        request=RequestInfo(client_address="203.0.113.10"),
    )
    handle = shop.registry.create(ctx, "SessionUpdate")
    form = {"wsact": handle.id, "wscsrf": handle.csrf, "session.lastViewedCategory": "Shoes"}
    assert shop.registry.execute(ctx, form).success

    key = b"k" * 32
    table = {"sessionupdate": 1}

    def floor() -> None:
        table.get("sessionupdate")
        mac = hmac.new(key, b"binding\x00sessionupdate", hashlib.sha256).hexdigest()
        hmac.compare_digest(mac, mac)

    run = lambda: shop.registry.execute(ctx, form)  # noqa: E731
    _per_call(run, 20)  # warm up
    _per_call(floor, 20)
    executes: list[float] = []
    floors: list[float] = []
    for _ in range(BATCHES):  # interleaved: noise from neighbours hits both alike
        executes += _per_call(run, 1)
        floors += _per_call(floor, 1)
    for label, samples in [
        ("execute(SessionUpdate)", sorted(executes)),
        ("floor: lookup + HMAC + compare", sorted(floors)),
    ]:
        p50 = statistics.median(samples)
        p99 = samples[int(len(samples) * 0.99) - 1]
        print(f"{label:34s} median {p50:6.2f} us   p99 {p99:6.2f} us")
    ratio = statistics.median(executes) / statistics.median(floors)
    print(f"execute / floor (medians): {ratio:.1f}")


if __name__ == "__main__":
    main()

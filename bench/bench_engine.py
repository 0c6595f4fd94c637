"""Engine overhead: ``registry.execute`` with in-memory stores.

Run by hand: ``python bench/bench_engine.py``. Prints the median and p99 time
of one SessionUpdate execute (measured in batches, so timer overhead is spread
out) next to the floor of the work every action must do (dict lookup, an HMAC
and a constant-time compare); then a logged-in customer's AddressCreate (a
German address, the account has none yet) next to ``validate_address`` of the
same fields alone.  Goals (issue "Fast from the first request"): SessionUpdate
<= 3x the floor; AddressCreate <= 2x (validation + SessionUpdate).
"""

from __future__ import annotations

import hashlib
import hmac
import statistics
import time
from collections.abc import Callable

from wsactions.addressing import validate_address
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
    ctx = client.context()
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
    _address_create(shop, run)


ADDRESS = {
    "address.firstName": "Anna",
    "address.lastName": "Beispiel",
    "address.street": "Heidestraße",
    "address.houseNumber": "17",
    "address.zip": "51147",
    "address.city": "Köln",
    "address.country": "DE",
}


def _address_create(shop: Harness, session_update: Callable[[], object], runs: int = 3000) -> None:
    """AddressCreate for an account without addresses, next to validating alone and a
    SessionUpdate: the three interleaved, each timed one call at a time."""
    client = shop.client()
    account = shop.create_account("anna@example.com")
    shop.log_in(client, account)
    ctx = client.context()
    handle = shop.registry.create(ctx, "AddressCreate")
    form = {"wsact": handle.id, "wscsrf": handle.csrf, **ADDRESS}
    fields = {key.removeprefix("address."): value for key, value in ADDRESS.items()}
    rules = shop.settings.address_rules
    accounts = shop.storage.accounts
    roles = {"main_address_id": None, "default_bill_address_id": None}
    creates: list[float] = []
    validations: list[float] = []
    updates: list[float] = []
    for _ in range(runs):
        start = time.perf_counter_ns()
        result = shop.registry.execute(ctx, form)
        creates.append((time.perf_counter_ns() - start) / 1000)
        assert result.success, result.codes
        accounts.delete_address(account.id, result.data["addressId"])  # not timed
        accounts.update_account(account.id, roles)
        start = time.perf_counter_ns()
        _, errors = validate_address(fields, rules)
        validations.append((time.perf_counter_ns() - start) / 1000)
        assert not errors
        start = time.perf_counter_ns()
        session_update()
        updates.append((time.perf_counter_ns() - start) / 1000)
    create, validate = statistics.median(creates), statistics.median(validations)
    update = statistics.median(updates)
    print(f"{'execute(AddressCreate)':34s} median {create:6.2f} us")
    print(f"{'validate_address alone':34s} median {validate:6.2f} us")
    print(f"{'execute(SessionUpdate), same loop':34s} median {update:6.2f} us")
    ratio = create / (validate + update)
    print(f"AddressCreate / (validation + SessionUpdate): {ratio:.2f}  (goal <= 2.0)")


if __name__ == "__main__":
    main()

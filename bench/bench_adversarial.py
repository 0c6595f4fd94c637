"""The cost of one request with adversarial Unicode (I34).

Every parameter of Login, AccountRegister, CheckPasswordStrength and
AddressCreate gets 99,999 characters of combining marks in non-canonical
order, the input on which NFKC takes quadratic time (20,000 characters cost
~0.3-0.9 s before the fix). Prints the median and worst time per action.

Run: ``PYTHONPATH=src python bench/bench_adversarial.py [rounds]``
"""

from __future__ import annotations

import statistics
import sys
import time

from wsactions import Account
from wsactions.testing import Harness

ADVERSARIAL = "a" + "\u0301\u0316" * 49_999
PW = "correct horse battery staple 42"
ADDRESS = {
    "address.firstName": "Erika",
    "address.lastName": "Mustermann",
    "address.street": "Heidestraße",
    "address.houseNumber": "17",
    "address.zip": "51147",
    "address.city": "Köln",
    "address.country": "DE",
}
#: Complete, valid forms: each field in turn is replaced by the adversarial value.
FORMS = {
    "Login": {"id": "m@example.com", "password": PW},
    "AccountRegister": {"email": "new@example.com", "password": PW, "passwordRepeat": PW},
    "CheckPasswordStrength": {"password": PW},
    "AddressCreate": ADDRESS,
}


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    shop = Harness()
    client = shop.client()
    member = Account(id="m", email="m@example.com", email_key="m@example.com", security_stamp="s")
    shop.accounts.add_account(member)
    shop.log_in(client, member)
    client.submit("CheckPasswordStrength", password=PW)  # builds the dictionaries once
    for name, form in FORMS.items():
        samples = []
        for _ in range(rounds):
            for field in form:
                started = time.perf_counter()
                client.submit(name, {**form, field: ADVERSARIAL})
                samples.append(time.perf_counter() - started)
        median, worst = statistics.median(samples) * 1000, max(samples) * 1000
        print(f"{name:24} median {median:8.2f} ms   max {worst:8.2f} ms   n={len(samples)}")


if __name__ == "__main__":
    main()

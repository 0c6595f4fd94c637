"""How many SQL statements the requests that matter cost on the Django ORM (the goals of
tests/backends/test_statements.py: a login ≤ 4, a failed one ≤ 3, a logged-in page 1 and
no write, an anonymous page none, AddressCreate ≤ 5, registration ≤ 4)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from helpers import PW
from strategies import DE
from wsactions.contrib.django.storage import DjangoStorage
from wsactions.testing import Client, Harness

pytestmark = pytest.mark.django_db(transaction=True)
CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


@contextmanager
def counting() -> Iterator[list[str]]:
    """The statements the block ran (transaction control left out)."""
    found: list[str] = []
    with CaptureQueriesContext(connection) as captured:
        yield found
    found += [
        " ".join(q["sql"].split()[:4])
        for q in captured.captured_queries
        if q["sql"].split()[0].upper() not in CONTROL
    ]


@pytest.fixture
def shop() -> Harness:
    shop = Harness(storage=DjangoStorage())
    shop.create_account("ann@example.com", PW)
    return shop


def browser(shop: Harness) -> Client:
    client = shop.client()
    client.create("Login")
    return client


def test_login(shop: Harness) -> None:
    client = browser(shop)
    with counting() as statements:
        assert client.submit("Login", id="ann@example.com", password=PW).success
    assert len(statements) <= 4, statements


def test_failed_login(shop: Harness) -> None:
    client = browser(shop)
    with counting() as statements:
        assert not client.submit("Login", id="ann@example.com", password="wrong one 123").success
    assert len(statements) <= 3, statements


def test_logged_in_page(shop: Harness) -> None:
    client = browser(shop)
    assert client.submit("Login", id="ann@example.com", password=PW).success
    with counting() as statements:
        view = client.view()
        assert view.wsAccount.isLoggedIn
        assert view.wsAccount.email == "ann@example.com"
    assert len(statements) == 1, statements
    assert statements[0].startswith("SELECT"), statements


def test_anonymous_page(shop: Harness) -> None:
    client = browser(shop)
    with counting() as statements:
        assert not client.view().wsAccount.isLoggedIn
        client.create("AccountRegister")
    assert statements == []


def test_address_create(shop: Harness) -> None:
    client = browser(shop)
    assert client.submit("Login", id="ann@example.com", password=PW).success
    fields = {f"address.{name}": value for name, value in DE.items()}
    with counting() as statements:
        assert client.submit("AddressCreate", fields).success
    assert len(statements) <= 5, statements


def test_registration(shop: Harness) -> None:
    client = browser(shop)
    values = {"email": "new@example.com", "password": PW, "passwordRepeat": PW}
    with counting() as statements:
        assert client.submit("AccountRegister", **values).success
    assert len(statements) <= 4, statements

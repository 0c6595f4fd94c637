"""How many SQL statements and transactions the requests that matter cost, on SQLite and
PostgreSQL: a regression here fails CI (issue goals: a login ≤ 4 statements in ≤ 2
transactions, a failed one ≤ 3; a logged-in page 1 statement and no write; an anonymous
page none; AddressCreate and registration in 2 transactions)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

import sqlstores
from helpers import PW
from sqlstores import counting
from strategies import DE
from wsactions.backends.sql import SqlStorage
from wsactions.testing import Client, Harness


@pytest.fixture(params=["sqlite", "postgresql"])
def shop(request: pytest.FixtureRequest) -> Harness:
    make: Callable[[], SqlStorage] = (
        sqlstores.sqlite_storage if request.param == "sqlite" else sqlstores.postgres_storage
    )
    shop = Harness(storage=make())
    shop.create_account("ann@example.com", PW)
    return shop


def browser(shop: Harness) -> Client:
    """A browser that has a CSRF binding already (what a page view gave it)."""
    client = shop.client()
    client.create("Login")
    return client


def test_login_in_four_statements_and_two_transactions(shop: Harness) -> None:
    """The throttle hit and the lookup, each a statement alone (the hit commits by itself,
    the read needs no transaction), then one unit of work: the locked re-read and the
    login record."""
    client = browser(shop)
    with counting(shop.storage) as counted:  # type: ignore[arg-type]
        assert client.submit("Login", id="ann@example.com", password=PW).success
    assert len(counted.statements) <= 4, counted
    assert counted.transactions <= 2, counted


def test_failed_login_in_three_statements(shop: Harness) -> None:
    """The throttle hit and the lookup: the wrong password costs no more."""
    client = browser(shop)
    with counting(shop.storage) as counted:  # type: ignore[arg-type]
        assert not client.submit("Login", id="ann@example.com", password="wrong one 123").success
    assert len(counted.statements) <= 3, counted


def test_logged_in_page_in_one_statement(shop: Harness) -> None:
    """A page of a logged-in customer reads its login and account in one statement and
    writes nothing (last_seen at most once a minute)."""
    client = browser(shop)
    assert client.submit("Login", id="ann@example.com", password=PW).success
    with counting(shop.storage) as counted:  # type: ignore[arg-type]
        view = client.view()
        assert view.wsAccount.isLoggedIn
        assert view.wsAccount.email == "ann@example.com"
    assert len(counted.statements) == 1, counted
    assert counted.writes == [], counted


def test_anonymous_page_in_no_statement(shop: Harness) -> None:
    """A visitor's page asks the database nothing."""
    client = browser(shop)
    with counting(shop.storage) as counted:  # type: ignore[arg-type]
        view = client.view()
        assert not view.wsAccount.isLoggedIn
        client.create("AccountRegister")
    assert counted.statements == [], counted


def test_address_create_in_two_transactions(shop: Harness) -> None:
    """The access check's read, then one unit of work: login and account, the address book,
    the new address and its roles."""
    client = browser(shop)
    assert client.submit("Login", id="ann@example.com", password=PW).success
    fields = {f"address.{name}": value for name, value in DE.items()}
    with counting(shop.storage) as counted:  # type: ignore[arg-type]
        assert client.submit("AddressCreate", fields).success
    assert len(counted.statements) <= 5, counted
    assert counted.transactions <= 2, counted


def test_registration_in_two_transactions(shop: Harness) -> None:
    """The two mail throttles in one transaction, then the account and its token."""
    client = browser(shop)
    values = {"email": "new@example.com", "password": PW, "passwordRepeat": PW}
    with counting(shop.storage) as counted:  # type: ignore[arg-type]
        assert client.submit("AccountRegister", **values).success
    assert len(counted.statements) <= 4, counted
    assert counted.transactions <= 2, counted

"""Attack run 3, finding 7: logins end on their own, and expired logins, opt-in tokens and
counters are swept in bounded batches, so no table grows without bound."""

from __future__ import annotations

import pytest

import sqlstores
import wsactions
from helpers import PW
from wsactions import LoginLifetime
from wsactions.actions import _common
from wsactions.backends import rules
from wsactions.errors import ConfigurationError
from wsactions.testing import Client, Harness

DAY = 24 * 3600.0


def _logged_in(shop: Harness, email: str = "a@example.com") -> Client:
    shop.create_account(email, PW)
    client = shop.client()
    assert client.submit("Login", id=email, password=PW).success
    return client


def test_attack3_7_idle_login_ends_after_30_days(shop: Harness) -> None:
    """A login not used for 30 days is refused (valid at the limit itself)."""
    alice = _logged_in(shop)
    shop.clock.advance(30 * DAY)
    assert shop.current_account(alice) is not None  # at the limit: still valid, and used
    shop.clock.advance(30 * DAY + 1)

    assert shop.current_account(alice) is None
    assert alice.submit("AccountDelete").codes == {"notLoggedIn"}
    assert shop.accounts.find_account("a@example.com") is not None


def test_attack3_7_login_ends_after_a_year_even_when_used(shop: Harness) -> None:
    """A login used every day still ends one year after it was made."""
    alice = _logged_in(shop)
    for _ in range(365):
        shop.clock.advance(DAY)
        assert shop.current_account(alice) is not None
    shop.clock.advance(1)

    assert shop.current_account(alice) is None


def test_attack3_7_lifetimes_are_settings() -> None:
    """Shops set both lifetimes; nonsense is a ConfigurationError."""
    shop = Harness(login_lifetime=LoginLifetime(idle=3600, absolute=8 * 3600))
    alice = _logged_in(shop)
    shop.clock.advance(3601)
    assert shop.current_account(alice) is None
    with pytest.raises(ConfigurationError):
        LoginLifetime(idle=10)
    with pytest.raises(ConfigurationError):
        LoginLifetime(idle=3600, absolute=600)


def test_attack3_7_expired_logins_are_not_listed(shop: Harness) -> None:
    """The account page lists only logins that still work."""
    old = _logged_in(shop)
    shop.clock.advance(20 * DAY)
    new = shop.client()
    assert new.submit("Login", id="a@example.com", password=PW).success
    shop.clock.advance(11 * DAY)  # the first login is now idle for 31 days

    assert shop.current_account(old) is None
    assert [login.current for login in new.view().globals()["wsAccount"].logins] == [True]


def test_attack3_7_logins_sweep_expired_records(
    shop: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A later login removes expired login records after its commit."""
    _logged_in(shop, "a@example.com")
    stale = shop.accounts.find_account("a@example.com")
    assert stale is not None
    shop.clock.advance(31 * DAY)
    monkeypatch.setattr(_common, "SWEEP_EVERY", 1)

    _logged_in(shop, "b@example.com")

    assert shop.logins.list_logins(stale.id) == []


def test_attack3_7_tokens_sweep_expired_records(
    shop: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A later opt-in mail removes expired tokens after its commit."""
    shop.create_account("a@example.com", PW)
    assert shop.client().submit("PasswordForgotten", email="a@example.com").success
    shop.clock.advance(2 * 3600)
    monkeypatch.setattr(_common, "SWEEP_EVERY", 1)
    shop.create_account("b@example.com", PW)

    assert shop.client().submit("PasswordForgotten", email="b@example.com").success

    tokens = shop.storage.snapshot()["tokens"]
    assert [t.account_id for t in tokens.values()] == [
        shop.accounts.find_account("b@example.com").id  # type: ignore[union-attr]
    ]


def test_attack3_7_host_sweep_is_bounded(shop: Harness) -> None:
    """wsactions.logins.sweep removes at most *limit* expired logins per call."""
    clients = [_logged_in(shop, f"u{n}@example.com") for n in range(5)]
    shop.clock.advance(31 * DAY)
    assert wsactions.logins.sweep(shop.storage, shop.settings, shop.clock.now(), limit=2) == 2
    assert wsactions.logins.sweep(shop.storage, shop.settings, shop.clock.now(), limit=9) == 3
    assert all(shop.current_account(c) is None for c in clients)
    assert wsactions.optin.sweep(shop.storage, shop.clock.now(), limit=9) == 0


@pytest.mark.parametrize("make", [sqlstores.sqlite_storage, sqlstores.postgres_storage])
def test_attack3_7_counter_sweep_is_bounded(make: object) -> None:
    """The SQL counter sweep deletes at most its batch of expired rows per sweep."""
    storage = make()  # type: ignore[operator]
    counters = storage.counters
    monkey = pytest.MonkeyPatch()
    monkey.setattr(rules, "COUNTER_SWEEP_EVERY", 5)
    monkey.setattr(rules, "COUNTER_SWEEP_BATCH", 3)
    try:
        for n in range(4):
            counters.hit(f"old-{n}", 0.0, 10.0, 5)
        assert counters.hit("new", 100.0, 10.0, 5) == 1  # the 5th hit sweeps 3 of 4

        left = [counters.count(f"old-{n}", 5.0, 10.0) for n in range(4)]
    finally:
        monkey.undo()
    assert sorted(left) == [0, 0, 0, 1]

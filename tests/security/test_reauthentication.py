"""M44 a fresh login for sensitive changes: EmailUpdate, AccountDelete and CreditCardDelete
answer reauthenticationRequired when the login's last proof is older than
Settings.reauthentication_timeout, and not before; Reauthenticate renews the proof."""

from __future__ import annotations

from typing import Any

import pytest

from helpers import PW, account_logged_in, assert_fails
from wsactions import ActionError
from wsactions.actions.payment import save_card
from wsactions.logins import current_login_id, is_fresh
from wsactions.models import SavedCard
from wsactions.testing import Client, Harness

TIMEOUT = 300.0
REQUIRED = ActionError("reauthenticationRequired")


def card(shop: Harness, account_id: str) -> SavedCard:
    """A saved card of the account, as the host's payment integration stores one."""
    return save_card(
        shop.accounts,
        account_id,
        brand="VISA",
        last4="1111",
        expiry="12/30",
        holder="Ann Example",
        pseudo_card_id="tok_reauth",
    )


def sensitive(shop: Harness, client: Client, name: str) -> Any:
    """Submit the sensitive action *name* for the logged-in account."""
    if name == "EmailUpdate":
        return client.submit(name, email="new@example.com")
    if name == "AccountDelete":
        return client.submit(name)
    account = shop.current_account(client)
    assert account is not None
    return client.submit(name, pseudoCCId=card(shop, account.id).id)


@pytest.mark.parametrize("name", ["EmailUpdate", "AccountDelete", "CreditCardDelete"])
def test_m44_sensitive_change_needs_a_fresh_login(name: str) -> None:
    """After the timeout the change answers reauthenticationRequired and changes nothing
    (no mail, no deletion); Reauthenticate with the password makes it go through."""
    shop = Harness()
    client = shop.client()
    account_logged_in(shop, client, "ann@example.com")
    shop.clock.advance(TIMEOUT + 1)
    if name == "CreditCardDelete":  # the card is stored before the snapshot
        account = shop.current_account(client)
        assert account is not None
        saved = card(shop, account.id)
        before = shop.state()
        assert_fails(client.submit(name, pseudoCCId=saved.id), REQUIRED)
        assert shop.state() == before
        assert client.submit("Reauthenticate", password=PW).success
        assert client.submit(name, pseudoCCId=saved.id).success
        return
    before, mails = shop.state(), len(shop.outbox)
    assert_fails(sensitive(shop, client, name), REQUIRED)
    assert shop.state() == before
    assert len(shop.outbox) == mails
    assert client.submit("Reauthenticate", password=PW).success
    assert sensitive(shop, client, name).success


@pytest.mark.parametrize("name", ["EmailUpdate", "AccountDelete", "CreditCardDelete"])
def test_m44_not_required_before_the_timeout(name: str) -> None:
    """Within the timeout of the login itself, the change needs no second proof."""
    shop = Harness()
    client = shop.client()
    account_logged_in(shop, client, "ann@example.com")
    shop.clock.advance(TIMEOUT)
    assert sensitive(shop, client, name).success


def test_m44_timeout_is_a_setting() -> None:
    """Settings.reauthentication_timeout decides; the proof's age counts from the last
    Reauthenticate, not from the login."""
    shop = Harness(reauthentication_timeout=60)
    client = shop.client()
    account_logged_in(shop, client, "ann@example.com")
    shop.clock.advance(61)
    assert not is_fresh(client.context())
    assert_fails(client.submit("EmailUpdate", email="new@example.com"), REQUIRED)
    shop.clock.advance(1000)
    assert client.submit("Reauthenticate", password=PW).success
    shop.clock.advance(60)
    assert client.submit("EmailUpdate", email="new@example.com").success


def test_m44_reauthenticate_records_when_and_how() -> None:
    """The login record keeps proven_at and proven_by; nothing else of it changes."""
    shop = Harness()
    client = shop.client()
    account_logged_in(shop, client, "ann@example.com")
    current = current_login_id(client.session)
    assert current is not None
    login = shop.logins.get_login(current)
    assert login is not None
    assert login.proven == login.created_at
    shop.clock.advance(1000)
    assert client.submit("Reauthenticate", password=PW).success
    renewed = shop.logins.get_login(current)
    assert renewed is not None
    assert (renewed.proven_at, renewed.proven_by) == (shop.clock.now(), "password")
    assert (renewed.created_at, renewed.account_id) == (login.created_at, login.account_id)


def test_m44_wrong_password_changes_nothing_and_is_throttled() -> None:
    """A wrong password answers invalidCredentials and leaves the login stale; the
    login_throttle limit then answers loginBlocked even for the right password; the
    owner's Login is not blocked by it (a counter of its own)."""
    shop = Harness()
    client = shop.client()
    account_logged_in(shop, client, "ann@example.com")
    shop.clock.advance(TIMEOUT + 1)
    limit = shop.settings.login_throttle.limit
    for _ in range(limit):
        before = shop.state()
        assert_fails(
            client.submit("Reauthenticate", password="wrong password 1"),
            ActionError("invalidCredentials"),
        )
        assert shop.state() == before
    assert_fails(client.submit("Reauthenticate", password=PW), ActionError("loginBlocked"))
    assert_fails(client.submit("EmailUpdate", email="new@example.com"), REQUIRED)
    other = shop.client()
    other.create("Login")
    assert other.submit("Login", id="ann@example.com", password=PW).success


@pytest.mark.parametrize(
    ("fields", "code"),
    [({"password": ""}, "missingPassword"), ({}, "missingPassword")],
)
def test_m44_reauthenticate_needs_a_password(fields: dict[str, str], code: str) -> None:
    shop = Harness()
    client = shop.client()
    account_logged_in(shop, client, "ann@example.com")
    before = shop.state()
    result = client.submit("Reauthenticate", **fields)
    assert code in result.codes
    assert shop.state() == before


def test_m44_reauthenticate_needs_a_login() -> None:
    shop = Harness()
    shop.create_account("ann@example.com", PW)
    client = shop.client()
    before = shop.state()
    assert_fails(client.submit("Reauthenticate", password=PW), ActionError("notLoggedIn"))
    assert shop.state() == before


def test_m44_a_password_is_never_echoed() -> None:
    """The password is a secret parameter: not in the result's params."""
    shop = Harness()
    client = shop.client()
    account_logged_in(shop, client, "ann@example.com")
    result = client.submit("Reauthenticate", password=PW)
    assert result.success
    assert PW not in repr(result)


def test_m44_b2b_grants_need_a_fresh_login() -> None:
    """Making a member an admin, or lifting or raising a payment limit, answers
    reauthenticationRequired after the timeout and changes nothing; lowering a limit and
    other changes do not need it; after Reauthenticate the grant goes through."""
    from decimal import Decimal

    shop = Harness()
    admin = shop.client()
    boss = account_logged_in(shop, admin, "boss@a.example")
    assert boss.company_id is not None
    member = shop.create_account("emp@a.example", PW, admin=False, company_id=boss.company_id)
    created = admin.submit(
        "UpdatePrivileges",
        privilegeId="grp",
        createMissing="yes",
        privileges='{"paymentLimit": 100, "paymentLimitPerOrder": 50}',
    )
    assert created.success, created.errors
    shop.clock.advance(TIMEOUT + 1)
    before = shop.state()
    assert_fails(admin.submit("UpdateSubAccount", memberId=member.id, admin="true"), REQUIRED)
    for raised in ('{"paymentLimit": 101}', '{"paymentLimitPerOrder": null}'):
        assert_fails(
            admin.submit("UpdatePrivileges", privilegeId="grp", privileges=raised), REQUIRED
        )
    assert shop.state() == before
    lowered = admin.submit("UpdatePrivileges", privilegeId="grp", privileges='{"paymentLimit": 90}')
    assert lowered.success
    renamed = admin.submit("UpdateSubAccount", memberId=member.id, displayName="Emp")
    assert renamed.success
    assert admin.submit("Reauthenticate", password=PW).success
    assert admin.submit("UpdateSubAccount", memberId=member.id, admin="true").success
    raised = admin.submit("UpdatePrivileges", privilegeId="grp", privileges='{"paymentLimit": 500}')
    assert raised.success
    group = shop.accounts.get_group(boss.company_id, "grp")
    assert group is not None
    assert group.privileges.payment_limit == Decimal(500)

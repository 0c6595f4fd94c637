"""E37: with enumeration_protection every observable is alike for known and unknown addresses.

Each scenario runs twice, once against a registered target address and once
against a free one, and compares what the requester can see: codes, echoed
parameters, data, its template view, mails to its own inbox, the public
fields of events, the effect on the counters it can probe, and time
(delivery off the request path).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from helpers import PW
from wsactions import (
    ActionResult,
    BackgroundMailer,
    ConfigurationError,
    Mail,
    RateLimit,
    SmtpMailer,
)
from wsactions.testing import Client, Harness, testing_settings

ATTACKER_PW = "mallory's own passphrase 77"
TARGET = "target@example.com"
ATTACKER = "mallory@example.com"


def seen(result: ActionResult) -> tuple[Any, ...]:
    """What a requester sees of one result."""
    return (result.name, result.success, result.codes, dict(result.params), dict(result.data))


def inbox(shop: Harness, address: str) -> list[tuple[str, str]]:
    """The mails the requester can read: those to its own address."""
    return [(m.purpose, m.subject) for m in shop.outbox if m.to == address]


def events(shop: Harness) -> list[tuple[Any, ...]]:
    return [(e.name, e.success, e.codes) for e in shop.events]


def scenario(run: Callable[[Harness, bool], tuple[Any, ...]]) -> None:
    """Run *run* against a known and an unknown target; everything it saw must match."""
    observed = []
    for known in (True, False):
        shop = Harness(enumeration_protection=True)
        if known:
            shop.create_account(TARGET, PW, company_id=None, admin=False)
        observed.append((*run(shop, known), events(shop)))
    assert observed[0] == observed[1]


def attacker(shop: Harness, **fields: Any) -> Client:
    shop.create_account(ATTACKER, ATTACKER_PW, **fields)
    client = shop.client(client_address="198.51.100.66")
    assert client.submit("Login", id=ATTACKER, password=ATTACKER_PW).success
    return client


def test_e37_email_update_alike() -> None:
    """EmailUpdate to a taken or free address: same answer, same notice in the own inbox."""

    def run(shop: Harness, known: bool) -> tuple[Any, ...]:
        client = attacker(shop, company_id=None, admin=False)
        result = client.submit("EmailUpdate", email=TARGET)
        return seen(result), inbox(shop, ATTACKER), client.view().wsAccount.email

    scenario(run)


def test_e37_member_list_alike() -> None:
    """SubAccountCreate of a taken or free address: same answer, same member list."""

    def run(shop: Harness, known: bool) -> tuple[Any, ...]:
        client = attacker(shop)
        result = client.submit("SubAccountCreate", email=TARGET)
        members = [(m.email, m.invitationPending) for m in client.view().wsAccount.members]
        return seen(result), members, inbox(shop, ATTACKER)

    scenario(run)


def test_e37_unlock_mail_spends_no_budget_the_requester_can_probe() -> None:
    """Failed logins up to the block, then PasswordForgotten until refused: same counts."""

    def run(shop: Harness, known: bool) -> tuple[Any, ...]:
        client = shop.client(client_address="198.51.100.66")
        logins = [
            seen(client.submit("Login", id=TARGET, password="wrong guess 1234 x"))
            for _ in range(shop.settings.login_throttle.limit + 1)
        ]
        resets = [
            seen(client.submit("PasswordForgotten", email=TARGET))
            for _ in range(shop.settings.mail_per_address.limit + 1)
        ]
        return logins, resets, inbox(shop, ATTACKER)

    scenario(run)


def test_e37_registration_then_login_alike() -> None:
    """AccountRegister with the attacker's password, then Login with it: same answers."""

    def run(shop: Harness, known: bool) -> tuple[Any, ...]:
        client = shop.client(client_address="198.51.100.66")
        register = client.submit(
            "AccountRegister", email=TARGET, password=ATTACKER_PW, passwordRepeat=ATTACKER_PW
        )
        login = client.submit("Login", id=TARGET, password=ATTACKER_PW)
        return seen(register), seen(login), client.view().wsAccount.isLoggedIn

    scenario(run)


def test_e37_password_forgotten_alike() -> None:
    """PasswordForgotten for a known or unknown address: same answer, nothing to the requester."""

    def run(shop: Harness, known: bool) -> tuple[Any, ...]:
        client = shop.client(client_address="198.51.100.66")
        return seen(client.submit("PasswordForgotten", email=TARGET)), inbox(shop, ATTACKER)

    scenario(run)


def test_e37_verified_registration_still_logs_in() -> None:
    """The owner who confirmed the address logs in as usual under enumeration protection."""
    shop = Harness(enumeration_protection=True)
    client = shop.client()
    assert client.submit("AccountRegister", email=TARGET, password=PW, passwordRepeat=PW).success
    assert client.submit("Login", id=TARGET, password=PW).codes == {"invalidCredentials"}
    client.follow(shop.outbox[-1].links[0])
    assert client.submit("Login", id=TARGET, password=PW).success


class _Gate:
    """A mailer whose delivery waits until the test opens the gate."""

    def __init__(self) -> None:
        self.open = threading.Event()
        self.delivered: list[Mail] = []

    def send(self, mail: Mail) -> None:
        self.open.wait(10)
        self.delivered.append(mail)


def test_e37_background_mailer_keeps_delivery_off_the_request() -> None:
    """A PasswordForgotten answers while delivery is still blocked: its time says nothing."""
    gate = _Gate()
    mailer = BackgroundMailer(gate)
    shop = Harness(enumeration_protection=True)
    shop.create_account(TARGET, PW)
    ctx = shop.registry.context(
        session=shop.client().session, storage=shop.storage, mailer=mailer, clock=shop.clock
    )
    handle = shop.registry.create(ctx, "PasswordForgotten")
    started = time.perf_counter()
    result = shop.registry.execute(
        ctx, {"wsact": handle.id, "wscsrf": handle.csrf, "email": TARGET}
    )
    took = time.perf_counter() - started
    assert result.success
    assert gate.delivered == []  # not delivered yet, and the answer is already there
    assert took < 5  # far below the gate's 10 s: the request did not wait for delivery
    gate.open.set()
    assert mailer.flush(10)
    assert [m.to for m in gate.delivered] == [TARGET]
    mailer.close()


def test_e37_background_mailer_logs_failures_without_secrets(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A failing delivery is logged with recipient and subject, never the text with its link."""

    class Broken:
        def send(self, mail: Mail) -> None:
            raise OSError("connection refused")

    mailer = BackgroundMailer(Broken())
    mail = Mail(to=TARGET, subject="reset", text="https://shop.example/?wsoptin=SECRET")
    with caplog.at_level("ERROR", logger="wsactions.mail"):
        mailer.send(mail)
        assert mailer.flush(10)
    mailer.close()
    assert TARGET in caplog.text
    assert "SECRET" not in caplog.text


def test_e37_smtp_mailer_refused_under_enumeration_protection() -> None:
    """registry.context refuses a synchronous SmtpMailer when enumeration protection is on."""
    shop = Harness(settings=testing_settings(enumeration_protection=True))
    smtp = SmtpMailer(sender="shop@example.com", connect=lambda: None)  # type: ignore[arg-type,return-value]
    with pytest.raises(ConfigurationError, match="BackgroundMailer"):
        shop.registry.context(session=shop.client().session, storage=shop.storage, mailer=smtp)
    wrapped = BackgroundMailer(smtp)
    assert shop.registry.context(
        session=shop.client().session, storage=shop.storage, mailer=wrapped
    )


def test_l38_unlock_mail_reaches_the_owner_after_reset_spam() -> None:
    """Strangers who use up the address's reset mails cannot stop the unlock mail."""
    shop = Harness(
        login_throttle=RateLimit(limit=5, window=900),
        mail_per_address=RateLimit(limit=3, window=3600),
    )
    shop.create_account(TARGET, PW)
    strangers = [shop.client(client_address=f"198.51.100.{i}") for i in range(10)]
    for stranger in strangers[:4]:
        stranger.submit("PasswordForgotten", email=TARGET)
    assert strangers[4].submit("PasswordForgotten", email=TARGET).codes == {"tooManyRequests"}
    for stranger in strangers[5:10]:
        stranger.submit("Login", id=TARGET, password="wrong guess 1234 x")
    unlock = [m for m in shop.outbox if m.purpose == "unlock"]
    assert [m.to for m in unlock] == [TARGET]
    owner = shop.client()
    owner.follow(unlock[0].links[0])
    assert owner.submit("Login", id=TARGET, password=PW).success


def test_l38_owner_recovers_with_the_latest_mailed_link() -> None:
    """While strangers keep the reset budget used up, the newest mailed link still works."""
    shop = Harness(mail_per_address=RateLimit(limit=3, window=3600))
    shop.create_account(TARGET, PW)
    for i in range(6):
        shop.client(client_address=f"198.51.100.{i}").submit("PasswordForgotten", email=TARGET)
    owner = shop.client()
    assert owner.submit("PasswordForgotten", email=TARGET).codes == {"tooManyRequests"}
    owner.follow([m for m in shop.outbox if m.purpose == "password"][-1].links[0])
    new = "a brand new passphrase 99"
    assert owner.submit("ResetPassword", newPassword=new, newPasswordRepeat=new).success


"""Tests for what hosts call directly: opt-in links, mailers, events, template extras, settings."""

from __future__ import annotations

import io
import logging
from decimal import Decimal

import pytest

import wsactions
from helpers import PW
from wsactions import (
    ActionEvent,
    ConfigurationError,
    ConsoleMailer,
    GuestCheckout,
    Mail,
    RateLimit,
    SmtpMailer,
    log_event,
    optin,
    rights,
)
from wsactions.mail import MailTemplate
from wsactions.testing import Client, Harness, testing_settings

ADDRESS = {
    "address.firstName": "Erika",
    "address.lastName": "Mustermann",
    "address.street": "Heidestraße 17",
    "address.zip": "51147",
    "address.city": "Köln",
    "address.country": "DE",
}


def _logged_in(shop: Harness, email: str, **fields: object) -> tuple[Client, wsactions.Account]:
    account = shop.create_account(email, PW, **fields)
    client = shop.client()
    assert client.submit("Login", id=email, password=PW).success
    return client, account


class TestOptIn:
    def test_address_token_lets_a_customer_edit_without_login(self, shop: Harness) -> None:
        """A host-issued address token authorizes the address actions for its account only."""
        account = shop.create_account("ann@example.com", PW)
        client = shop.client()
        token = optin.issue(client.context(), account.id, "address")
        url = optin.link(shop.settings, "address", token)
        assert url.startswith("https://shop.example/?wsoptin=")
        assert client.follow(url) is None  # no wsact: the page only opens
        result = client.submit("AddressCreate", ADDRESS)
        assert result.success
        assert [a.id for a in shop.accounts.list_addresses(account.id)] == [
            result.data["addressId"]
        ]

    def test_address_token_of_deactivated_account_refused(self, shop: Harness) -> None:
        """A token of an account that may no longer log in authorizes nothing."""
        account = shop.create_account("ann@example.com", PW, deactivated=True)
        client = shop.client()
        client.optin = optin.issue(client.context(), account.id, "address")
        before = shop.state()
        assert client.submit("AddressCreate", ADDRESS).codes == {"notLoggedIn"}
        assert shop.state() == before

    def test_unknown_purpose_refused(self, shop: Harness) -> None:
        """Issuing a token of an unknown purpose is a configuration error."""
        with pytest.raises(ConfigurationError, match="unknown opt-in purpose"):
            optin.issue(shop.client().context(), "acc", "everything")

    def test_link_needs_base_url(self) -> None:
        """Without base_url no link can be built (never from the request's host)."""
        settings = testing_settings(base_url=None)
        with pytest.raises(ConfigurationError, match="base_url"):
            optin.link(settings, "address", "tok")

    def test_link_uses_configured_path(self) -> None:
        """optin_paths decides the page a purpose's link opens."""
        settings = testing_settings(optin_paths={"password": "/account/reset"})
        assert optin.link(settings, "password", "tok") == (
            "https://shop.example/account/reset?wsoptin=tok"
        )


class TestMailers:
    def test_console_mailer_writes_the_mail(self) -> None:
        """ConsoleMailer prints recipient, subject and text."""
        out = io.StringIO()
        ConsoleMailer(out).send(Mail(to="a@example.com", subject="Hi", text="Body"))
        assert "To: a@example.com" in out.getvalue()
        assert "Subject: Hi" in out.getvalue()
        assert "Body" in out.getvalue()

    def test_smtp_mailer_sends_one_message(self) -> None:
        """SmtpMailer builds a message and sends it over the connection it is given."""
        sent = []

        class FakeSmtp:
            def __enter__(self) -> FakeSmtp:
                return self

            def __exit__(self, *exc: object) -> None:
                return None

            def send_message(self, message: object) -> None:
                sent.append(message)

        mailer = SmtpMailer(sender="shop@example.com", connect=FakeSmtp)  # type: ignore[arg-type]
        mailer.send(Mail(to="a@example.com", subject="Hi", text="Body"))
        assert len(sent) == 1
        message = sent[0]
        assert message["To"] == "a@example.com"  # type: ignore[index]
        assert message["From"] == "shop@example.com"  # type: ignore[index]

    def test_mail_templates_override_per_kind(self) -> None:
        """A host template replaces the default subject and text of one kind."""
        shop = Harness(mail_templates={"password": MailTemplate("Reset at {shop}", "Go: {link}")})
        shop.create_account("ann@example.com", PW)
        assert shop.client().submit("PasswordForgotten", email="ann@example.com").success
        mail = shop.outbox[-1]
        assert mail.subject == "Reset at Example Shop"
        assert mail.text == f"Go: {mail.links[0]}"

    def test_unknown_mail_template_kind_refused(self) -> None:
        """Settings refuse a template for a kind no action sends."""
        with pytest.raises(ConfigurationError, match="unknown kinds"):
            testing_settings(mail_templates={"newsletter": MailTemplate("s", "t")})


class TestEvents:
    def test_log_event_writes_one_line_without_values(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        """log_event writes name, outcome, codes, account and client to the wsactions logger."""
        event = ActionEvent(
            name="Login",
            success=False,
            codes=frozenset({"invalidCredentials"}),
            account_id=None,
            client_address="203.0.113.5",
            at=0.0,
        )
        with caplog.at_level(logging.INFO, logger="wsactions"):
            log_event(event)
        assert caplog.messages == [
            "action=Login success=False codes=invalidCredentials account=- client=203.0.113.5"
        ]


class TestTemplateExtras:
    def test_checkout_guest_mail(self, shop: Harness) -> None:
        """wsCheckout.guestMail shows the recorded guest checkout's address."""
        client = shop.client()
        assert client.view().wsCheckout.guestMail == ""
        client.session.set_guest_checkout(GuestCheckout(email="guest@example.com"))
        assert client.view().wsCheckout.guestMail == "guest@example.com"

    def test_members_read_with_the_seed_names(self, shop: Harness) -> None:
        """wsAccount.members offers displayName, active, admin and privilegeGroupId."""
        boss, account = _logged_in(shop, "boss@example.com")
        shop.create_account(
            "emp@example.com",
            PW,
            admin=False,
            company_id=account.company_id,
            display_name="Emp",
            deactivated=True,
        )
        members = {m.email: m for m in boss.view().wsAccount.members}
        emp = members["emp@example.com"]
        assert (emp.displayName, emp.active, emp.admin, emp.privilegeGroupId) == (
            "Emp",
            False,
            False,
            "",
        )
        assert members["boss@example.com"].admin is True

    def test_customer_data_and_verified(self, shop: Harness) -> None:
        """wsAccount.customerData and isVerified reflect the stored account."""
        client, _ = _logged_in(shop, "ann@example.com", verified=False)
        assert client.submit("AccountSetCustomerData", {"customerData.phone": "+49 30 1"}).success
        view = client.view().wsAccount
        assert view.customerData == {"phone": "+49 30 1"}
        assert view.isVerified is False


class TestSettings:
    def test_l17_login_throttle_capped_at_nist_limit(self) -> None:
        """A lockout limit above 100 failures is refused (NIST SP 800-63B)."""
        with pytest.raises(ConfigurationError, match="at most 100"):
            testing_settings(login_throttle=RateLimit(limit=101, window=60))


class TestRightsExtras:
    def test_url_blocked_despite_doubled_slashes(self, shop: Harness) -> None:
        """Doubled slashes do not slip past a blocked URL pattern."""
        _, boss = _logged_in(shop, "boss@example.com")
        group = wsactions.PrivilegeGroup(
            id="g",
            company_id=boss.company_id or "",
            name="g",
            privileges=wsactions.Privileges(blocked_urls=("/b2b/admin*",)),
        )
        shop.accounts.add_group(group)
        emp = shop.create_account(
            "emp@example.com", PW, admin=False, company_id=boss.company_id, privilege_group_id="g"
        )
        member = rights.for_account(shop.accounts, emp)
        assert member.url_blocked("/b2b/admin")
        assert member.url_blocked("//b2b/admin")
        assert member.url_blocked("/b2b//admin/users")
        assert not member.url_blocked("/b2b/orders")

    def test_null_privileges_lift_restrictions(self, shop: Harness) -> None:
        """JSON null in UpdatePrivileges makes a privilege unrestricted again."""
        boss, account = _logged_in(shop, "boss@example.com")
        company = account.company_id or ""
        restrict = '{"allowedPaymentMethods": ["invoice"], "paymentLimitPerOrder": 5}'
        assert boss.submit(
            "UpdatePrivileges", privilegeId="g", createMissing="yes", privileges=restrict
        ).success
        lift = '{"allowedPaymentMethods": null, "paymentLimitPerOrder": null}'
        assert boss.submit("UpdatePrivileges", privilegeId="g", privileges=lift).success
        group = shop.accounts.get_group(company, "g")
        assert group is not None
        assert group.privileges.allowed_payment_methods is None
        assert group.privileges.payment_limit_per_order is None
        emp = shop.create_account(
            "emp@example.com", PW, admin=False, company_id=company, privilege_group_id="g"
        )
        assert rights.for_account(shop.accounts, emp).check_order(Decimal("1000")) is None

"""Test your shop's use of wsactions in isolation: no web framework, no database.

::

    from wsactions.testing import Harness

    shop = Harness()                       # memory stores, recording mailer, fake clock
    alice = shop.client()                  # one browser with its own session
    result = alice.submit("SessionUpdate", {"session.step": "payment"})
    assert result.success and alice.session.get("step") == "payment"
    shop.clock.advance(3600)               # time passes only when you say so

Hashing uses the cheapest argon2 parameters: never use these settings in
production.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

from .. import (
    ActionHandle,
    ActionRegistry,
    ActionResult,
    Context,
    RequestInfo,
    default_registry,
)
from ..backends.memory import MemoryStorage
from ..events import ActionEvent
from ..logins import current_account, login_id
from ..mail import Mail, RecordingMailer
from ..models import Account, LoginRecord
from ..protocols import AccountStore, LoginStore, Storage, TokenStore
from ..security.emails import parse_email
from ..security.passwords import hasher_for
from ..sessions import MappingSession
from ..settings import TESTING_HASHING, Settings
from ..view import TemplateView
from ._interleave import interleave

__all__ = [
    "TEST_SECRET_KEY",
    "Client",
    "FakeClock",
    "Harness",
    "interleave",
    "testing_settings",
]

#: The secret key of :func:`testing_settings`; public, so never use it in production.
TEST_SECRET_KEY = "wsactions-testing-secret-key-not-for-production"


def testing_settings(**overrides: Any) -> Settings:
    """Settings for tests: a fixed key, ``https://shop.example`` links, cheap hashing."""
    values: dict[str, Any] = {
        "secret_key": TEST_SECRET_KEY,
        "base_url": "https://shop.example",
        "shop_name": "Example Shop",
        "password_hashing": TESTING_HASHING,
    }
    values.update(overrides)
    return Settings(**values)


testing_settings.__test__ = False  # type: ignore[attr-defined]  # not a pytest test


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self._now = start

    def now(self) -> float:
        """The current fake time."""
        return self._now

    def advance(self, seconds: float) -> None:
        """Move the clock forward by *seconds*."""
        self._now += seconds


class Harness:
    """A whole shop: settings, registry, storage, mailer, clock and events.

    Pass *settings*, or keyword overrides for :func:`testing_settings`
    (``Harness(enumeration_protection=True)``). *storage* is any
    :class:`~wsactions.protocols.Storage`; without one, a new storage from
    :attr:`default_storage` (memory unless a test suite sets another
    factory, as ``pytest --storage`` does for this project's suite).
    """

    #: Makes the storage of a Harness built without one.
    default_storage: ClassVar[Callable[[], Storage]] = MemoryStorage

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        registry: ActionRegistry | None = None,
        storage: Storage | None = None,
        **overrides: Any,
    ) -> None:
        if settings is not None and overrides:
            raise TypeError("pass either settings or keyword overrides, not both")
        self.settings = settings or testing_settings(**overrides)
        self.clock = FakeClock()
        self.storage: Storage = storage if storage is not None else type(self).default_storage()
        self.mailer = RecordingMailer()
        self.events: list[ActionEvent] = []
        self.registry = registry or default_registry(self.settings)
        self.registry.settings = self.settings
        self.registry.event_sink = self.events.append

    @property
    def accounts(self) -> AccountStore:
        """The account store (for setup and assertions)."""
        return self.storage.accounts

    @property
    def tokens(self) -> TokenStore:
        """The opt-in token store."""
        return self.storage.tokens

    @property
    def logins(self) -> LoginStore:
        """The login records."""
        return self.storage.logins

    @property
    def outbox(self) -> list[Mail]:
        """Every mail sent so far."""
        return self.mailer.outbox

    def client(
        self,
        *,
        client_address: str = "203.0.113.10",
        subshop: str | None = None,
        locale: str | None = None,
    ) -> Client:
        """A new browser with an empty session (asking for *locale*, like Accept-Language)."""
        return Client(self, client_address=client_address, subshop=subshop, locale=locale)

    def create_account(
        self,
        email: str,
        password: str | None = None,
        *,
        active: bool = True,
        verified: bool = True,
        **fields: Any,
    ) -> Account:
        """Store an account directly (as a host import would); the stored record.

        The account owns and administers its own company unless *fields*
        say otherwise.
        """
        address = parse_email(email)
        if address is None:
            raise ValueError(f"not a valid email address: {email!r}")
        account_id = secrets.token_urlsafe(16)
        values: dict[str, Any] = {
            "company_id": account_id,
            "admin": True,
            "display_name": "",
        }
        values.update(fields)
        password_hash = None
        if password is not None:
            password_hash = hasher_for(self.settings.password_hashing).hash(password)
        account = Account(
            id=account_id,
            email=address.address,
            email_key=address.key,
            password_hash=password_hash,
            active=active,
            verified=verified,
            security_stamp=secrets.token_urlsafe(16),
            created_at=self.clock.now(),
            **values,
        )
        if not self.storage.accounts.add_account(account):
            raise ValueError(f"an account for {email!r} exists already")
        return account

    def log_in(self, client: Client, account: Account) -> None:
        """Log *client* in to *account* without a password (a login record, as Login makes)."""
        secret = secrets.token_urlsafe(32)
        now = self.clock.now()
        self.storage.logins.add_login(
            LoginRecord(
                id=login_id(secret),
                account_id=account.id,
                created_at=now,
                last_seen=now,
                client_address=client.client_address,
            )
        )
        client.session.log_in(account.id, account.security_stamp, account.rights_stamp, secret)

    def state(self) -> dict[str, Any]:
        """Everything stored plus the number of mails sent: compare before and after."""
        return {**self.storage.snapshot(), "mails": len(self.outbox)}

    def current_account(self, client: Client) -> Account | None:
        """The account *client* is logged in to, checked as every request checks it."""
        return current_account(client.context())


class Client:
    """One browser: its own session cookie, the page it is on, its last result."""

    def __init__(
        self,
        harness: Harness,
        *,
        client_address: str,
        subshop: str | None,
        locale: str | None = None,
    ) -> None:
        self.harness = harness
        self.locale = locale
        self.cookie: dict[str, Any] = {}
        self.session = MappingSession(self.cookie)
        self.client_address = client_address
        self.subshop = subshop
        #: What this browser sends as its User-Agent (security notices name it).
        self.user_agent = "Mozilla/5.0 (wsactions test browser)"
        #: The opt-in token in the URL of the page this browser is on (set by :meth:`follow`).
        self.optin: str | None = None
        self.last: ActionResult | None = None

    def context(self) -> Context:
        """The context of this browser's next request."""
        h = self.harness
        return h.registry.context(
            session=self.session,
            storage=h.storage,
            mailer=h.mailer,
            clock=h.clock,
            request=RequestInfo(
                client_address=self.client_address,
                optin_token=self.optin,
                subshop=self.subshop,
                locale=self.locale,
                user_agent=self.user_agent,
            ),
        )

    def create(self, name: str) -> ActionHandle:
        """The handle a template would get for *name*."""
        return self.harness.registry.create(self.context(), name)

    def submit(
        self, name: str, fields: Mapping[str, Any] | None = None, /, **params: Any
    ) -> ActionResult:
        """Fill in ``wsact`` and ``wscsrf`` for *name* and post the form.

        Parameters with dots go in *fields*: ``submit("SessionUpdate", {"session.x": "1"})``.
        """
        handle = self.create(name)
        form = {"wsact": handle.id, "wscsrf": handle.csrf, **(fields or {}), **params}
        return self.post(form)

    def post(self, form: Mapping[str, Any]) -> ActionResult:
        """Post *form* as it is (nothing filled in)."""
        self.last = self.harness.registry.execute(self.context(), form)
        return self.last

    def follow(self, url: str) -> ActionResult | None:
        """Open *url* (a link from a mail or from :meth:`url`) and run its action, if any.

        The browser stays on that page: its ``wsoptin`` is sent with later
        submissions, as a form posting to the current URL would.
        """
        query = parse_qs(urlsplit(url).query, keep_blank_values=True)
        tokens = query.get("wsoptin")
        self.optin = tokens[0] if tokens else None
        result = self.harness.registry.follow(self.context(), query)
        if result is not None:
            self.last = result
        return result

    def leave(self) -> None:
        """Go to a page without an opt-in token."""
        self.optin = None

    def url(self, name: str, target: str = "/", params: Mapping[str, str] | None = None) -> str:
        """A signed link for link action *name*, as ``wsActions.url`` would render it."""
        return self.harness.registry.url(self.context(), name, target, params)

    def view(self) -> TemplateView:
        """The template globals for the page showing this browser's last result."""
        return TemplateView(self.harness.registry, self.context(), self.last)

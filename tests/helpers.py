"""What many tests share: the password, logging in, and asserting a failure.

``log_in`` submits Login; ``account_logged_in`` stores an account and logs a
browser in to it; ``is_logged_in`` asks the stores whether a browser is.
"""

from __future__ import annotations

from typing import Any

from wsactions import Account, ActionError, ActionResult
from wsactions.backends.memory import MemoryStorage
from wsactions.errors import StorageUnavailableError
from wsactions.testing import Client, Harness

#: A password every path accepts (long, not common, no context words).
PW = "correct horse battery staple 42"


def assert_fails(result: ActionResult, *errors: ActionError) -> None:
    """*result* failed with exactly *errors* (order ignored)."""
    assert not result.success
    assert result.error
    assert sorted(result.errors, key=repr) == sorted(errors, key=repr)


def log_in(client: Client, email: str, password: str = PW) -> ActionResult:
    """Submit Login."""
    return client.submit("Login", id=email, password=password)


def account_logged_in(shop: Harness, client: Client, email: str, **fields: Any) -> Account:
    """Create an account for *email* (password :data:`PW`) and log *client* in to it."""
    account = shop.create_account(email, PW, **fields)
    assert log_in(client, email).success
    return account


def is_logged_in(client: Client) -> bool:
    """Whether the next page *client* sees shows a login (checked as every request is)."""
    return bool(client.view().wsAccount.isLoggedIn)


def tokens_but_notices(shop: Harness) -> dict[str, Any]:
    """The stored tokens except the password links of the security notices mailed to the
    accounts' owners (M45: "this was not me" links, issued after a change)."""
    from urllib.parse import parse_qs, urlsplit

    from wsactions.security.tokens import hash_token

    noticed = set()
    for mail in shop.outbox:
        if mail.purpose == "security_notice":
            for link in mail.links:
                token = parse_qs(urlsplit(link).query).get("wsoptin", [""])[0]
                noticed.add(hash_token(token))
    tokens: dict[str, Any] = shop.state()["tokens"]
    return {key: record for key, record in tokens.items() if key not in noticed}


class DownStorage(MemoryStorage):
    """A database that does not answer: reading accounts or logins raises
    :class:`StorageUnavailableError` (what the SQL backends raise)."""

    @property
    def accounts(self) -> Any:
        raise StorageUnavailableError("the database did not answer")

    @property
    def logins(self) -> Any:
        raise StorageUnavailableError("the database did not answer")

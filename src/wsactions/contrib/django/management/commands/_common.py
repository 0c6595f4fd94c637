"""What the ``wsactions_*`` commands share: finding an account, reading a password, and
the core's own helpers (counter keys, password context) through a host-side ``Call``."""

from __future__ import annotations

import getpass
import sys
from typing import Any, TextIO

from django.core.management.base import CommandError

from wsactions import ActionError, Call, Context
from wsactions.actions._common import breach_failures, password_context
from wsactions.contrib.django.conf import WsActionsConfig, get_config
from wsactions.i18n import error_message
from wsactions.models import Account
from wsactions.security import passwords
from wsactions.security.emails import EmailAddress, parse_email
from wsactions.sessions import MappingSession


def config() -> WsActionsConfig:
    """The integration's configuration."""
    return get_config()


def host_call(action: str) -> Call[None]:
    """A :class:`~wsactions.Call` of *action* outside any request: what the core's helpers
    (``login_counter``, ``password_context``) take."""
    found = config()
    ctx: Context = found.registry.context(
        session=MappingSession({}), storage=found.storage, mailer=found.mailer
    )
    return Call(ctx, found.registry[action], {})


def address(raw: str) -> EmailAddress:
    """*raw* as a normalised address, or a ``CommandError``."""
    email = parse_email(raw)
    if email is None:
        raise CommandError(f"{raw!r} is not a valid email address")
    return email


def find(raw: str) -> Account:
    """The account of address *raw*, or a ``CommandError``."""
    account = config().storage.accounts.find_account(address(raw).key)
    if account is None or account.invitation_pending:
        raise CommandError(f"no account with the address {raw!r}")
    return account


def read_password(options: dict[str, Any]) -> str:
    """The new password from standard input: prompted twice without echo on a terminal,
    else the first line. Never from the command line."""
    stream: TextIO = options.get("stdin") or sys.stdin
    if stream.isatty():
        first = getpass.getpass("New password: ")
        if first != getpass.getpass("New password (again): "):
            raise CommandError("the passwords do not match")
        return first
    return stream.readline().rstrip("\r\n")


def new_password_hash(call: Call[Any], password: str, email: str, name: str = "") -> str:
    """The hash of *password* if the password policy accepts it, else a ``CommandError`` with
    the customer message (in the default language)."""
    settings = call.settings
    context = password_context(call, email=email, name=name)
    if not password:
        failure = ActionError("missingPassword", "password")
    else:
        failures = passwords.policy_failures(
            password, settings.password_policy, context
        ) or breach_failures(settings, password)
        if not failures:
            return passwords.hasher_for(settings.password_hashing).hash(password)
        failure = ActionError("passwordCheckFailed", "password", failures)
    text = error_message(settings, settings.default_locale, call.spec.name, failure)
    raise CommandError(text)

"""``manage.py wsactions_set_password EMAIL < password``: set a new password.

The password comes from standard input (prompted twice on a terminal), never
from the command line, and must pass the password policy. As after
ResetPassword, every login of the account ends, its password, unlock,
invitation, email-change and deletion links die and its login counter is
cleared.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from wsactions.actions._common import login_counter, new_id
from wsactions.actions.account import IDENTITY_PURPOSES

from ._common import find, host_call, new_password_hash, read_password


class Command(BaseCommand):
    help = "Set a customer account's password (read from stdin; checked by the policy)."
    stealth_options = ("stdin",)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")

    def handle(self, *args: Any, **options: Any) -> None:
        account = find(options["email"])
        call = host_call("ResetPassword")
        password = read_password(options)
        password_hash = new_password_hash(call, password, account.email, account.display_name)
        storage = call.ctx.storage
        with storage.transaction():
            storage.accounts.update_account(
                account.id, {"password_hash": password_hash, "security_stamp": new_id()}
            )
            storage.tokens.revoke(account.id, IDENTITY_PURPOSES)
            storage.logins.end_logins(account.id)
        storage.counters.reset(login_counter(call, account.email_key))
        self.stdout.write(f"New password set for {account.email}; its logins have ended.")

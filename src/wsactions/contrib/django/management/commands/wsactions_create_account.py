"""``manage.py wsactions_create_account EMAIL [--password-stdin] [--admin] [--verified]``."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from wsactions import companies
from wsactions.actions._common import new_id
from wsactions.models import Account

from ._common import address, host_call, new_password_hash, read_password


class Command(BaseCommand):
    help = (
        "Create a customer account. Without --password-stdin it has no password yet "
        "(the customer chooses one with 'Forgot your password?')."
    )
    stealth_options = ("stdin",)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")
        parser.add_argument(
            "--password-stdin", action="store_true", help="read the password from stdin"
        )
        parser.add_argument(
            "--admin", action="store_true", help="the account founds and administers a company"
        )
        parser.add_argument(
            "--verified", action="store_true", help="the email address counts as confirmed"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        email = address(options["email"])
        call = host_call("AccountRegister")
        password_hash = None
        if options["password_stdin"]:
            password_hash = new_password_hash(call, read_password(options), email.address)
        storage = call.ctx.storage
        account = Account(
            id=new_id(),
            email=email.address,
            email_key=email.key,
            password_hash=password_hash,
            verified=options["verified"],
            security_stamp=new_id(),
            created_at=time.time(),
            locale=call.settings.default_locale,
        )
        with storage.transaction():
            created = storage.accounts.add_account(account)
        if not created:
            raise CommandError(f"an account with the address {email.address!r} exists")
        if options["admin"]:
            companies.found(storage, account.id)
        self.stdout.write(f"Created account {account.id} for {account.email}.")

"""``manage.py wsactions_verify EMAIL``: mark the account's email address as confirmed."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from ._common import config, find


class Command(BaseCommand):
    help = "Mark a customer account's email address as confirmed."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")

    def handle(self, *args: Any, **options: Any) -> None:
        account = find(options["email"])
        storage = config().storage
        with storage.transaction():
            storage.accounts.update_account(account.id, {"verified": True})
        self.stdout.write(f"The address {account.email} is confirmed.")

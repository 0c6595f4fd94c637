"""``manage.py wsactions_remove_second_factor EMAIL``: a support case (a customer lost the
phone and the recovery codes) turns the account's second factor off."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from wsactions.actions.factors import SECOND_FACTOR_OFF

from ._common import config, find


class Command(BaseCommand):
    help = (
        "Turn a customer's second factor off (TOTP secret and recovery codes deleted); "
        "the password alone logs in afterwards. Check who is asking first."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")

    def handle(self, *args: Any, **options: Any) -> None:
        account = find(options["email"])
        if not account.has_second_factor and not account.totp_pending:
            raise CommandError(f"{account.email} has no second factor")
        config().storage.accounts.update_account(account.id, SECOND_FACTOR_OFF)
        self.stdout.write(f"Removed the second factor of {account.email}.")

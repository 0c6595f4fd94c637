"""``manage.py wsactions_end_logins EMAIL``: log the account out everywhere."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from wsactions import logins

from ._common import config, find


class Command(BaseCommand):
    help = "End every login of a customer account (every copy of its session cookie)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")

    def handle(self, *args: Any, **options: Any) -> None:
        account = find(options["email"])
        ended = logins.end_all(config().storage, account.id)
        self.stdout.write(f"Ended {ended} login(s) of {account.email}.")

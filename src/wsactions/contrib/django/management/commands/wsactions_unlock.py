"""``manage.py wsactions_unlock EMAIL``: clear the failed-login counter of an address."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from wsactions.actions._common import login_counter

from ._common import address, host_call


class Command(BaseCommand):
    help = "Clear the failed-login counter of an address (what UnlockLogin does)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")

    def handle(self, *args: Any, **options: Any) -> None:
        email = address(options["email"])
        call = host_call("Login")
        call.ctx.storage.counters.reset(login_counter(call, email.key))
        self.stdout.write(f"Logins for {email.address} are unlocked.")

"""The admin: read-only views of accounts (grouped by company), addresses and privilege groups.

wsactions' storage is the one writer of its tables (the rules live in the
actions), so the admin shows and searches but does not edit: changes go
through the actions, the ``wsactions_*`` management commands, or the admin
actions below, which call the same functions. Password hashes, security
stamps, token hashes, login ids and card tokens are never shown; opt-in
tokens and throttling counters have no admin at all.

Viewing needs Django's "view" (or "change") permission of the model. The
change forms stay read-only for everybody, but the admin actions write, so
each needs the model's "change" permission (``wsactions.change_account``):
staff who may only view are not offered them, and a posted action they may
not run changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from django.contrib import admin, messages
from django.contrib.auth import get_permission_codename
from django.db.models import QuerySet
from django.http import HttpRequest

from ... import logins
from .conf import get_config
from .models import Account, Address, Login, PrivilegeGroup, SavedCard

#: Columns that must never appear in the admin (nor be editable).
SECRET_FIELDS = (
    "password_hash",
    "security_stamp",
    "rights_stamp",
    "totp_secret",
    "totp_pending",
    "recovery_codes",
)


def _time(value: float) -> str:
    return datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%d %H:%M UTC") if value else "-"


class _ReadOnly:
    """No adding, changing or deleting: the admin views what the actions wrote."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class CompanyFilter(admin.SimpleListFilter):
    """Accounts grouped by company (B2B): the members of one company."""

    title = "company"
    parameter_name = "company"

    def lookups(self, request: HttpRequest, model_admin: Any) -> Sequence[tuple[str, str]]:
        owners = dict(
            Account.objects.filter(account_id__in=self._companies()).values_list(
                "account_id", "email"
            )
        )
        return [("-", "no company")] + [
            (company, owners.get(company, company)) for company in self._companies()
        ]

    @staticmethod
    def _companies() -> list[str]:
        return list(
            Account.objects.exclude(company_id=None)
            .order_by("company_id")
            .values_list("company_id", flat=True)
            .distinct()
        )

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value is None:
            return queryset
        if value == "-":
            return queryset.filter(company_id=None)
        return queryset.filter(company_id=value)


class AddressInline(_ReadOnly, admin.TabularInline):
    model = Address
    fields = ("type", "fields", "visibility")
    readonly_fields = fields
    extra = 0
    show_change_link = True


class LoginInline(_ReadOnly, admin.TabularInline):
    model = Login
    fields = ("logged_in", "last_active", "client_address")
    readonly_fields = fields
    extra = 0
    verbose_name_plural = "logins (where the account is logged in)"

    @admin.display(description="logged in")
    def logged_in(self, obj: Login) -> str:
        return _time(obj.created_at)

    @admin.display(description="last active")
    def last_active(self, obj: Login) -> str:
        return _time(obj.last_seen)


@admin.register(Account)
class AccountAdmin(_ReadOnly, admin.ModelAdmin):
    list_display = (
        "email",
        "display_name",
        "active",
        "verified",
        "deactivated",
        "company_id",
        "admin",
        "invitation_pending",
        "second_factor",
        "created",
    )
    list_filter = (CompanyFilter, "active", "verified", "deactivated", "admin")
    search_fields = ("email",)
    ordering = ("company_id", "email")
    exclude = SECRET_FIELDS
    readonly_fields = (
        "account_id",
        "email",
        "email_key",
        "display_name",
        "active",
        "verified",
        "deactivated",
        "created",
        "customer_data",
        "main_address_id",
        "default_bill_address_id",
        "default_delivery_address_id",
        "company_id",
        "admin",
        "privilege_group_id",
        "default_address_visibility",
        "allowed_subshops",
        "invitation_pending",
        "locale",
        "second_factor",
    )
    fields = readonly_fields
    inlines = (AddressInline, LoginInline)
    actions = ("end_logins", "mark_verified")

    @admin.display(description="created", ordering="created_at")
    def created(self, obj: Account) -> str:
        return _time(obj.created_at)

    @admin.display(description="second factor", boolean=True)
    def second_factor(self, obj: Account) -> bool:
        """Whether TOTP is on (never the secret, M43)."""
        return bool(obj.totp_secret)

    def has_change_by_action_permission(self, request: HttpRequest) -> bool:
        """The model's "change" permission, which the admin actions need (the change form
        stays read-only: ``has_change_permission`` is always false here)."""
        opts = self.opts
        codename = get_permission_codename("change", opts)
        return bool(request.user.has_perm(f"{opts.app_label}.{codename}"))

    @admin.action(
        description="End every login of the selected accounts",
        permissions=["change_by_action"],
    )
    def end_logins(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        storage = get_config().storage
        ended = sum(logins.end_all(storage, a.account_id) for a in queryset)
        self.message_user(request, f"Ended {ended} login(s).", messages.SUCCESS)

    @admin.action(
        description="Mark the email addresses of the selected accounts confirmed",
        permissions=["change_by_action"],
    )
    def mark_verified(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        storage = get_config().storage
        with storage.transaction():
            for account in queryset:
                storage.accounts.update_account(account.account_id, {"verified": True})
        self.message_user(request, "Marked confirmed.", messages.SUCCESS)


@admin.register(Address)
class AddressAdmin(_ReadOnly, admin.ModelAdmin):
    list_display = ("__str__", "account", "type", "visibility")
    list_filter = ("type", "visibility")
    search_fields = ("account__email",)
    fields = ("address_id", "account", "type", "fields", "visibility")
    readonly_fields = fields


@admin.register(PrivilegeGroup)
class PrivilegeGroupAdmin(_ReadOnly, admin.ModelAdmin):
    list_display = ("name", "company_id", "type", "spent")
    list_filter = ("type",)
    search_fields = ("name", "company_id")
    fields = ("group_id", "company_id", "name", "type", "privileges", "budget_since", "spent")
    readonly_fields = fields


@admin.register(SavedCard)
class SavedCardAdmin(_ReadOnly, admin.ModelAdmin):
    list_display = ("__str__", "account", "holder")
    search_fields = ("account__email",)
    fields = ("card_id", "account", "brand", "last4", "expiry", "holder")  # no pseudo_card_id
    readonly_fields = fields

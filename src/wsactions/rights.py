"""What a B2B member may do: the one place the host asks, and the built-in actions too.

::

    rights = wsactions.rights.for_request(ctx)    # the logged-in account's rights
    if not rights.may_pay_with("invoice"): ...
    refusal = rights.check_order(Decimal("120.00"))     # None, or the limit it breaks
    if rights.record_order(Decimal("120.00")): ...      # atomic against the budget
    rights.refund_order(Decimal("120.00"), charged_at=t) # a cancelled order gives it back
    rights.template_blocked("checkout/index.htm")
    rights.url_blocked("/checkout/confirm")
    rights.may_edit("address.street")
    rights.subshop_allowed("shop2")

A member's privilege group is the group assigned to it, else its company's
``global`` group, else none. A member whose assigned group no longer exists
may neither pay nor edit anything (deny by default). Admins, members without a group and customers
who are not logged in are not restricted by groups. ``allowedSubshops`` is
a member setting (not a group privilege) and applies to everyone it is set for.
"""

from __future__ import annotations

import re
import time
from decimal import Decimal
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from .logins import logged_in_account
from .models import Account, PrivilegeGroup, Privileges
from .periods import Period, period_of
from .protocols import AccountStore, ActionContext, Clock

if TYPE_CHECKING:
    from .settings import Settings

#: Reasons :meth:`MemberRights.check_order` gives for a refused order.
PER_ORDER_LIMIT = "paymentLimitPerOrder"
BUDGET_LIMIT = "paymentLimit"
#: The member's group requires a second factor the member has not turned on.
SECOND_FACTOR_REQUIRED = "secondFactorRequired"


def effective_group(accounts: AccountStore, account: Account | None) -> PrivilegeGroup | None:
    """The privilege group restricting *account*, or ``None`` when nothing restricts it."""
    if account is None or account.admin or account.company_id is None:
        return None
    if account.privilege_group_id is not None:
        group = accounts.get_group(account.company_id, account.privilege_group_id)
        return group or _deny_all(account.company_id, account.privilege_group_id)
    for group in accounts.list_groups(account.company_id):
        if group.type == "global":
            return group
    return None


def _deny_all(company_id: str, group_id: str) -> PrivilegeGroup:
    """Stands in for an assigned group that no longer exists: deny by default."""
    nothing = Privileges(
        allowed_payment_methods=frozenset(),
        payment_limit_per_order=Decimal(0),
        payment_limit=Decimal(0),
        editable_fields=frozenset(),
    )
    return PrivilegeGroup(id=group_id, company_id=company_id, name="", privileges=nothing)


#: The largest order amount the API takes (larger ones raise ``ValueError``, never
#: ``decimal.Overflow`` from adding them to a budget).
MAX_ORDER_AMOUNT = Decimal("1e15")


def _amount(amount: Decimal) -> Decimal:
    if (
        not isinstance(amount, Decimal)
        or not amount.is_finite()
        or not 0 <= amount <= MAX_ORDER_AMOUNT
    ):
        raise ValueError(
            f"order amounts are finite Decimal values from 0 to {MAX_ORDER_AMOUNT:,f}"
        )
    return amount


class MemberRights:
    """The rights of one account (``None``: nobody logged in, nothing restricted)."""

    def __init__(
        self,
        accounts: AccountStore,
        account: Account | None,
        *,
        settings: Settings | None = None,
        clock: Clock | None = None,
    ) -> None:
        self._accounts = accounts
        self.account = account
        self.group = effective_group(accounts, account)
        self._settings = settings
        self._clock = clock

    def period(self) -> Period | None:
        """The group's current budget period (``budgetPeriod``), in the shop's time zone,
        week and fiscal year; ``None`` when the budget never renews. Without the shop's
        settings: UTC, weeks from Monday, the calendar year."""
        group = self.group
        if group is None or group.privileges.budget_period == "none":
            return None
        settings = self._settings
        now = self._clock.now() if self._clock is not None else time.time()
        return period_of(
            group.privileges.budget_period,
            now,
            timezone=settings.timezone if settings else "UTC",
            week_start=settings.budget_week_start if settings else 0,
            fiscal_start_month=settings.fiscal_year_start_month if settings else 1,
        )

    def _period_start(self) -> float | None:
        period = self.period()
        return None if period is None else period.start

    def spent(self) -> Decimal:
        """What the group has spent in its current budget period."""
        return Decimal(0) if self.group is None else self.group.spent_in(self._period_start())

    def may_pay_with(self, method: str) -> bool:
        """Whether the group allows payment method *method*."""
        allowed = self.group.privileges.allowed_payment_methods if self.group else None
        return allowed is None or method in allowed

    def check_order(self, amount: Decimal) -> str | None:
        """``None`` if an order of *amount* is allowed, else the limit it exceeds.

        :data:`SECOND_FACTOR_REQUIRED` when the group requires a second factor
        the member has not turned on, :data:`PER_ORDER_LIMIT` when above
        ``paymentLimitPerOrder``, :data:`BUDGET_LIMIT` when above what remains of
        ``paymentLimit`` since the limit was set. Raises ``ValueError`` for an
        amount that is not a finite ``Decimal`` from 0 to :data:`MAX_ORDER_AMOUNT`.
        """
        amount = _amount(amount)
        if self.group is None:
            return None
        privileges = self.group.privileges
        if privileges.require_second_factor and not (
            self.account is not None and self.account.has_second_factor
        ):
            return SECOND_FACTOR_REQUIRED
        per_order = privileges.payment_limit_per_order
        if per_order is not None and amount > per_order:
            return PER_ORDER_LIMIT
        budget = privileges.payment_limit
        if budget is not None and self.group.spent_in(self._period_start()) + amount > budget:
            return BUDGET_LIMIT
        return None

    def record_order(self, amount: Decimal) -> bool:
        """Charge a placed order to the group's budget; ``False`` (nothing charged) if refused.

        The store reads the group's limits and charges in one atomic step:
        two concurrent orders cannot both use the same remaining budget, and
        a limit lowered meanwhile applies.
        """
        amount = _amount(amount)
        group = self.group
        if group is None:
            return True
        return self._accounts.charge_group(
            group.company_id, group.id, amount, period_start=self._period_start()
        )

    def refund_order(self, amount: Decimal, *, charged_at: float) -> bool:
        """Give a cancelled order's *amount* back to the group's budget.

        Only an order charged in the current budget period (*charged_at*, the
        clock time of :meth:`record_order`, at or after the period's start)
        is refunded; spending never goes below zero. Whether anything
        changed. Raises ``ValueError`` like :meth:`check_order`.
        """
        amount = _amount(amount)
        group = self.group
        if group is None:
            return False
        return self._accounts.refund_group(
            group.company_id, group.id, amount, charged_at, period_start=self._period_start()
        )

    def template_blocked(self, template: str) -> bool:
        """Whether *template* matches a ``blockedTemplates`` glob pattern."""
        patterns = self.group.privileges.blocked_templates if self.group else ()
        return any(fnmatchcase(template, p) for p in patterns)

    def url_blocked(self, url: str) -> bool:
        """Whether *url* (or its path) matches a ``blockedUrls`` glob pattern."""
        patterns = self.group.privileges.blocked_urls if self.group else ()
        if not patterns:
            return False
        squeezed = re.sub(r"/{2,}", "/", url)  # routers merge slashes: so must the check
        forms = {url, squeezed, urlsplit(url).path, urlsplit(squeezed).path}
        return any(fnmatchcase(form, p) for form in forms for p in patterns)

    def may_edit(self, field: str) -> bool:
        """Whether the account may edit *field*.

        ``editableFields`` lists parameter names (``displayName``,
        ``customerData.phone``, ``address.street``) or whole families
        (``customerData``, ``address``).
        """
        allowed = self.group.privileges.editable_fields if self.group else None
        return allowed is None or field in allowed or field.split(".", 1)[0] in allowed

    def subshop_allowed(self, subshop: str | None) -> bool:
        """Whether the account may use *subshop* (its ``allowedSubshops``, if set)."""
        allowed = self.account.allowed_subshops if self.account else None
        return allowed is None or subshop in allowed


def for_account(
    accounts: AccountStore,
    account: Account | None,
    *,
    settings: Settings | None = None,
    clock: Clock | None = None,
) -> MemberRights:
    """The rights of *account*; pass the shop's *settings* (and a *clock*) for budgets that
    renew each period in the shop's time zone."""
    return MemberRights(accounts, account, settings=settings, clock=clock)


def for_request(ctx: ActionContext) -> MemberRights:
    """The rights of the account logged in to *ctx*'s session."""
    return MemberRights(
        ctx.storage.accounts, logged_in_account(ctx), settings=ctx.settings, clock=ctx.clock
    )

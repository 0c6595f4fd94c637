"""Tests for the member rights API (wsactions.rights) and where the actions enforce it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from helpers import PW, assert_fails
from wsactions import Account, ActionError, PrivilegeGroup, Privileges, rights
from wsactions.testing import Client, Harness

EMP_PW = "Employee passphrase 77 zz"
ADDRESS = {
    "address.firstName": "Erika",
    "address.lastName": "Mustermann",
    "address.street": "Heidestraße",
    "address.houseNumber": "17",
    "address.zip": "51147",
    "address.city": "Köln",
    "address.country": "DE",
}


# helpers -------------------------------------------------------------------------------


def add_group(
    shop: Harness, company: str, group_id: str = "grp", kind: str = "account", **privileges: Any
) -> PrivilegeGroup:
    """Store a privilege group of *company*."""
    group = PrivilegeGroup(
        id=group_id,
        company_id=company,
        name=group_id,
        type=kind,
        privileges=Privileges(**privileges),
    )
    shop.accounts.add_group(group)
    return group


def member(shop: Harness, company: str, email: str = "emp@a.example", **fields: Any) -> Account:
    """A non-admin member of *company* with password EMP_PW."""
    return shop.create_account(email, EMP_PW, admin=False, company_id=company, **fields)


def of(shop: Harness, account: Account) -> rights.MemberRights:
    """The rights of the stored *account*."""
    return rights.for_account(shop.accounts, shop.accounts.get_account(account.id))


def logged_in(shop: Harness, email: str, password: str = EMP_PW, **client: Any) -> Client:
    """A new browser logged in as *email*."""
    browser = shop.client(**client)
    assert browser.submit("Login", id=email, password=password).success
    return browser


@pytest.fixture
def boss(shop: Harness) -> Account:
    """Company A's admin."""
    return shop.create_account("boss@a.example", PW)


@pytest.fixture
def company(boss: Account) -> str:
    """Company A's id."""
    assert boss.company_id is not None
    return boss.company_id


def restricted(shop: Harness, company: str, **privileges: Any) -> Account:
    """A member of *company* in group ``grp`` with *privileges*."""
    add_group(shop, company, "grp", **privileges)
    return member(shop, company, privilege_group_id="grp")


# the rights API -----------------------------------------------------------------------


class TestPaymentMethods:
    def test_may_pay_with(self, shop: Harness, company: str) -> None:
        """Only the listed methods are allowed."""
        emp = restricted(shop, company, allowed_payment_methods={"invoice", "prepayment"})
        r = of(shop, emp)
        assert r.may_pay_with("invoice")
        assert r.may_pay_with("prepayment")
        assert not r.may_pay_with("creditcard")
        assert not r.may_pay_with("Invoice")
        assert not r.may_pay_with("")

    def test_empty_list_allows_nothing(self, shop: Harness, company: str) -> None:
        """An empty allowedPaymentMethods list allows no method."""
        emp = restricted(shop, company, allowed_payment_methods=set())
        assert not of(shop, emp).may_pay_with("invoice")

    def test_not_set_allows_everything(self, shop: Harness, company: str) -> None:
        """Without allowedPaymentMethods every method is allowed."""
        emp = restricted(shop, company, payment_limit=Decimal("5"))
        assert of(shop, emp).may_pay_with("anything")


class TestOrders:
    def test_check_order_per_order_limit(self, shop: Harness, company: str) -> None:
        """Up to the per-order limit is fine; one cent more is refused."""
        emp = restricted(shop, company, payment_limit_per_order=Decimal("500.00"))
        r = of(shop, emp)
        assert r.check_order(Decimal("500.00")) is None
        assert r.check_order(Decimal("0")) is None
        assert r.check_order(Decimal("500.01")) == rights.PER_ORDER_LIMIT == "paymentLimitPerOrder"

    def test_check_order_budget(self, shop: Harness, company: str) -> None:
        """The budget counts what was spent since the limit was set."""
        emp = restricted(shop, company, payment_limit=Decimal("100"))
        assert shop.accounts.charge_group(company, "grp", Decimal("60"))
        r = of(shop, emp)
        assert r.check_order(Decimal("40")) is None
        assert r.check_order(Decimal("40.01")) == rights.BUDGET_LIMIT == "paymentLimit"

    def test_check_order_per_order_reported_first(self, shop: Harness, company: str) -> None:
        """An order above both limits names the per-order limit."""
        emp = restricted(
            shop, company, payment_limit_per_order=Decimal("10"), payment_limit=Decimal("5")
        )
        assert of(shop, emp).check_order(Decimal("11")) == "paymentLimitPerOrder"
        assert of(shop, emp).check_order(Decimal("6")) == "paymentLimit"

    def test_record_order_charges(self, shop: Harness, company: str) -> None:
        """Recorded orders add up until the budget is used."""
        emp = restricted(shop, company, payment_limit=Decimal("100"))
        assert of(shop, emp).record_order(Decimal("60.50"))
        assert of(shop, emp).record_order(Decimal("39.50"))
        assert shop.accounts.get_group(company, "grp").spent == Decimal("100.00")
        assert of(shop, emp).check_order(Decimal("0.01")) == "paymentLimit"

    def test_record_order_refuses_over_budget(self, shop: Harness, company: str) -> None:
        """An order over the remaining budget is refused and nothing is charged."""
        emp = restricted(shop, company, payment_limit=Decimal("100"))
        assert of(shop, emp).record_order(Decimal("70"))
        before = shop.state()
        assert of(shop, emp).record_order(Decimal("30.01")) is False
        assert shop.state() == before
        assert shop.accounts.get_group(company, "grp").spent == Decimal("70")

    def test_record_order_refuses_over_per_order(self, shop: Harness, company: str) -> None:
        """An order above the per-order limit is refused and nothing is charged."""
        emp = restricted(
            shop, company, payment_limit_per_order=Decimal("50"), payment_limit=Decimal("1000")
        )
        before = shop.state()
        assert of(shop, emp).record_order(Decimal("50.01")) is False
        assert shop.state() == before

    def test_record_order_without_budget_counts(self, shop: Harness, company: str) -> None:
        """A group without a budget accepts and still counts the spending."""
        emp = restricted(shop, company, allowed_payment_methods={"invoice"})
        assert of(shop, emp).record_order(Decimal("1000000"))
        assert shop.accounts.get_group(company, "grp").spent == Decimal("1000000")

    @pytest.mark.parametrize(
        "amount",
        [100, 1.5, "10", True, None, Decimal("-0.01"), Decimal("NaN"), Decimal("Infinity")],
    )
    def test_bad_amounts_raise(self, shop: Harness, company: str, amount: Any) -> None:
        """Anything but a finite, non-negative Decimal raises ValueError, for everyone."""
        emp = restricted(shop, company, payment_limit=Decimal("100"))
        boss = shop.accounts.find_account("boss@a.example")
        for account in (emp, boss, None):
            r = rights.for_account(shop.accounts, account)
            with pytest.raises(ValueError, match="Decimal"):
                r.check_order(amount)
            with pytest.raises(ValueError, match="Decimal"):
                r.record_order(amount)
        assert shop.accounts.get_group(company, "grp").spent == Decimal(0)


class TestWhoIsRestricted:
    def test_admins_unrestricted(self, shop: Harness, company: str) -> None:
        """An admin is never restricted, even when assigned a group."""
        add_group(
            shop,
            company,
            "grp",
            allowed_payment_methods=set(),
            payment_limit=Decimal("0"),
            editable_fields=set(),
            blocked_urls=("*",),
            blocked_templates=("*",),
        )
        co = shop.create_account("co@a.example", PW, company_id=company, privilege_group_id="grp")
        r = of(shop, co)
        assert r.group is None
        assert r.may_pay_with("invoice")
        assert r.check_order(Decimal("1e9")) is None
        assert r.record_order(Decimal("1e9"))
        assert not r.template_blocked("checkout/index.htm")
        assert not r.url_blocked("/b2b/admin")
        assert r.may_edit("displayName")
        assert shop.accounts.get_group(company, "grp").spent == Decimal(0)

    def test_members_without_group_unrestricted(self, shop: Harness, company: str) -> None:
        """A member without a group in a company without a global group is unrestricted."""
        add_group(shop, company, "grp", allowed_payment_methods=set())
        emp = member(shop, company)
        r = of(shop, emp)
        assert r.group is None
        assert r.may_pay_with("invoice")
        assert r.record_order(Decimal("5"))
        assert r.may_edit("address.street")

    def test_anonymous_unrestricted(self, shop: Harness) -> None:
        """Nobody logged in: for_request gives unrestricted rights."""
        r = rights.for_request(shop.client().context())
        assert r.account is None
        assert r.group is None
        assert r.may_pay_with("invoice")
        assert r.subshop_allowed("shop9")

    def test_global_group_applies_to_members_without_group(
        self, shop: Harness, company: str
    ) -> None:
        """The company's global group restricts members without a group of their own."""
        add_group(shop, company, "all", kind="global", allowed_payment_methods={"invoice"})
        add_group(shop, company, "own", allowed_payment_methods={"prepayment"})
        plain = member(shop, company)
        grouped = member(shop, company, "own@a.example", privilege_group_id="own")
        assert of(shop, plain).group == shop.accounts.get_group(company, "all")
        assert of(shop, plain).may_pay_with("invoice")
        assert not of(shop, plain).may_pay_with("prepayment")
        assert of(shop, grouped).group == shop.accounts.get_group(company, "own")
        assert of(shop, grouped).may_pay_with("prepayment")
        assert not of(shop, grouped).may_pay_with("invoice")

    def test_missing_assigned_group_denies_everything(self, shop: Harness, company: str) -> None:
        """A member whose assigned group no longer exists may neither pay nor edit."""
        add_group(shop, company, "all", kind="global")
        emp = member(shop, company, privilege_group_id="gone")
        r = of(shop, emp)
        assert r.group is not None
        assert not r.may_pay_with("invoice")
        assert not r.may_edit("displayName")
        assert not r.may_edit("address.street")
        assert r.check_order(Decimal("0.01")) is not None
        assert r.record_order(Decimal("0.01")) is False
        browser = logged_in(shop, "emp@a.example")
        result = browser.submit("accountDisplayNameUpdate", displayName="Sneaky")
        assert_fails(result, ActionError("fieldNotEditable", "displayName"))

    def test_other_company_global_group_does_not_apply(self, shop: Harness, company: str) -> None:
        """Another company's global group never restricts this company's members."""
        add_group(shop, "other-company", "all", kind="global", allowed_payment_methods=set())
        assert of(shop, member(shop, company)).group is None

    def test_for_request_follows_login(self, shop: Harness, company: str) -> None:
        """for_request gives the logged-in member's rights."""
        emp = restricted(shop, company, allowed_payment_methods={"invoice"})
        browser = logged_in(shop, "emp@a.example")
        r = rights.for_request(browser.context())
        assert r.account is not None
        assert r.account.id == emp.id
        assert not r.may_pay_with("creditcard")


class TestBlockedAndEditable:
    def test_template_blocked(self, shop: Harness, company: str) -> None:
        """blockedTemplates are glob patterns over the template name."""
        emp = restricted(shop, company, blocked_templates=("checkout/*", "account/orders.htm"))
        r = of(shop, emp)
        assert r.template_blocked("checkout/index.htm")
        assert r.template_blocked("checkout/step/2.htm")
        assert r.template_blocked("account/orders.htm")
        assert not r.template_blocked("checkout.htm")
        assert not r.template_blocked("account/orders.html")
        assert not r.template_blocked("Checkout/index.htm")
        assert not r.template_blocked("basket/checkout/x")

    def test_url_blocked(self, shop: Harness, company: str) -> None:
        """blockedUrls are glob patterns over the URL or its path."""
        emp = restricted(shop, company, blocked_urls=("/b2b/admin*",))
        r = of(shop, emp)
        assert r.url_blocked("/b2b/admin")
        assert r.url_blocked("/b2b/admin/users")
        assert r.url_blocked("/b2b/admin?tab=1")
        assert r.url_blocked("https://shop.example/b2b/admin/x?y=1#z")
        assert not r.url_blocked("/b2b/adm")
        assert not r.url_blocked("/shop/b2b/admin")
        assert not r.url_blocked("/b2b")

    def test_may_edit_fields_and_families(self, shop: Harness, company: str) -> None:
        """editableFields list single fields or whole families."""
        emp = restricted(
            shop, company, editable_fields={"displayName", "customerData.phone", "address"}
        )
        r = of(shop, emp)
        assert r.may_edit("displayName")
        assert r.may_edit("customerData.phone")
        assert not r.may_edit("customerData.vatId")
        assert not r.may_edit("customerData")
        assert r.may_edit("address")
        assert r.may_edit("address.street")
        assert not r.may_edit("email")

    def test_empty_editable_fields_allow_nothing(self, shop: Harness, company: str) -> None:
        """An empty editableFields list makes every field read-only."""
        r = of(shop, restricted(shop, company, editable_fields=set()))
        assert not r.may_edit("displayName")
        assert not r.may_edit("address.street")

    def test_subshop_allowed(self, shop: Harness, company: str) -> None:
        """allowedSubshops is a member setting; not set means every subshop."""
        limited = member(shop, company, allowed_subshops={"shop1", "shop2"})
        nothing = member(shop, company, "none@a.example", allowed_subshops=set())
        free = member(shop, company, "free@a.example")
        assert of(shop, limited).subshop_allowed("shop1")
        assert of(shop, limited).subshop_allowed("shop2")
        assert not of(shop, limited).subshop_allowed("shop3")
        assert not of(shop, nothing).subshop_allowed("shop1")
        assert of(shop, free).subshop_allowed("shop3")
        assert of(shop, free).subshop_allowed(None)


# enforcement by the actions ---------------------------------------------------------------


class TestEditableFieldsEnforced:
    def test_display_name(self, shop: Harness, company: str) -> None:
        """accountDisplayNameUpdate answers fieldNotEditable unless displayName is listed."""
        emp = restricted(shop, company, editable_fields={"customerData"})
        browser = logged_in(shop, "emp@a.example")
        before = shop.state()
        result = browser.submit("accountDisplayNameUpdate", displayName="New Name")
        assert_fails(result, ActionError("fieldNotEditable", "displayName"))
        assert shop.state() == before
        shop.accounts.update_group(
            company, "grp", {"privileges": Privileges(editable_fields={"displayName"})}
        )
        assert browser.submit("accountDisplayNameUpdate", displayName="New Name").success
        assert shop.accounts.get_account(emp.id).display_name == "New Name"

    def test_customer_data(self, shop: Harness, company: str) -> None:
        """AccountSetCustomerData refuses unlisted fields, all or nothing."""
        emp = restricted(shop, company, editable_fields={"customerData.phone"})
        browser = logged_in(shop, "emp@a.example")
        before = shop.state()
        result = browser.submit(
            "AccountSetCustomerData", {"customerData.phone": "123", "customerData.vatId": "DE1"}
        )
        assert_fails(result, ActionError("fieldNotEditable", "customerData.vatId"))
        assert shop.state() == before
        result = browser.submit("AccountSetCustomerData", {"customerData.phone": "123"})
        assert result.success
        assert dict(shop.accounts.get_account(emp.id).customer_data) == {"phone": "123"}

    def test_address_create(self, shop: Harness, company: str) -> None:
        """AddressCreate names every field the group does not let the member edit."""
        restricted(shop, company, editable_fields={"address.firstName", "address.lastName"})
        browser = logged_in(shop, "emp@a.example")
        before = shop.state()
        result = browser.submit("AddressCreate", ADDRESS)
        denied = [k for k in ADDRESS if k not in ("address.firstName", "address.lastName")]
        assert_fails(result, *(ActionError("fieldNotEditable", k) for k in denied))
        assert shop.state() == before

    def test_address_family(self, shop: Harness, company: str) -> None:
        """The address family allows creating addresses."""
        emp = restricted(shop, company, editable_fields={"address"})
        browser = logged_in(shop, "emp@a.example")
        assert browser.submit("AddressCreate", ADDRESS).success
        assert len(shop.accounts.list_addresses(emp.id)) == 1

    def test_admin_edits_freely(self, shop: Harness, company: str) -> None:
        """An admin in a read-only group edits anyway."""
        add_group(shop, company, "grp", editable_fields=set())
        shop.create_account("co@a.example", PW, company_id=company, privilege_group_id="grp")
        browser = logged_in(shop, "co@a.example", PW)
        assert browser.submit("accountDisplayNameUpdate", displayName="Co").success
        assert browser.submit("AccountSetCustomerData", {"customerData.phone": "1"}).success
        assert browser.submit("AddressCreate", ADDRESS).success


class TestSubshops:
    def test_login_outside_allowed_subshops(self, shop: Harness, company: str) -> None:
        """Login in a subshop the member may not use answers subshopNotAllowed."""
        member(shop, company, allowed_subshops={"shop1", "shop2"})
        browser = shop.client(subshop="shop3")
        before = shop.state()
        result = browser.submit("Login", id="emp@a.example", password=EMP_PW)
        assert_fails(result, ActionError("subshopNotAllowed"))
        assert shop.state() == before
        assert browser.view().wsAccount.isLoggedIn is False

    def test_wrong_password_in_foreign_subshop(self, shop: Harness, company: str) -> None:
        """The subshop refusal is told only after the password was verified."""
        member(shop, company, allowed_subshops={"shop1"})
        result = shop.client(subshop="shop3").submit("Login", id="emp@a.example", password=PW)
        assert_fails(result, ActionError("invalidCredentials"))

    @pytest.mark.parametrize("subshop", ["shop1", "shop2"])
    def test_login_inside_allowed_subshops(self, shop: Harness, company: str, subshop: str) -> None:
        """Login in an allowed subshop succeeds."""
        member(shop, company, allowed_subshops={"shop1", "shop2"})
        browser = shop.client(subshop=subshop)
        assert browser.submit("Login", id="emp@a.example", password=EMP_PW).success
        assert browser.view().wsAccount.isLoggedIn

    def test_setting_from_update_sub_account(
        self, shop: Harness, boss: Account, company: str
    ) -> None:
        """allowedSubshops set by the admin governs the member's next login."""
        emp = member(shop, company)
        admin = logged_in(shop, "boss@a.example", PW)
        result = admin.submit(
            "UpdateSubAccount", memberId=emp.id, allowedSubshops='{"shop1": true}'
        )
        assert result.success
        assert shop.client(subshop="shop3").submit(
            "Login", id="emp@a.example", password=EMP_PW
        ).errors == (ActionError("subshopNotAllowed"),)
        assert logged_in(shop, "emp@a.example", subshop="shop1").view().wsAccount.isLoggedIn


class TestAddressVisibility:
    def test_new_addresses_get_default_visibility(self, shop: Harness, company: str) -> None:
        """A member's new addresses get its defaultAddressVisibility."""
        sharer = member(shop, company, "sharer@a.example", default_address_visibility="shared")
        keeper = member(shop, company, "keeper@a.example")
        for email, account, visibility in (
            ("sharer@a.example", sharer, "shared"),
            ("keeper@a.example", keeper, "private"),
        ):
            assert logged_in(shop, email).submit("AddressCreate", ADDRESS).success
            [address] = shop.accounts.list_addresses(account.id)
            assert address.visibility == visibility

    def test_shared_addresses_visible_to_colleagues_only(
        self, shop: Harness, boss: Account, company: str
    ) -> None:
        """Shared addresses appear in colleagues' wsAccount.addresses; private ones do not."""
        sharer = member(shop, company, "sharer@a.example", default_address_visibility="shared")
        member(shop, company, "keeper@a.example")
        member(shop, company, "viewer@a.example")
        outsider_boss = shop.create_account("boss@b.example", PW)
        shop.create_account(
            "out@b.example",
            EMP_PW,
            admin=False,
            company_id=outsider_boss.company_id,
            default_address_visibility="shared",
        )
        ids = {}
        for email in ("sharer@a.example", "keeper@a.example", "out@b.example"):
            result = logged_in(shop, email).submit("AddressCreate", ADDRESS)
            assert result.success
            ids[email] = result.data["addressId"]
        viewer = logged_in(shop, "viewer@a.example").view().wsAccount
        assert [a.id for a in viewer.addresses] == [ids["sharer@a.example"]]
        assert viewer.addresses[0].account_id == sharer.id
        admin = logged_in(shop, "boss@a.example", PW).view().wsAccount
        assert [a.id for a in admin.addresses] == [ids["sharer@a.example"]]
        keeper = logged_in(shop, "keeper@a.example").view().wsAccount
        assert [a.id for a in keeper.addresses] == [
            ids["keeper@a.example"],
            ids["sharer@a.example"],
        ]
        sharer_view = logged_in(shop, "sharer@a.example").view().wsAccount
        assert [a.id for a in sharer_view.addresses] == [ids["sharer@a.example"]]
        outsider = logged_in(shop, "out@b.example").view().wsAccount
        assert [a.id for a in outsider.addresses] == [ids["out@b.example"]]

    def test_visibility_set_by_admin(self, shop: Harness, boss: Account, company: str) -> None:
        """defaultAddressVisibility from UpdateSubAccount applies to the next address."""
        emp = member(shop, company)
        admin = logged_in(shop, "boss@a.example", PW)
        assert admin.submit(
            "UpdateSubAccount", memberId=emp.id, defaultAddressVisibility="shared"
        ).success
        assert logged_in(shop, "emp@a.example").submit("AddressCreate", ADDRESS).success
        [address] = shop.accounts.list_addresses(emp.id)
        assert address.visibility == "shared"
        assert [a.id for a in admin.view().wsAccount.addresses] == [address.id]

    def test_no_sharing_when_b2b_disabled(self) -> None:
        """With b2b_enabled=False colleagues see no shared addresses."""
        shop = Harness(b2b_enabled=False)
        boss = shop.create_account("boss@a.example", PW)
        member(shop, boss.company_id or "", "sharer@a.example", default_address_visibility="shared")
        assert logged_in(shop, "sharer@a.example").submit("AddressCreate", ADDRESS).success
        assert logged_in(shop, "boss@a.example", PW).view().wsAccount.addresses == ()


class TestSecondFactorRule:
    """A group may require its members to turn a second factor on before they order."""

    def test_order_refused_until_the_member_has_a_second_factor(
        self, shop: Harness, company: str
    ) -> None:
        emp = restricted(shop, company, require_second_factor=True)
        assert of(shop, emp).check_order(Decimal("1")) == rights.SECOND_FACTOR_REQUIRED
        assert rights.SECOND_FACTOR_REQUIRED == "secondFactorRequired"
        assert shop.accounts.update_account(emp.id, {"totp_secret": "sealed"})
        stored = shop.accounts.get_account(emp.id)
        assert of(shop, stored).check_order(Decimal("1")) is None

    def test_the_rule_is_off_by_default(self, shop: Harness, company: str) -> None:
        emp = restricted(shop, company, payment_limit=Decimal("5"))
        assert of(shop, emp).check_order(Decimal("1")) is None

    def test_update_privileges_sets_it(self, shop: Harness, boss: Account, company: str) -> None:
        """UpdatePrivileges takes ``requireSecondFactor`` (a JSON boolean; anything else is
        invalid and changes nothing)."""
        add_group(shop, company, "grp")
        admin = shop.client()
        shop.log_in(admin, boss)
        before = shop.state()
        refused = admin.submit(
            "UpdatePrivileges", privilegeId="grp", privileges='{"requireSecondFactor": "yes"}'
        )
        assert not refused.success
        assert shop.state() == before
        done = admin.submit(
            "UpdatePrivileges", privilegeId="grp", privileges='{"requireSecondFactor": true}'
        )
        assert done.success, done.errors
        group = shop.accounts.get_group(company, "grp")
        assert group is not None
        assert group.privileges.require_second_factor

"""Read-modify-write pairs: a second request starts right after the first one's n-th read.

Every pair runs once for each read position of the first request; both
changes must survive every time (no lost update, no write skew).
"""

from __future__ import annotations

from decimal import Decimal

import argon2
import pytest

from helpers import PW
from wsactions import Account, ActionResult, GuestCheckout, PrivilegeGroup, Privileges, rights
from wsactions.testing import Client, Harness, interleave

NEW_PW = "a brand new passphrase 99"
POSITIONS = range(1, 7)


def log_in(shop: Harness, email: str, password: str = PW) -> Client:
    client = shop.client()
    assert client.submit("Login", id=email, password=password).success
    return client


def can_log_in(shop: Harness, email: str, password: str) -> bool:
    return shop.client().submit("Login", id=email, password=password).success


def account(shop: Harness, email: str) -> Account:
    found = shop.accounts.find_account(email)
    assert found is not None
    return found


def address(client: Client, city: str = "Köln") -> str:
    result = client.submit(
        "AddressCreate",
        {
            "address.firstName": "Erika",
            "address.lastName": "Mustermann",
            "address.street": "Heidestraße",
            "address.houseNumber": "17",
            "address.zip": "51147",
            "address.city": city,
            "address.country": "DE",
        },
    )
    assert result.success, result.errors
    return str(result.data["addressId"])


def both(results: tuple[ActionResult | None, ActionResult | None]) -> None:
    first, second = results
    assert first is not None
    assert first.success, first
    assert second is not None
    assert second.success, second


@pytest.mark.parametrize("nth", POSITIONS)
class TestAccountPairs:
    """Two browsers of one customer change different things of the same account."""

    def test_password_change_vs_main_address(self, nth: int) -> None:
        """ResetPassword (logged in) and SetMainAddress: the new password stays."""
        shop = Harness()
        shop.create_account("ann@example.com", PW)
        one, two = log_in(shop, "ann@example.com"), log_in(shop, "ann@example.com")
        first, second = address(two, "Bonn"), address(two, "Köln")
        assert account(shop, "ann@example.com").main_address_id == first
        changed, moved = interleave(
            shop,
            lambda: one.submit(
                "ResetPassword", newPassword=NEW_PW, newPasswordRepeat=NEW_PW, passwordAuth=PW
            ),
            lambda: two.submit("SetMainAddress", addressId=second),
            after_read=nth,
        )
        assert changed.success
        # The password change ends every login: the other browser either got in first, or
        # was logged out.
        assert moved.success or moved.codes == {"notLoggedIn"}
        expected = second if moved.success else first
        assert account(shop, "ann@example.com").main_address_id == expected
        assert can_log_in(shop, "ann@example.com", NEW_PW)
        assert not can_log_in(shop, "ann@example.com", PW)

    def test_main_address_vs_password_change(self, nth: int) -> None:
        """The other order: SetMainAddress first; the password change stays, and the
        address role too unless the change ended that login before it was checked."""
        shop = Harness()
        shop.create_account("ann@example.com", PW)
        one, two = log_in(shop, "ann@example.com"), log_in(shop, "ann@example.com")
        first = address(two, "Bonn")
        second = address(two, "Köln")
        moved, changed = interleave(
            shop,
            lambda: two.submit("SetMainAddress", addressId=second),
            lambda: one.submit(
                "ResetPassword",
                newPassword=NEW_PW,
                newPasswordRepeat=NEW_PW,
                passwordAuth=PW,
            ),
            after_read=nth,
        )
        assert changed.success
        assert moved.success or moved.codes == {"notLoggedIn"}
        expected = second if moved.success else first
        assert account(shop, "ann@example.com").main_address_id == expected
        assert can_log_in(shop, "ann@example.com", NEW_PW)
        assert not can_log_in(shop, "ann@example.com", PW)

    def test_customer_data_vs_customer_data(self, nth: int) -> None:
        """Two customer data fields set at once both survive."""
        shop = Harness(customer_data_fields={"phone", "company"})
        shop.create_account("ann@example.com", PW)
        one, two = log_in(shop, "ann@example.com"), log_in(shop, "ann@example.com")
        both(
            interleave(
                shop,
                lambda: one.submit("AccountSetCustomerData", {"customerData.phone": "0221 1"}),
                lambda: two.submit("AccountSetCustomerData", {"customerData.company": "ACME"}),
                after_read=nth,
            )
        )
        assert dict(account(shop, "ann@example.com").customer_data) == {
            "phone": "0221 1",
            "company": "ACME",
        }

    def test_address_create_vs_default_delivery(self, nth: int) -> None:
        """AddressCreate (its roles) and SetDefaultDeliveryAddress both keep their roles."""
        shop = Harness()
        shop.create_account("ann@example.com", PW)
        one, two = log_in(shop, "ann@example.com"), log_in(shop, "ann@example.com")
        delivery = address(two)
        created: list[str] = []
        interleave(
            shop,
            lambda: created.append(address(one, "Bonn")),
            lambda: two.submit("SetDefaultDeliveryAddress", addressId=delivery),
            after_read=nth,
        )
        stored = account(shop, "ann@example.com")
        assert stored.default_delivery_address_id == delivery
        assert stored.main_address_id == delivery  # the first address ever created
        assert stored.default_bill_address_id == delivery

    def test_address_delete_vs_set_main(self, nth: int) -> None:
        """Deleting an address while it is made the main address leaves no dangling role."""
        shop = Harness()
        shop.create_account("ann@example.com", PW)
        one, two = log_in(shop, "ann@example.com"), log_in(shop, "ann@example.com")
        address(one)
        doomed = address(one, "Bonn")
        interleave(
            shop,
            lambda: one.submit("AddressDelete", addressId=doomed),
            lambda: two.submit("SetMainAddress", addressId=doomed),
            after_read=nth,
        )
        stored = account(shop, "ann@example.com")
        ids = {a.id for a in shop.accounts.list_addresses(stored.id)}
        roles = (
            stored.main_address_id,
            stored.default_bill_address_id,
            stored.default_delivery_address_id,
        )
        assert all(role is None or role in ids for role in roles)

    def test_address_update_vs_update(self, nth: int) -> None:
        """Two updates of different fields of one address both survive."""
        shop = Harness()
        shop.create_account("ann@example.com", PW)
        one, two = log_in(shop, "ann@example.com"), log_in(shop, "ann@example.com")
        target = address(one)
        both(
            interleave(
                shop,
                lambda: one.submit("AddressUpdate", {"address.city": "Bonn"}, addressId=target),
                lambda: two.submit(
                    "AddressUpdate", {"address.firstName": "Erna"}, addressId=target
                ),
                after_read=nth,
            )
        )
        stored = shop.accounts.get_address(account(shop, "ann@example.com").id, target)
        assert stored is not None
        assert stored.fields["city"] == "Bonn"
        assert stored.fields["firstName"] == "Erna"

    def test_login_rehash_vs_display_name(self, nth: int) -> None:
        """A login that upgrades the hash and a display name change both survive."""
        shop = Harness()
        ann = shop.create_account("ann@example.com", PW)
        old = argon2.Parameters(
            type=argon2.Type.ID,
            version=19,
            salt_len=16,
            hash_len=16,
            time_cost=1,
            memory_cost=16,
            parallelism=1,
        )
        shop.accounts.update_account(
            ann.id, {"password_hash": argon2.PasswordHasher.from_parameters(old).hash(PW)}
        )
        two = log_in(shop, "ann@example.com")
        one = shop.client()
        both(
            interleave(
                shop,
                lambda: one.submit("Login", id="ann@example.com", password=PW),
                lambda: two.submit("accountDisplayNameUpdate", displayName="Ann"),
                after_read=nth,
            )
        )
        stored = account(shop, "ann@example.com")
        assert stored.display_name == "Ann"
        assert argon2.extract_parameters(stored.password_hash or "") != old

    def test_email_confirmation_vs_display_name(self, nth: int) -> None:
        """Confirming an email change and a display name change both survive."""
        shop = Harness()
        shop.create_account("ann@example.com", PW)
        one, two = log_in(shop, "ann@example.com"), log_in(shop, "ann@example.com")
        assert one.submit("EmailUpdate", email="new@example.com").success
        [link] = [m.links[0] for m in shop.outbox if m.purpose == "email_update"]
        confirmer = shop.client()
        confirmed, renamed = interleave(
            shop,
            lambda: confirmer.follow(link),
            lambda: two.submit("accountDisplayNameUpdate", displayName="Ann"),
            after_read=nth,
        )
        assert confirmed is not None
        assert confirmed.success
        # The confirmation ends the account's other logins: the rename got in first or
        # was refused; either way nothing was lost.
        assert renamed.success or renamed.codes == {"notLoggedIn"}
        stored = account(shop, "new@example.com")
        assert stored.display_name == ("Ann" if renamed.success else "")
        assert shop.accounts.find_account("ann@example.com") is None

    def test_guest_conversion_vs_registration(self, nth: int) -> None:
        """A guest conversion and a registration of the same address: one account, which
        keeps the checkout's addresses if the conversion won."""
        shop = Harness()
        guest, stranger = shop.client(), shop.client(client_address="198.51.100.9")
        checkout = {"type": "bill", "firstName": "Erika", "lastName": "M", "city": "Köln"}
        guest.session.set_guest_checkout(
            GuestCheckout(email="ann@example.com", addresses=(checkout,))
        )
        converted, registered = interleave(
            shop,
            lambda: guest.submit("GuestRegister", guestMail="x", password=PW, passwordRepeat=PW),
            lambda: stranger.submit(
                "AccountRegister", email="ann@example.com", password=PW, passwordRepeat=PW
            ),
            after_read=nth,
        )
        assert converted.success is not registered.success
        stored = account(shop, "ann@example.com")
        addresses = shop.accounts.list_addresses(stored.id)
        if converted.success:
            assert [a.fields["city"] for a in addresses] == ["Köln"]
            assert stored.main_address_id == addresses[0].id
        else:
            assert addresses == []


def company(shop: Harness) -> tuple[Account, Client, Account, Client]:
    """An admin and an employee of one company, both logged in."""
    boss = shop.create_account("boss@a.example", PW)
    employee = shop.create_account("emp@a.example", PW, company_id=boss.company_id, admin=False)
    return boss, log_in(shop, "boss@a.example"), employee, log_in(shop, "emp@a.example")


def group(shop: Harness, company_id: str, group_id: str = "grp", **privileges: object) -> None:
    assert shop.accounts.add_group(
        PrivilegeGroup(
            id=group_id, company_id=company_id, name=group_id, privileges=Privileges(**privileges)
        )
    )


@pytest.mark.parametrize("nth", POSITIONS)
class TestCompanyPairs:
    """An admin and an employee (or two admins) change the same records."""

    def test_deactivation_vs_display_name(self, nth: int) -> None:
        """An admin's deactivation survives the employee's own display name change."""
        shop = Harness()
        _, admin, employee, browser = company(shop)
        interleave(
            shop,
            lambda: admin.submit("UpdateSubAccount", memberId=employee.id, active="false"),
            lambda: browser.submit("accountDisplayNameUpdate", displayName="Emp"),
            after_read=nth,
        )
        assert account(shop, "emp@a.example").deactivated
        assert not can_log_in(shop, "emp@a.example", PW)
        assert not browser.view().wsAccount.isLoggedIn

    def test_display_name_vs_deactivation(self, nth: int) -> None:
        """The other order: the employee starts first; the deactivation still holds."""
        shop = Harness()
        _, admin, employee, browser = company(shop)
        interleave(
            shop,
            lambda: browser.submit("accountDisplayNameUpdate", displayName="Emp"),
            lambda: admin.submit("UpdateSubAccount", memberId=employee.id, active="false"),
            after_read=nth,
        )
        assert account(shop, "emp@a.example").deactivated
        assert not can_log_in(shop, "emp@a.example", PW)

    def test_two_admins_edit_one_member(self, nth: int) -> None:
        """Two admins change different settings of one member: both survive."""
        shop = Harness()
        boss, admin, employee, _ = company(shop)
        other = shop.create_account("boss2@a.example", PW, company_id=boss.company_id, admin=True)
        assert other.admin
        second_admin = log_in(shop, "boss2@a.example")
        group(shop, boss.company_id or "")
        both(
            interleave(
                shop,
                lambda: admin.submit("UpdateSubAccount", memberId=employee.id, displayName="E"),
                lambda: second_admin.submit(
                    "UpdateSubAccount", memberId=employee.id, privilegeGroupId="grp"
                ),
                after_read=nth,
            )
        )
        stored = account(shop, "emp@a.example")
        assert (stored.display_name, stored.privilege_group_id) == ("E", "grp")

    def test_privilege_edit_vs_charge(self, nth: int) -> None:
        """UpdatePrivileges never erases what a concurrent order charged."""
        shop = Harness()
        boss, admin, employee, _ = company(shop)
        company_id = boss.company_id or ""
        group(shop, company_id, payment_limit=Decimal(100))
        shop.accounts.update_account(employee.id, {"privilege_group_id": "grp"})
        member = account(shop, "emp@a.example")
        interleave(
            shop,
            lambda: admin.submit(
                "UpdatePrivileges", privilegeId="grp", privileges='{"allowedPaymentMethods": []}'
            ),
            lambda: rights.for_account(shop.accounts, member).record_order(Decimal(30)),
            after_read=nth,
        )
        stored = shop.accounts.get_group(company_id, "grp")
        assert stored is not None
        assert stored.spent == Decimal(30)
        assert stored.privileges.allowed_payment_methods == frozenset()

    def test_stale_limit_is_not_used(self, nth: int) -> None:
        """An order recorded after the limit was lowered is checked against the new limit."""
        shop = Harness()
        boss, admin, employee, _ = company(shop)
        company_id = boss.company_id or ""
        group(shop, company_id, payment_limit_per_order=Decimal(500))
        shop.accounts.update_account(employee.id, {"privilege_group_id": "grp"})
        stale = rights.for_account(shop.accounts, account(shop, "emp@a.example"))
        assert admin.submit(
            "UpdatePrivileges", privilegeId="grp", privileges='{"paymentLimitPerOrder": 10}'
        ).success
        assert not stale.record_order(Decimal(300))
        stored = shop.accounts.get_group(company_id, "grp")
        assert stored is not None
        assert stored.spent == 0

    def test_group_delete_vs_assignment(self, nth: int) -> None:
        """Deleting a group while a member is assigned to it: never a member of a lost group."""
        shop = Harness()
        boss, admin, employee, _ = company(shop)
        company_id = boss.company_id or ""
        group(shop, company_id)
        other_admin = log_in(shop, "boss@a.example")
        interleave(
            shop,
            lambda: admin.submit("DeletePrivilegeGroup", id="grp"),
            lambda: other_admin.submit(
                "UpdateSubAccount", memberId=employee.id, privilegeGroupId="grp"
            ),
            after_read=nth,
        )
        assigned = account(shop, "emp@a.example").privilege_group_id
        exists = shop.accounts.get_group(company_id, "grp") is not None
        assert exists or assigned is None

    def test_one_default_group(self, nth: int) -> None:
        """Two groups made the company default at once: exactly one is global."""
        shop = Harness()
        boss, admin, _, _ = company(shop)
        company_id = boss.company_id or ""
        group(shop, company_id, "a")
        group(shop, company_id, "b")
        other_admin = log_in(shop, "boss@a.example")
        both(
            interleave(
                shop,
                lambda: admin.submit("UpdatePrivileges", privilegeId="a", type="global"),
                lambda: other_admin.submit("UpdatePrivileges", privilegeId="b", type="global"),
                after_read=nth,
            )
        )
        kinds = [g.type for g in shop.accounts.list_groups(company_id)]
        assert kinds.count("global") == 1

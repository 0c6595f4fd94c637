"""Tests for the address-book actions: one class per action, every declared code.

Every failure asserts the exact errors and that nothing stored changed.
"""

from __future__ import annotations

import secrets
from typing import Any, ClassVar

import attrs
import pytest

from helpers import PW, account_logged_in, assert_fails
from strategies import DE, GB, US
from wsactions import Account, ActionError, Address, PrivilegeGroup, Privileges
from wsactions.addressing import AddressRules
from wsactions.models import TokenRecord
from wsactions.security.tokens import new_token
from wsactions.testing import Client, Harness

ROLES = ("main_address_id", "default_bill_address_id", "default_delivery_address_id")


# helpers -------------------------------------------------------------------------------


def form(fields: dict[str, str]) -> dict[str, str]:
    """*fields* as ``address.<name>`` form fields."""
    return {f"address.{name}": value for name, value in fields.items()}


def err(field: str, sub: str) -> ActionError:
    """The addressCheckFailed error for *field* with sub-code *sub*."""
    return ActionError("addressCheckFailed", f"address.{field}", (sub,))




def stored(shop: Harness, account: Account) -> Account:
    """The stored version of *account*."""
    found: Account | None = shop.accounts.get_account(account.id)
    assert found is not None
    return found


def roles(shop: Harness, account: Account) -> tuple[str | None, ...]:
    """The account's (main, bill, delivery) address ids."""
    current = stored(shop, account)
    return tuple(getattr(current, role) for role in ROLES)


def create(client: Client, fields: dict[str, str] | None = None, type: str | None = None) -> str:
    """Create an address through the action; its id."""
    params = {} if type is None else {"type": type}
    result = client.submit("AddressCreate", form(fields or DE), **params)
    assert result.success, result.errors
    address_id: str = result.data["addressId"]
    return address_id


def issue_token(
    shop: Harness, account: Account, purpose: str = "address", lifetime: float = 3600
) -> str:
    """Store an opt-in token of *purpose* for *account* as a host would; the token."""
    token, token_hash = new_token()
    now = shop.clock.now()
    shop.tokens.add(
        TokenRecord(
            token_hash=token_hash,
            purpose=purpose,
            account_id=account.id,
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    return token


def b2b_member(shop: Harness, client: Client, editable: set[str], **fields: Any) -> Account:
    """Log *client* in as a member of a company whose group "g1" may edit *editable*."""
    owner = shop.create_account("owner@example.com", PW)
    shop.accounts.add_group(
        PrivilegeGroup(
            id="g1",
            company_id=owner.company_id,
            name="Buyers",
            privileges=Privileges(editable_fields=editable),
        )
    )
    return account_logged_in(
        shop,
        client,
        "buyer@example.com",
        admin=False,
        company_id=owner.company_id,
        privilege_group_id="g1",
        **fields,
    )


def store_address(shop: Harness, account: Account, fields: dict[str, str] | None = None) -> str:
    """Store an address for *account* directly (as a host import would); its id."""
    address_id = secrets.token_urlsafe(16)
    shop.accounts.add_address(
        Address(id=address_id, account_id=account.id, type="bill", fields=fields or DE)
    )
    return address_id


@pytest.fixture
def ann(shop: Harness, alice: Client) -> Account:
    """alice logged in as ann@example.com (no addresses yet)."""
    return account_logged_in(shop, alice, "ann@example.com")


@pytest.fixture
def ben(shop: Harness, bob: Client) -> Account:
    """bob logged in as ben@example.com."""
    return account_logged_in(shop, bob, "ben@example.com")


@pytest.fixture
def bens_address(shop: Harness, bob: Client, ben: Account) -> str:
    """An address of ben's (his main and default billing address)."""
    return create(bob, GB)


def assert_same_refusal_for_foreign_and_unknown(
    shop: Harness, alice: Client, name: str, foreign_id: str, fields: dict[str, Any], code: str
) -> None:
    """Another account's id and a made-up id answer *code* alike, and change nothing."""
    field = "pseudoCCId" if code == "invalidPseudoCCId" else "addressId"
    before = shop.state()
    foreign = alice.submit(name, fields, **{field: foreign_id})
    assert shop.state() == before
    unknown = alice.submit(name, fields, **{field: secrets.token_urlsafe(16)})
    assert shop.state() == before
    assert_fails(foreign, ActionError(code, field))
    assert foreign.errors == unknown.errors


# AddressCreate --------------------------------------------------------------------------


class TestAddressCreate:
    def test_not_logged_in(self, shop: Harness, alice: Client):
        """Without login or token: notLoggedIn and nothing stored."""
        before = shop.state()
        assert_fails(alice.submit("AddressCreate", form(DE)), ActionError("notLoggedIn"))
        assert shop.state() == before

    def test_expired_token_is_not_a_login(self, shop: Harness, alice: Client):
        """An address token one second past its lifetime: notLoggedIn."""
        account = shop.create_account("ann@example.com", PW)
        alice.optin = issue_token(shop, account, lifetime=3600)
        shop.clock.advance(3601)
        before = shop.state()
        assert_fails(alice.submit("AddressCreate", form(DE)), ActionError("notLoggedIn"))
        assert shop.state() == before

    @pytest.mark.parametrize("purpose", ["password", "delete", "email_update", "verify"])
    def test_token_of_other_purpose_is_not_a_login(
        self, shop: Harness, alice: Client, purpose: str
    ):
        """A valid token of another purpose: notLoggedIn."""
        account = shop.create_account("ann@example.com", PW)
        alice.optin = issue_token(shop, account, purpose=purpose)
        before = shop.state()
        assert_fails(alice.submit("AddressCreate", form(DE)), ActionError("notLoggedIn"))
        assert shop.state() == before

    def test_made_up_token_is_not_a_login(self, shop: Harness, alice: Client):
        """A token that was never issued: notLoggedIn."""
        shop.create_account("ann@example.com", PW)
        alice.optin = secrets.token_urlsafe(32)
        before = shop.state()
        assert_fails(alice.submit("AddressCreate", form(DE)), ActionError("notLoggedIn"))
        assert shop.state() == before

    def test_token_of_deleted_account_is_not_a_login(self, shop: Harness, alice: Client):
        """A valid address token whose account no longer exists: notLoggedIn."""
        account = shop.create_account("ann@example.com", PW)
        alice.optin = issue_token(shop, account)
        shop.accounts.delete_account(account.id)
        before = shop.state()
        assert_fails(alice.submit("AddressCreate", form(DE)), ActionError("notLoggedIn"))
        assert shop.state() == before

    def test_optin_token_acts_for_its_account(self, shop: Harness, alice: Client):
        """A valid address token without login creates the address for the token's account."""
        account = shop.create_account("ann@example.com", PW)
        alice.optin = issue_token(shop, account)
        result = alice.submit("AddressCreate", form(DE))
        assert result.success, result.errors
        [address] = shop.accounts.list_addresses(account.id)
        assert address.id == result.data["addressId"]
        assert dict(address.fields) == DE
        assert roles(shop, account) == (address.id, address.id, None)

    def test_optin_token_in_form_field_acts_for_its_account(self, shop: Harness, alice: Client):
        """The token may also come as the form's wsoptin field."""
        account = shop.create_account("ann@example.com", PW)
        token = issue_token(shop, account)
        result = alice.submit("AddressCreate", {**form(DE), "wsoptin": token})
        assert result.success, result.errors
        assert len(shop.accounts.list_addresses(account.id)) == 1

    @pytest.mark.parametrize("extra", [{}, {"type": "bill"}, {"addressId": "x"}])
    def test_empty_address(self, shop: Harness, alice: Client, ann: Account, extra):
        """No address.* field at all: emptyAddress."""
        before = shop.state()
        assert_fails(
            alice.submit("AddressCreate", **extra), ActionError("emptyAddress", "address.")
        )
        assert shop.state() == before

    def test_every_failing_field_reported_at_once(self, shop: Harness, alice: Client, ann: Account):
        """Each failing field gets exactly one error, all in one answer, with its sub-code."""
        fields = {
            **DE,
            "firstName": "R2D2",  # digits in a name
            "lastName": "x" * 101,  # over the default max_length of 100
            "street": "   ",  # required, empty after trimming
            "zip": "5114",  # not a German postal code
        }
        del fields["city"]  # required, missing
        before = shop.state()
        result = alice.submit("AddressCreate", form(fields))
        assert_fails(
            result,
            err("firstName", "numeric"),
            err("lastName", "maxlen"),
            err("street", "minlen"),
            err("zip", "zip"),
            err("city", "minlen"),
        )
        assert shop.state() == before

    @pytest.mark.parametrize(
        ("field", "value", "sub"),
        [
            ("firstName", "", "minlen"),
            ("lastName", "Smith\x01", "numeric"),
            ("city", "Köln\u202e", "numeric"),
            ("houseNumber", "s/n", "numeric"),
            ("phone", "call me", "numeric"),
            ("street", "S" * 101, "maxlen"),
            ("zip", "ABCDE", "zip"),
            ("country", "XX", "country"),
            ("country", "", "minlen"),
        ],
    )
    def test_single_field_sub_codes(
        self, shop: Harness, alice: Client, ann: Account, field, value, sub
    ):
        """One bad field gives exactly its addressCheckFailed sub-code."""
        before = shop.state()
        result = alice.submit("AddressCreate", form({**DE, field: value}))
        assert_fails(result, err(field, sub))
        assert shop.state() == before

    def test_country_not_configured(self):
        """A real country missing from Settings' list gives sub-code country."""
        shop = Harness(address_rules=AddressRules(countries={"DE"}))
        alice = shop.client()
        account_logged_in(shop, alice, "ann@example.com")
        before = shop.state()
        result = alice.submit("AddressCreate", form({**DE, "country": "FR", "zip": "75008"}))
        assert_fails(result, err("country", "country"))
        assert shop.state() == before
        assert alice.submit("AddressCreate", form(DE)).success

    @pytest.mark.parametrize("kind", ["billing", "shipping", "Bill", "", "main"])
    def test_invalid_type(self, shop: Harness, alice: Client, ann: Account, kind: str):
        """A type other than bill or delivery: invalidType."""
        before = shop.state()
        assert_fails(
            alice.submit("AddressCreate", form(DE), type=kind), ActionError("invalidType", "type")
        )
        assert shop.state() == before

    def test_invalid_type_reported_with_field_errors(
        self, shop: Harness, alice: Client, ann: Account
    ):
        """A bad type and a bad field are reported together."""
        before = shop.state()
        result = alice.submit("AddressCreate", form({**DE, "zip": "1"}), type="x")
        assert_fails(result, ActionError("invalidType", "type"), err("zip", "zip"))
        assert shop.state() == before

    def test_address_limit_reached(self):
        """With max_addresses=2, the third address: addressLimitReached."""
        shop = Harness(max_addresses=2)
        alice = shop.client()
        account = account_logged_in(shop, alice, "ann@example.com")
        create(alice, DE)
        create(alice, GB)
        before = shop.state()
        assert_fails(alice.submit("AddressCreate", form(US)), ActionError("addressLimitReached"))
        assert shop.state() == before
        assert len(shop.accounts.list_addresses(account.id)) == 2

    def test_limit_counts_per_account(self):
        """One account at its limit does not stop another account."""
        shop = Harness(max_addresses=1)
        alice, bob = shop.client(), shop.client()
        account_logged_in(shop, alice, "ann@example.com")
        account_logged_in(shop, bob, "ben@example.com")
        create(alice)
        assert alice.submit("AddressCreate", form(GB)).codes == {"addressLimitReached"}
        create(bob)

    def test_field_not_editable(self, shop: Harness, alice: Client):
        """A B2B member whose group may edit only displayName: fieldNotEditable per field."""
        b2b_member(shop, alice, {"displayName"})
        before = shop.state()
        result = alice.submit("AddressCreate", form(DE))
        assert_fails(result, *(ActionError("fieldNotEditable", f"address.{f}") for f in DE))
        assert shop.state() == before

    def test_field_not_editable_only_for_unlisted_fields(self, shop: Harness, alice: Client):
        """A group listing some address fields refuses exactly the others."""
        b2b_member(shop, alice, {"address.firstName", "address.lastName"})
        before = shop.state()
        result = alice.submit("AddressCreate", form(DE))
        assert_fails(
            result,
            *(
                ActionError("fieldNotEditable", f"address.{f}")
                for f in DE
                if f not in {"firstName", "lastName"}
            ),
        )
        assert shop.state() == before

    def test_member_with_address_family_may_create(self, shop: Harness, alice: Client):
        """A group listing the address family lets its member create, with its visibility."""
        member = b2b_member(shop, alice, {"address"}, default_address_visibility="shared")
        address_id = create(alice)
        address = shop.accounts.get_address(member.id, address_id)
        assert address is not None
        assert address.visibility == "shared"

    def test_session_locked(self, shop: Harness, alice: Client, ann: Account):
        """A locked session: sessionLocked and nothing stored."""
        alice.session.lock()
        before = shop.state()
        assert_fails(alice.submit("AddressCreate", form(DE)), ActionError("sessionLocked"))
        assert shop.state() == before

    def test_first_address_is_main_and_default_bill(
        self, shop: Harness, alice: Client, ann: Account
    ):
        """The first address (type bill by default) becomes main and default billing address."""
        address_id = create(alice)
        address = shop.accounts.get_address(ann.id, address_id)
        assert address is not None
        assert address.type == "bill"
        assert address.account_id == ann.id
        assert dict(address.fields) == DE
        assert roles(shop, ann) == (address_id, address_id, None)

    def test_first_delivery_address_is_main_and_default_delivery(
        self, shop: Harness, alice: Client, ann: Account
    ):
        """A first address of type delivery becomes main and default delivery address."""
        address_id = create(alice, type="delivery")
        assert shop.accounts.get_address(ann.id, address_id).type == "delivery"
        assert roles(shop, ann) == (address_id, None, address_id)

    def test_later_addresses_take_only_free_roles(self, shop: Harness, alice: Client, ann: Account):
        """Later addresses take no role already held; the first of a new type takes its default."""
        first = create(alice, DE)
        create(alice, GB)
        assert roles(shop, ann) == (first, first, None)
        delivery = create(alice, US, type="delivery")
        assert roles(shop, ann) == (first, first, delivery)
        create(alice, GB, type="delivery")
        create(alice, GB, type="bill")
        assert roles(shop, ann) == (first, first, delivery)
        assert len(shop.accounts.list_addresses(ann.id)) == 5

    def test_ids_are_opaque(self, shop: Harness, alice: Client, ann: Account):
        """Address ids differ, are long, not numeric and share no sequential prefix."""
        a, b = create(alice, DE), create(alice, GB)
        assert a != b
        assert len(a) >= 16
        assert len(b) >= 16
        assert not a.isdigit()
        assert not b.isdigit()
        assert a[:8] != b[:8]

    def test_unknown_field_refused_and_not_stored(self, shop: Harness, alice: Client, ann: Account):
        """An unconfigured field (address.nickname) is refused; nothing is stored."""
        before = shop.state()
        result = alice.submit("AddressCreate", form({**DE, "nickname": "Home"}))
        assert_fails(result, err("nickname", "maxlen"))
        assert shop.state() == before

    def test_extra_field_accepted(self):
        """A field configured in AddressRules.extra_fields is accepted and stored."""
        shop = Harness(address_rules=AddressRules(extra_fields={"floor"}))
        alice = shop.client()
        account = account_logged_in(shop, alice, "ann@example.com")
        address_id = create(alice, {**DE, "floor": "3rd"})
        address = shop.accounts.get_address(account.id, address_id)
        assert address.fields["floor"] == "3rd"
        assert address.floor == "3rd"

    def test_values_stored_normalised(self, shop: Harness, alice: Client, ann: Account):
        """Values are stored trimmed, the zip upper-cased and the state as its code."""
        address_id = create(alice, {**US, "firstName": "  Ann ", "state": "california"})
        address = shop.accounts.get_address(ann.id, address_id)
        assert address.firstName == "Ann"
        assert address.state == "CA"
        gb_id = create(alice, {**GB, "zip": " nw1   6xe "})
        assert shop.accounts.get_address(ann.id, gb_id).zip == "NW1 6XE"

    def test_data_returns_id_only_on_success(self, shop: Harness, alice: Client, ann: Account):
        """A failed create returns no addressId."""
        result = alice.submit("AddressCreate", form({**DE, "zip": "1"}))
        assert "addressId" not in result.data


POSTAL_CODES = [
    ("DE", None, "10115", "1011"),
    ("AT", None, "1010", "10100"),
    ("CH", None, "8001", "80011"),
    ("FR", None, "75008", "7500"),
    ("NL", None, "1012 AB", "0123 AB"),
    ("GB", None, "SW1A 1AA", "12345"),
    ("US", "CA", "94103", "9410"),
    ("CA", "ON", "K1A 0B1", "12345"),
    ("JP", "東京都", "100-0001", "1000-001"),
]


class TestAddressCreatePostalCodes:
    @pytest.mark.parametrize(("country", "state", "valid", "invalid"), POSTAL_CODES)
    def test_valid_postal_code(
        self, shop: Harness, alice: Client, ann: Account, country, state, valid, invalid
    ):
        """A postal code in the country's format is accepted and stored."""
        fields = {**DE, "country": country, "zip": valid}
        if state:
            fields["state"] = state
        address_id = create(alice, fields)
        assert shop.accounts.get_address(ann.id, address_id).zip == valid

    @pytest.mark.parametrize(("country", "state", "valid", "invalid"), POSTAL_CODES)
    def test_invalid_postal_code(
        self, shop: Harness, alice: Client, ann: Account, country, state, valid, invalid
    ):
        """A postal code not in the country's format: addressCheckFailed/zip, nothing stored."""
        fields = {**DE, "country": country, "zip": invalid}
        if state:
            fields["state"] = state
        before = shop.state()
        assert_fails(alice.submit("AddressCreate", form(fields)), err("zip", "zip"))
        assert shop.state() == before

    @pytest.mark.parametrize(
        ("country", "state", "postal_code"),
        [("US", "NY", "94103"), ("CA", "BC", "K1A 0B1"), ("JP", "北海道", "100-0001")],
    )
    def test_postal_code_of_another_state(
        self, shop: Harness, alice: Client, ann: Account, country, state, postal_code
    ):
        """A well-formed postal code of another state: zip."""
        fields = {**DE, "country": country, "state": state, "zip": postal_code}
        before = shop.state()
        assert_fails(alice.submit("AddressCreate", form(fields)), err("zip", "zip"))
        assert shop.state() == before

    @pytest.mark.parametrize("country", ["US", "CA", "JP"])
    def test_state_required(self, shop: Harness, alice: Client, ann: Account, country):
        """Countries with areas require the state: minlen."""
        zips = {"US": "94103", "CA": "K1A 0B1", "JP": "100-0001"}
        fields = {**DE, "country": country, "zip": zips[country]}
        before = shop.state()
        assert_fails(alice.submit("AddressCreate", form(fields)), err("state", "minlen"))
        assert shop.state() == before

    def test_unknown_state(self, shop: Harness, alice: Client, ann: Account):
        """A state that is no area of the country: sub-code country."""
        before = shop.state()
        result = alice.submit("AddressCreate", form({**US, "state": "Bavaria"}))
        assert_fails(result, err("state", "country"))
        assert shop.state() == before


# AddressUpdate ---------------------------------------------------------------------------


class TestAddressUpdate:
    def test_not_logged_in(self, shop: Harness, alice: Client, bob: Client, bens_address: str):
        """Without login or token: notLoggedIn, even for an existing id."""
        before = shop.state()
        result = alice.submit("AddressUpdate", form({"city": "Bonn"}), addressId=bens_address)
        assert_fails(result, ActionError("notLoggedIn"))
        assert shop.state() == before

    def test_expired_token(self, shop: Harness, alice: Client):
        """An expired address token: notLoggedIn."""
        account = shop.create_account("ann@example.com", PW)
        address_id = store_address(shop, account)
        alice.optin = issue_token(shop, account, lifetime=60)
        shop.clock.advance(61)
        before = shop.state()
        result = alice.submit("AddressUpdate", form({"city": "Bonn"}), addressId=address_id)
        assert_fails(result, ActionError("notLoggedIn"))
        assert shop.state() == before

    def test_wrong_purpose_token(self, shop: Harness, alice: Client):
        """A password token is no address token: notLoggedIn."""
        account = shop.create_account("ann@example.com", PW)
        address_id = store_address(shop, account)
        alice.optin = issue_token(shop, account, purpose="password")
        before = shop.state()
        result = alice.submit("AddressUpdate", form({"city": "Bonn"}), addressId=address_id)
        assert_fails(result, ActionError("notLoggedIn"))
        assert shop.state() == before

    def test_optin_token_updates_own_address(self, shop: Harness, alice: Client):
        """A valid address token without login updates the token account's address."""
        account = shop.create_account("ann@example.com", PW)
        address_id = store_address(shop, account)
        alice.optin = issue_token(shop, account)
        result = alice.submit("AddressUpdate", form({"city": "Bonn"}), addressId=address_id)
        assert result.success, result.errors
        assert shop.accounts.get_address(account.id, address_id).city == "Bonn"

    def test_optin_token_cannot_reach_other_account(
        self, shop: Harness, alice: Client, bens_address: str
    ):
        """A token of one account gives invalidAddressId for another account's address."""
        account = shop.create_account("ann@example.com", PW)
        alice.optin = issue_token(shop, account)
        assert_same_refusal_for_foreign_and_unknown(
            shop, alice, "AddressUpdate", bens_address, form({"city": "Bonn"}), "invalidAddressId"
        )

    def test_invalid_address_id(self, shop: Harness, alice: Client, ann: Account, bens_address):
        """Another account's id and a made-up id: the same invalidAddressId, nothing changes."""
        create(alice)
        assert_same_refusal_for_foreign_and_unknown(
            shop, alice, "AddressUpdate", bens_address, form({"city": "Bonn"}), "invalidAddressId"
        )

    @pytest.mark.parametrize("extra", [{}, {"addressId": ""}, {"addressId": "   "}])
    def test_missing_address_id(self, shop: Harness, alice: Client, ann: Account, extra):
        """A missing or blank addressId: invalidAddressId."""
        create(alice)
        before = shop.state()
        result = alice.submit("AddressUpdate", form({"city": "Bonn"}), **extra)
        assert_fails(result, ActionError("invalidAddressId", "addressId"))
        assert shop.state() == before

    def test_empty_address(self, shop: Harness, alice: Client, ann: Account):
        """No address.* field: emptyAddress."""
        address_id = create(alice)
        before = shop.state()
        result = alice.submit("AddressUpdate", addressId=address_id, type="delivery")
        assert_fails(result, ActionError("emptyAddress", "address."))
        assert shop.state() == before

    def test_merged_address_validated(self, shop: Harness, alice: Client, ann: Account):
        """Switching the country to US without a state: addressCheckFailed on state."""
        address_id = create(alice)
        before = shop.state()
        result = alice.submit("AddressUpdate", form({"country": "US"}), addressId=address_id)
        assert_fails(result, err("state", "minlen"))
        assert shop.state() == before

    def test_stored_zip_rechecked_for_new_country(self, shop: Harness, alice: Client, ann: Account):
        """Switching a German address to GB reports the stored zip, which is not submitted."""
        address_id = create(alice)
        before = shop.state()
        result = alice.submit("AddressUpdate", form({"country": "GB"}), addressId=address_id)
        assert_fails(result, err("zip", "zip"))
        assert shop.state() == before

    def test_every_failing_field_reported(self, shop: Harness, alice: Client, ann: Account):
        """Several bad fields in one update are all reported, each once."""
        address_id = create(alice)
        before = shop.state()
        result = alice.submit(
            "AddressUpdate",
            form({"firstName": "4ever", "lastName": "", "zip": "X!", "country": "ZZ"}),
            addressId=address_id,
        )
        assert_fails(
            result,
            err("firstName", "numeric"),
            err("lastName", "minlen"),
            err("zip", "zip"),
            err("country", "country"),
        )
        assert shop.state() == before

    def test_country_not_configured(self):
        """Updating to a country outside Settings' list: sub-code country."""
        shop = Harness(address_rules=AddressRules(countries={"DE"}))
        alice = shop.client()
        account_logged_in(shop, alice, "ann@example.com")
        address_id = create(alice)
        before = shop.state()
        result = alice.submit("AddressUpdate", form({"country": "AT"}), addressId=address_id)
        assert_fails(result, err("country", "country"))
        assert shop.state() == before

    def test_invalid_type(self, shop: Harness, alice: Client, ann: Account):
        """A type other than bill or delivery: invalidType."""
        address_id = create(alice)
        before = shop.state()
        result = alice.submit(
            "AddressUpdate", form({"city": "Bonn"}), addressId=address_id, type="home"
        )
        assert_fails(result, ActionError("invalidType", "type"))
        assert shop.state() == before

    def test_field_not_editable(self, shop: Harness, alice: Client):
        """A member whose group may edit only address.city: fieldNotEditable for other fields."""
        member = b2b_member(shop, alice, {"address.city"})
        address_id = store_address(shop, member)
        before = shop.state()
        result = alice.submit(
            "AddressUpdate", form({"city": "Bonn", "firstName": "Eva"}), addressId=address_id
        )
        assert_fails(result, ActionError("fieldNotEditable", "address.firstName"))
        assert shop.state() == before
        assert alice.submit("AddressUpdate", form({"city": "Bonn"}), addressId=address_id).success
        assert shop.accounts.get_address(member.id, address_id).city == "Bonn"

    def test_session_locked(self, shop: Harness, alice: Client, ann: Account):
        """A locked session: sessionLocked."""
        address_id = create(alice)
        alice.session.lock()
        before = shop.state()
        result = alice.submit("AddressUpdate", form({"city": "Bonn"}), addressId=address_id)
        assert_fails(result, ActionError("sessionLocked"))
        assert shop.state() == before

    def test_fields_merged(self, shop: Harness, alice: Client, ann: Account):
        """Submitted fields replace stored ones; the others stay; the type stays by default."""
        address_id = create(alice)
        result = alice.submit(
            "AddressUpdate", form({"city": " Bonn ", "zip": "53111"}), addressId=address_id
        )
        assert result.success, result.errors
        address = shop.accounts.get_address(ann.id, address_id)
        assert dict(address.fields) == {**DE, "city": "Bonn", "zip": "53111"}
        assert address.type == "bill"

    def test_switch_country_with_all_needed_fields(
        self, shop: Harness, alice: Client, ann: Account
    ):
        """Switching to US with state and zip succeeds and normalises the state."""
        address_id = create(alice)
        result = alice.submit(
            "AddressUpdate",
            form({"country": "us", "state": "New York", "zip": "10001"}),
            addressId=address_id,
        )
        assert result.success, result.errors
        address = shop.accounts.get_address(ann.id, address_id)
        assert (address.country, address.state, address.zip) == ("US", "NY", "10001")

    def test_type_changed_roles_kept(self, shop: Harness, alice: Client, ann: Account):
        """Changing the type changes only the type; roles are not touched."""
        address_id = create(alice)
        result = alice.submit(
            "AddressUpdate", form({"city": "Bonn"}), addressId=address_id, type="delivery"
        )
        assert result.success, result.errors
        assert shop.accounts.get_address(ann.id, address_id).type == "delivery"
        assert roles(shop, ann) == (address_id, address_id, None)

    def test_only_target_address_changes(
        self, shop: Harness, alice: Client, ann: Account, bens_address: str
    ):
        """An update changes that one address and nothing else."""
        first, second = create(alice, DE), create(alice, GB)
        before = shop.state()
        assert alice.submit("AddressUpdate", form({"city": "Bonn"}), addressId=first).success
        after = shop.state()
        changed = before["addresses"][ann.id][first]
        before["addresses"][ann.id][first] = attrs.evolve(
            changed, fields={**changed.fields, "city": "Bonn"}
        )
        assert after == before
        assert after["addresses"][ann.id][second].city == "London"

    def test_unknown_field_refused_and_not_stored(self, shop: Harness, alice: Client, ann: Account):
        """An unconfigured field is refused and not stored."""
        address_id = create(alice)
        before = shop.state()
        result = alice.submit("AddressUpdate", form({"nickname": "Home"}), addressId=address_id)
        assert_fails(result, err("nickname", "maxlen"))
        assert shop.state() == before

    def test_extra_field_accepted(self):
        """A configured extra field can be added by an update."""
        shop = Harness(address_rules=AddressRules(extra_fields={"floor"}))
        alice = shop.client()
        account = account_logged_in(shop, alice, "ann@example.com")
        address_id = create(alice)
        assert alice.submit("AddressUpdate", form({"floor": "2"}), addressId=address_id).success
        assert shop.accounts.get_address(account.id, address_id).floor == "2"


# AddressDelete ---------------------------------------------------------------------------


class TestAddressDelete:
    def test_not_logged_in(self, shop: Harness, alice: Client, bens_address: str):
        """Without login or token: notLoggedIn, nothing deleted."""
        before = shop.state()
        assert_fails(
            alice.submit("AddressDelete", addressId=bens_address), ActionError("notLoggedIn")
        )
        assert shop.state() == before

    @pytest.mark.parametrize(("purpose", "age"), [("address", 3601), ("delete", 0)])
    def test_expired_or_wrong_purpose_token(self, shop: Harness, alice: Client, purpose, age):
        """An expired address token or a token of another purpose: notLoggedIn."""
        account = shop.create_account("ann@example.com", PW)
        address_id = store_address(shop, account)
        alice.optin = issue_token(shop, account, purpose=purpose, lifetime=3600)
        shop.clock.advance(age)
        before = shop.state()
        result = alice.submit("AddressDelete", addressId=address_id)
        assert_fails(result, ActionError("notLoggedIn"))
        assert shop.state() == before

    def test_optin_token_deletes(self, shop: Harness, alice: Client):
        """A valid address token without login deletes the token account's address."""
        account = shop.create_account("ann@example.com", PW)
        address_id = store_address(shop, account)
        alice.optin = issue_token(shop, account)
        assert alice.submit("AddressDelete", addressId=address_id).success
        assert shop.accounts.list_addresses(account.id) == []

    def test_invalid_address_id(self, shop: Harness, alice: Client, ann: Account, bens_address):
        """Another account's id and a made-up id: the same invalidAddressId, nothing changes."""
        create(alice)
        assert_same_refusal_for_foreign_and_unknown(
            shop, alice, "AddressDelete", bens_address, {}, "invalidAddressId"
        )

    @pytest.mark.parametrize("extra", [{}, {"addressId": ""}])
    def test_missing_address_id(self, shop: Harness, alice: Client, ann: Account, extra):
        """A missing or empty addressId: invalidAddressId."""
        create(alice)
        before = shop.state()
        assert_fails(
            alice.submit("AddressDelete", **extra), ActionError("invalidAddressId", "addressId")
        )
        assert shop.state() == before

    def test_deleted_id_is_invalid(self, shop: Harness, alice: Client, ann: Account):
        """Deleting the same address twice: the second time invalidAddressId."""
        address_id = create(alice)
        assert alice.submit("AddressDelete", addressId=address_id).success
        before = shop.state()
        assert_fails(
            alice.submit("AddressDelete", addressId=address_id),
            ActionError("invalidAddressId", "addressId"),
        )
        assert shop.state() == before

    def test_field_not_editable(self, shop: Harness, alice: Client):
        """A member whose group may not edit addresses: fieldNotEditable."""
        member = b2b_member(shop, alice, {"displayName"})
        address_id = store_address(shop, member)
        before = shop.state()
        assert_fails(
            alice.submit("AddressDelete", addressId=address_id),
            ActionError("fieldNotEditable", "address."),
        )
        assert shop.state() == before

    def test_member_with_address_family_may_delete(self, shop: Harness, alice: Client):
        """A member whose group lists the address family may delete."""
        member = b2b_member(shop, alice, {"address"})
        address_id = store_address(shop, member)
        assert alice.submit("AddressDelete", addressId=address_id).success
        assert shop.accounts.list_addresses(member.id) == []

    def test_session_locked(self, shop: Harness, alice: Client, ann: Account):
        """A locked session: sessionLocked."""
        address_id = create(alice)
        alice.session.lock()
        before = shop.state()
        assert_fails(
            alice.submit("AddressDelete", addressId=address_id), ActionError("sessionLocked")
        )
        assert shop.state() == before

    def test_delete_clears_every_role_it_held(self, shop: Harness, alice: Client, ann: Account):
        """Deleting the address holding all three roles clears them all; nothing is promoted."""
        first = create(alice, DE)
        other = create(alice, GB, type="delivery")
        assert alice.submit("SetDefaultDeliveryAddress", addressId=first).success
        assert roles(shop, ann) == (first, first, first)
        assert alice.submit("AddressDelete", addressId=first).success
        assert roles(shop, ann) == (None, None, None)
        assert [a.id for a in shop.accounts.list_addresses(ann.id)] == [other]

    def test_delete_clears_only_its_roles(self, shop: Harness, alice: Client, ann: Account):
        """Deleting the default delivery address leaves main and billing roles alone."""
        first = create(alice, DE)
        delivery = create(alice, GB, type="delivery")
        assert alice.submit("AddressDelete", addressId=delivery).success
        assert roles(shop, ann) == (first, first, None)

    def test_delete_address_without_role(
        self, shop: Harness, alice: Client, ann: Account, bens_address: str
    ):
        """Deleting an address without a role removes just that address."""
        first = create(alice, DE)
        spare = create(alice, GB)
        before = shop.state()
        assert alice.submit("AddressDelete", addressId=spare).success
        del before["addresses"][ann.id][spare]
        assert shop.state() == before
        assert roles(shop, ann) == (first, first, None)


# role setters ------------------------------------------------------------------------------


class _RoleSetter:
    """Shared tests of SetMainAddress, SetDefaultBillAddress and SetDefaultDeliveryAddress."""

    action: ClassVar[str]
    role: ClassVar[str]

    def test_not_logged_in(self, shop: Harness, alice: Client, bens_address: str):
        """Without login: notLoggedIn."""
        before = shop.state()
        assert_fails(alice.submit(self.action, addressId=bens_address), ActionError("notLoggedIn"))
        assert shop.state() == before

    def test_address_token_is_not_a_login(self, shop: Harness, alice: Client):
        """Role setters need a login; a valid address token is not enough."""
        account = shop.create_account("ann@example.com", PW)
        address_id = store_address(shop, account)
        alice.optin = issue_token(shop, account)
        before = shop.state()
        assert_fails(alice.submit(self.action, addressId=address_id), ActionError("notLoggedIn"))
        assert shop.state() == before

    @pytest.mark.parametrize("extra", [{}, {"addressId": ""}, {"addressId": " \t "}])
    def test_missing_address_id(self, shop: Harness, alice: Client, ann: Account, extra):
        """A missing, empty or blank addressId: missingAddressId."""
        create(alice)
        before = shop.state()
        assert_fails(
            alice.submit(self.action, **extra), ActionError("missingAddressId", "addressId")
        )
        assert shop.state() == before

    def test_invalid_address_id(self, shop: Harness, alice: Client, ann: Account, bens_address):
        """Another account's id and a made-up id: the same invalidAddressId, nothing changes."""
        create(alice)
        assert_same_refusal_for_foreign_and_unknown(
            shop, alice, self.action, bens_address, {}, "invalidAddressId"
        )

    def test_session_locked(self, shop: Harness, alice: Client, ann: Account):
        """A locked session: sessionLocked."""
        create(alice)
        spare = create(alice, GB)
        alice.session.lock()
        before = shop.state()
        assert_fails(alice.submit(self.action, addressId=spare), ActionError("sessionLocked"))
        assert shop.state() == before

    @pytest.mark.parametrize("kind", ["bill", "delivery"])
    def test_sets_only_its_role(
        self, shop: Harness, alice: Client, ann: Account, bens_address: str, kind: str
    ):
        """The role points to the chosen address (of any type); nothing else changes."""
        create(alice, DE)
        create(alice, US, type="delivery")
        chosen = create(alice, GB, type=kind)
        before = shop.state()
        assert alice.submit(self.action, addressId=chosen).success
        account = before["accounts"][ann.id]
        before["accounts"][ann.id] = attrs.evolve(account, **{self.role: chosen})
        assert shop.state() == before

    def test_sets_role_after_it_was_removed(self, shop: Harness, alice: Client, ann: Account):
        """A role cleared by deleting its address can be given to another address."""
        first = create(alice, DE)
        second = create(alice, GB, type="delivery")
        assert alice.submit(self.action, addressId=first).success
        assert alice.submit("AddressDelete", addressId=first).success
        assert getattr(stored(shop, ann), self.role) is None
        assert alice.submit(self.action, addressId=second).success
        assert getattr(stored(shop, ann), self.role) == second


class TestSetMainAddress(_RoleSetter):
    action = "SetMainAddress"
    role = "main_address_id"


class TestSetDefaultBillAddress(_RoleSetter):
    action = "SetDefaultBillAddress"
    role = "default_bill_address_id"


class TestSetDefaultDeliveryAddress(_RoleSetter):
    action = "SetDefaultDeliveryAddress"
    role = "default_delivery_address_id"


# role removers ----------------------------------------------------------------------------


class _RoleRemover:
    """Shared tests of RemoveDefaultBillAddress and RemoveDefaultDeliveryAddress."""

    action: ClassVar[str]
    role: ClassVar[str]

    def test_not_logged_in(self, shop: Harness, alice: Client, bens_address: str):
        """Without login: notLoggedIn, nothing changes."""
        before = shop.state()
        assert_fails(alice.submit(self.action), ActionError("notLoggedIn"))
        assert shop.state() == before

    def test_address_token_is_not_a_login(self, shop: Harness, alice: Client):
        """Role removers need a login; a valid address token is not enough."""
        account = shop.create_account("ann@example.com", PW)
        address_id = store_address(shop, account)
        shop.accounts.update_account(account.id, {self.role: address_id})
        alice.optin = issue_token(shop, account)
        before = shop.state()
        assert_fails(alice.submit(self.action), ActionError("notLoggedIn"))
        assert shop.state() == before

    def test_session_locked(self, shop: Harness, alice: Client, ann: Account):
        """A locked session: sessionLocked, the role stays."""
        create(alice, DE)
        create(alice, GB, type="delivery")
        alice.session.lock()
        before = shop.state()
        assert_fails(alice.submit(self.action), ActionError("sessionLocked"))
        assert shop.state() == before

    def test_removes_only_its_role(
        self, shop: Harness, alice: Client, ann: Account, bens_address: str
    ):
        """The role is cleared; the address and every other role stay."""
        create(alice, DE)
        create(alice, GB, type="delivery")
        assert all(roles(shop, ann))
        before = shop.state()
        assert alice.submit(self.action).success
        account = before["accounts"][ann.id]
        before["accounts"][ann.id] = attrs.evolve(account, **{self.role: None})
        assert shop.state() == before

    def test_without_role_succeeds_and_changes_nothing(
        self, shop: Harness, alice: Client, ann: Account
    ):
        """With no such role set it succeeds and changes nothing."""
        before = shop.state()
        assert alice.submit(self.action).success
        assert shop.state() == before

    def test_other_account_untouched(
        self, shop: Harness, alice: Client, bob: Client, ann: Account, bens_address: str
    ):
        """Removing one's own default never touches another account's."""
        assert bob.submit("SetDefaultDeliveryAddress", addressId=bens_address).success
        before = shop.state()
        assert alice.submit(self.action).success
        assert shop.state() == before


class TestRemoveDefaultBillAddress(_RoleRemover):
    action = "RemoveDefaultBillAddress"
    role = "default_bill_address_id"


class TestRemoveDefaultDeliveryAddress(_RoleRemover):
    action = "RemoveDefaultDeliveryAddress"
    role = "default_delivery_address_id"

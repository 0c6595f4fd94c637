"""Tests for wsactions.addressing: per-country address validation."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wsactions._result import ActionError
from wsactions.addressing import (
    DEFAULT_COUNTRIES,
    STANDARD_FIELDS,
    SUBCODES,
    AddressRules,
    validate_address,
)

RULES = AddressRules()

DE = {
    "firstName": "Erika",
    "lastName": "Mustermann",
    "street": "Heidestraße",
    "houseNumber": "17",
    "zip": "51147",
    "city": "Köln",
    "country": "DE",
}
US = {
    "firstName": "Ann",
    "lastName": "O'Neil",
    "street": "Market St",
    "houseNumber": "1355",
    "zip": "94103",
    "city": "San Francisco",
    "state": "CA",
    "country": "US",
    "phone": "+1 (415) 555-0100",
}


def err(field: str, sub: str) -> ActionError:
    """The error validate_address reports for *field* with sub-code *sub*."""
    return ActionError("addressCheckFailed", field=f"address.{field}", subcodes=(sub,))


def subcodes(errors: list[ActionError]) -> dict[str | None, str]:
    """Map each error's field to its single sub-code."""
    return {e.field: e.subcodes[0] for e in errors}


def test_valid_address_passes_and_is_returned():
    """A complete German address passes unchanged."""
    assert validate_address(DE, RULES) == (DE, [])


def test_valid_us_address_passes():
    """A complete US address with state and phone passes."""
    assert validate_address(US, RULES) == (US, [])


@pytest.mark.parametrize(
    ("country", "postal_code"),
    [
        ("DE", "10115"),
        ("AT", "1010"),
        ("CH", "8001"),
        ("FR", "75008"),
        ("NL", "1012 AB"),
        ("NL", "1012AB"),
        ("GB", "SW1A 1AA"),
        ("GB", "M2 5BQ"),
        ("US", "94103"),
        ("US", "94103-1234"),
        ("CA", "K1A 0B1"),
        ("JP", "100-0001"),
        ("JP", "1000001"),
    ],
)
def test_valid_postal_codes(country, postal_code):
    """Postal codes in the country's format are accepted."""
    cleaned, errors = validate_address(
        {"country": country, "zip": postal_code}, RULES, partial=True
    )
    assert errors == []
    assert cleaned["zip"] == postal_code


@pytest.mark.parametrize(
    ("country", "postal_code"),
    [
        ("DE", "1011"),
        ("DE", "101155"),
        ("AT", "10100"),
        ("CH", "80011"),
        ("FR", "7500"),
        ("NL", "ABCD 12"),
        ("NL", "0123 AB"),
        ("GB", "12345"),
        ("GB", "SW1A 1AA X"),
        ("US", "9410"),
        ("US", "94103-12"),
        ("CA", "12345"),
        ("JP", "1000-001"),
    ],
)
def test_invalid_postal_codes(country, postal_code):
    """Postal codes not in the country's format give sub-code zip."""
    cleaned, errors = validate_address(
        {"country": country, "zip": postal_code}, RULES, partial=True
    )
    assert errors == [err("zip", "zip")]
    assert "zip" not in cleaned


@pytest.mark.parametrize(
    ("country", "given", "stored"),
    [
        ("GB", "sw1a 1aa", "SW1A 1AA"),
        ("GB", "  sw1a   1aa ", "SW1A 1AA"),
        ("NL", "1012ab", "1012AB"),
        ("CH", "ch-8001", "8001"),
        ("JP", "１００－０００１", "100-0001"),
    ],
)
def test_postal_code_normalisation(country, given, stored):
    """Postal codes are upper-cased, NFKC-normalised and lose the postal prefix."""
    cleaned, errors = validate_address({"country": country, "zip": given}, RULES, partial=True)
    assert errors == []
    assert cleaned["zip"] == stored


@pytest.mark.parametrize(
    ("country", "state", "postal_code", "ok"),
    [
        ("US", "CA", "94103", True),
        ("US", "NY", "94103", False),
        ("US", "NY", "10001", True),
        ("CA", "ON", "K1A 0B1", True),
        ("CA", "BC", "K1A 0B1", False),
        ("JP", "Tokyo", "100-0001", True),
        ("JP", "Hokkaido", "100-0001", False),
    ],
)
def test_postal_code_must_fit_the_state(country, state, postal_code, ok):
    """A postal code must also match the prefix of the given state."""
    fields = {"country": country, "state": state, "zip": postal_code}
    _, errors = validate_address(fields, RULES, partial=True)
    assert errors == ([] if ok else [err("zip", "zip")])


def test_country_without_postal_codes_accepts_empty_zip():
    """Hong Kong has no postal codes, so the library-level zip requirement is waived."""
    rules = AddressRules(countries={"HK"})
    fields = {**DE, "country": "HK", "zip": "", "state": "Kowloon"}
    cleaned, errors = validate_address(fields, rules)
    assert errors == []
    assert cleaned["zip"] == ""


def test_required_state_for_us():
    """The US requires a state, on top of the library-level required fields."""
    fields = {**US, "state": ""}
    assert validate_address(fields, RULES)[1] == [err("state", "minlen")]
    del fields["state"]
    assert validate_address(fields, RULES)[1] == [err("state", "minlen")]


def test_japan_requires_prefecture():
    """Japan requires the prefecture (state)."""
    fields = {**DE, "country": "JP", "zip": "100-0001"}
    assert validate_address(fields, RULES)[1] == [err("state", "minlen")]


@pytest.mark.parametrize(
    ("country", "given", "stored"),
    [
        ("US", "California", "CA"),
        ("US", "ca", "CA"),
        ("CA", "Québec", "QC"),
        ("CA", "quebec", "QC"),
        ("JP", "tokyo", "東京都"),
        ("JP", "東京都", "東京都"),
    ],
)
def test_state_normalised_to_code(country, given, stored):
    """A state given by code or name (any case) is stored as its code."""
    cleaned, errors = validate_address({"country": country, "state": given}, RULES, partial=True)
    assert errors == []
    assert cleaned["state"] == stored


def test_unknown_state_gives_country():
    """A state that is not an area of the country gives sub-code country."""
    assert validate_address({**US, "state": "Bavaria"}, RULES)[1] == [err("state", "country")]


def test_state_is_free_text_without_area_list():
    """Countries without an area list accept any bounded state text."""
    cleaned, errors = validate_address({**DE, "state": "Bayern"}, RULES)
    assert errors == []
    assert cleaned["state"] == "Bayern"


@pytest.mark.parametrize("country", ["de", " De "])
def test_country_normalised_to_upper_case(country):
    """The country code is trimmed and upper-cased."""
    cleaned, errors = validate_address({**DE, "country": country}, RULES)
    assert errors == []
    assert cleaned["country"] == "DE"


@pytest.mark.parametrize("country", ["BR", "XX", "UK", "ZZ", "DEU", "Germany", "ﬁ", "D"])
def test_country_not_configured_or_unknown(country):
    """A country not in rules.countries (or not a country at all) gives sub-code country."""
    cleaned, errors = validate_address({**DE, "country": country}, RULES)
    assert errors == [err("country", "country")]
    assert "country" not in cleaned


def test_default_country_is_used_when_missing():
    """default_country fills a missing or empty country."""
    rules = AddressRules(default_country="de")
    for fields in ({**DE, "country": ""}, {k: v for k, v in DE.items() if k != "country"}):
        cleaned, errors = validate_address(fields, rules)
        assert errors == []
        assert cleaned["country"] == "DE"


def test_default_country_not_applied_to_partial_updates():
    """A partial update without base does not get default_country."""
    rules = AddressRules(default_country="DE")
    assert validate_address({"city": "Bonn"}, rules, partial=True) == ({"city": "Bonn"}, [])


def test_each_subcode_is_produced():
    """minlen, maxlen, numeric, country and zip are all produced, one per field."""
    fields = {
        "firstName": "",
        "lastName": "x" * 101,
        "street": "Main\x00St",
        "houseNumber": "abc",
        "zip": "9410",
        "city": "Springfield",
        "country": "US",
        "state": "Atlantis",
    }
    cleaned, errors = validate_address(fields, RULES)
    assert errors == [
        err("firstName", "minlen"),
        err("lastName", "maxlen"),
        err("street", "numeric"),
        err("houseNumber", "numeric"),
        err("zip", "zip"),
        err("state", "country"),
    ]
    assert cleaned == {"city": "Springfield", "country": "US"}


def test_every_failing_field_reported_at_once():
    """An empty submission reports every required field in one go."""
    cleaned, errors = validate_address({}, RULES)
    assert cleaned == {}
    assert errors == [
        err(name, "minlen")
        for name in ("firstName", "lastName", "street", "zip", "city", "country")
    ]


def test_country_error_reported_with_other_errors():
    """An unconfigured country is reported together with the other failing fields."""
    _, errors = validate_address({**DE, "country": "BR", "city": "", "phone": "x"}, RULES)
    assert subcodes(errors) == {
        "address.city": "minlen",
        "address.country": "country",
        "address.phone": "numeric",
    }


@pytest.mark.parametrize("name", ["nickname", "address.city", "", "FIRSTNAME", "zip "])
def test_unknown_field_refused(name):
    """Unknown field names are refused (sub-code maxlen) and never returned."""
    cleaned, errors = validate_address({**DE, name: "x"}, RULES)
    assert errors == [err(name, "maxlen")]
    assert name not in cleaned


def test_extra_field_accepted():
    """Host-configured extra fields are accepted and can be required."""
    rules = AddressRules(extra_fields={"vatId"}, required_fields={"vatId", "country"})
    assert validate_address({**DE, "vatId": " DE123 "}, rules) == ({**DE, "vatId": "DE123"}, [])
    assert validate_address(DE, rules)[1] == [err("vatId", "minlen")]


def test_surrounding_whitespace_trimmed_only():
    """Fields are trimmed; inner whitespace is kept."""
    cleaned, errors = validate_address({**DE, "street": "  Unter  den Linden "}, RULES)
    assert errors == []
    assert cleaned["street"] == "Unter  den Linden"


@pytest.mark.parametrize(
    "bad", ["\x00", "\n", "\t", "\x1b", "\x7f", "\x85", "\ud800", chr(0xDFFF), "\u2028", "\u202e"]
)
def test_invalid_characters_give_numeric(bad):
    """Control characters, lone surrogates and bidi overrides give sub-code numeric."""
    for field in ("street", "company", "city"):
        _, errors = validate_address({**DE, field: f"Ab{bad}c"}, RULES)
        assert errors == [err(field, "numeric")]
    _, errors = validate_address({**DE, "street": f"Street{bad}"}, RULES)
    assert errors == [err("street", "numeric")]


def test_maxlen_and_override():
    """max_length bounds every field; max_lengths overrides it per field."""
    rules = AddressRules(max_length=20, max_lengths={"houseNumber": 3})
    assert validate_address({**DE, "city": "K" * 20}, rules)[1] == []
    assert validate_address({**DE, "city": "K" * 21}, rules)[1] == [err("city", "maxlen")]
    assert validate_address({**DE, "houseNumber": "12a"}, rules)[1] == []
    assert validate_address({**DE, "houseNumber": "12-14"}, rules)[1] == [
        err("houseNumber", "maxlen")
    ]


@pytest.mark.parametrize(
    "name", ["José-María", "O’Brien", "Zoë", "李", "Nguyễn Văn An", "J. R. R.", "Ørsted", "ब्रह्म"]
)
def test_real_names_accepted(name):
    """Names of any script with spaces, apostrophes, hyphens and dots pass."""
    assert validate_address({**DE, "firstName": name, "lastName": name}, RULES)[1] == []


@pytest.mark.parametrize("name", ["R2D2", "Ann3", "<b>", "Ann@x", "...", "--"])
def test_bad_names_give_numeric(name):
    """Digits, symbols or no letter at all in a name give sub-code numeric."""
    assert validate_address({**DE, "lastName": name}, RULES)[1] == [err("lastName", "numeric")]


@pytest.mark.parametrize(
    ("city", "ok"),
    [
        ("Frankfurt (Oder)", True),
        ("Dublin 2", True),
        ("Saint-Étienne", True),
        ("St. Gallen", True),
        ("12345", False),
        ("Köln!", False),
    ],
)
def test_city(city, ok):
    """Cities may contain digits and parentheses but need a letter."""
    assert validate_address({**DE, "city": city}, RULES)[1] == (
        [] if ok else [err("city", "numeric")]
    )


@pytest.mark.parametrize(
    ("number", "ok"),
    [
        ("12", True),
        ("12a", True),
        ("12 a", True),
        ("12-14", True),
        ("12 - 14", True),
        ("3/1", True),
        ("12 bis", True),
        ("1-2-3", True),
        ("１２", True),
        ("abc", False),
        ("s/n", False),
        ("#12", False),
        ("12--14", False),
        ("12_a", False),
    ],
)
def test_house_number(number, ok):
    """House numbers need a digit and may carry letter suffixes and ranges."""
    expected = [] if ok else [err("houseNumber", "numeric")]
    assert validate_address({**DE, "houseNumber": number}, RULES)[1] == expected


@pytest.mark.parametrize(
    ("phone", "ok"),
    [
        ("+49 30 1234567", True),
        ("(030) 123-45.67", True),
        ("030/12345", True),
        ("+81 ３-1234-5678", True),
        ("1234", False),
        ("+49 30 CALL-NOW", False),
        ("030 1234567 ext 5", False),
        ("+49#301234567", False),
    ],
)
def test_phone(phone, ok):
    """Phones allow digits, spaces and + ( ) - / . and need five digits."""
    expected = [] if ok else [err("phone", "numeric")]
    assert validate_address({**DE, "phone": phone}, RULES)[1] == expected


def test_partial_validates_only_given_fields():
    """Without base, partial=True does not require absent fields."""
    assert validate_address({"zip": "10115", "country": "DE"}, RULES, partial=True)[1] == []
    assert validate_address({"city": ""}, RULES, partial=True)[1] == [err("city", "minlen")]


def test_partial_without_country_checks_zip_generically():
    """Without a country, a partial zip is only checked for letters, digits, space, hyphen."""
    assert validate_address({"zip": "1011"}, RULES, partial=True)[1] == []
    assert validate_address({"zip": "10 11!"}, RULES, partial=True)[1] == [err("zip", "zip")]


def test_partial_with_base_uses_effective_country():
    """With base, a submitted zip is checked against the stored country."""
    cleaned, errors = validate_address({"zip": "1011"}, RULES, partial=True, base=DE)
    assert errors == [err("zip", "zip")]
    cleaned, errors = validate_address({"zip": " 10115 "}, RULES, partial=True, base=DE)
    assert errors == []
    assert cleaned == {**DE, "zip": "10115"}


def test_partial_with_base_reports_all_failing_fields():
    """Switching the stored address to the US reports the missing state and bad zip."""
    _, errors = validate_address({"country": "us"}, RULES, partial=True, base=DE)
    assert errors == [err("state", "minlen")]
    _, errors = validate_address({"country": "US", "state": "NY"}, RULES, partial=True, base=DE)
    assert errors == [err("zip", "zip")]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"countries": []}, "must not be empty"),
        ({"countries": "DE"}, "not the string"),
        ({"countries": {"DE", "XX"}}, "XX"),
        ({"countries": {"ZZ"}}, "ZZ"),
        ({"extra_fields": {"city"}}, "city"),
        ({"extra_fields": {"vat-id"}}, "vat-id"),
        ({"required_fields": {"nickname"}}, "nickname"),
        ({"max_length": 0}, "positive"),
        ({"max_lengths": {"city": 0}}, "positive"),
        ({"max_lengths": {"nickname": 5}}, "nickname"),
        ({"default_country": "BR"}, "BR"),
    ],
)
def test_rules_validated_on_construction(kwargs, message):
    """Bad settings raise ValueError with a message naming the problem."""
    with pytest.raises(ValueError, match=message):
        AddressRules(**kwargs)


def test_rules_defaults():
    """Default rules cover the EU and the countries tested here, lower-case accepted."""
    assert {"DE", "AT", "CH", "FR", "NL", "GB", "US", "CA", "JP"} <= DEFAULT_COUNTRIES
    assert AddressRules(countries=["de", "fr"]).countries == {"DE", "FR"}
    assert hash(AddressRules()) == hash(AddressRules())


FIELD_NAMES = st.one_of(st.sampled_from(STANDARD_FIELDS), st.text(max_size=12))
ANY_TEXT = st.text(st.characters(exclude_categories=()), max_size=120)
VALUES = st.one_of(
    ANY_TEXT,
    st.sampled_from(["", "DE", "us", "JP", "CA", "12a", "10115", "Tokyo", "+49 30 1234567"]),
)
ADDRESSES = st.dictionaries(FIELD_NAMES, VALUES, max_size=14)


def check_result(cleaned: dict[str, str], errors: list[ActionError]) -> None:
    """Assert the invariants every validate_address result keeps."""
    fields = [e.field for e in errors]
    assert len(fields) == len(set(fields))
    for e in errors:
        assert e.code == "addressCheckFailed"
        assert e.field is not None
        assert e.field.startswith("address.")
        assert len(e.subcodes) == 1
        assert e.subcodes[0] in SUBCODES
        assert e.field.removeprefix("address.") not in cleaned
    for name, value in cleaned.items():
        assert name in STANDARD_FIELDS
        assert value == value.strip()
        assert len(value) <= RULES.max_length


@given(ADDRESSES, st.booleans())
def test_arbitrary_input_never_raises(fields, partial):
    """Arbitrary text never raises and yields only documented errors."""
    check_result(*validate_address(fields, RULES, partial=partial))


@given(ADDRESSES, ADDRESSES)
def test_arbitrary_partial_update_never_raises(fields, base):
    """Arbitrary updates over arbitrary stored addresses never raise."""
    check_result(*validate_address(fields, RULES, partial=True, base=base))


@given(
    st.sampled_from([DE, US]),
    st.dictionaries(st.sampled_from(STANDARD_FIELDS), VALUES, max_size=4),
)
def test_cleaned_address_revalidates_unchanged(address, changes):
    """A cleaned, error-free address passes again unchanged (normalisation is idempotent)."""
    cleaned, errors = validate_address({**address, **changes}, RULES)
    if not errors:
        assert validate_address(cleaned, RULES) == (cleaned, [])

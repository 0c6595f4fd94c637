"""M46 breached-password screening: every path that sets a password refuses a breached one;
the online check sends only a 5-character hash prefix with padding, against a local fake of
the Pwned Passwords range API; best effort or strict is the shop's choice."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from helpers import PW, account_logged_in, assert_fails
from wsactions import ActionError
from wsactions.errors import ConfigurationError
from wsactions.models import GuestCheckout
from wsactions.security.breached import HashList, PwnedPasswordsRange, sha1_hex
from wsactions.settings import Settings
from wsactions.testing import Harness

BREACHED = "correct horse battery staple 99"  # meets the policy, and is "breached" here
CLEAN = PW


def sha1(text: str) -> str:
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest().upper()


class FakeRange:
    """A local Pwned Passwords range API: knows BREACHED, pads every answer, logs requests."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.broken = False
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                fake.requests.append((self.path, dict(self.headers.items())))
                if fake.broken:
                    self.send_response(503)
                    self.end_headers()
                    return
                prefix = self.path.rsplit("/", 1)[-1]
                lines = [f"{sha1(str(i))[5:]}:0" for i in range(50)]  # padding
                known = sha1_hex(BREACHED)
                if known.startswith(prefix):
                    lines.append(f"{known[5:]}:12345")
                body = "\r\n".join(lines).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/range/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def service() -> Iterator[FakeRange]:
    fake = FakeRange()
    yield fake
    fake.close()


def shop_with(checker: Any) -> Harness:
    return Harness(breached_passwords=checker)


BREACHED_ERROR = ActionError("passwordCheckFailed", "password", ("breached",))


def test_m46_only_a_five_character_prefix_is_sent_with_padding(service: FakeRange) -> None:
    """The request names the first 5 hex characters of the SHA-1 of the NFKC password and
    asks for padding; neither the password nor the rest of its hash leaves the shop."""
    checker = PwnedPasswordsRange(url=service.url)
    assert checker.check(BREACHED) == "breached"
    assert checker.check(CLEAN) == "not-found"
    (first, headers), (second, _) = service.requests
    digest = sha1_hex(BREACHED)
    assert first == f"/range/{digest[:5]}"
    assert second == f"/range/{sha1_hex(CLEAN)[:5]}"
    assert headers["Add-Padding"] == "true"
    for path, sent in service.requests:
        assert digest[5:] not in path + repr(sent)
        assert "staple" not in path + repr(sent)


def test_m46_padding_entries_are_not_breaches(service: FakeRange) -> None:
    """An entry with count 0 is padding: a password whose suffix it happens to be is clean."""
    checker = PwnedPasswordsRange(url=service.url)
    assert checker.check("0") == "not-found"  # sha1("0")'s suffix is in every answer, count 0


def test_m46_nfkc_form_is_what_is_checked() -> None:
    """The hash is of the NFKC form, as the password is hashed: a full-width copy matches."""
    listed = HashList([sha1_hex("Ｐassword-Lang-Genug-123")])
    assert listed.check("Password-Lang-Genug-123") == "breached"


@pytest.mark.parametrize("path", ["AccountRegister", "ResetPassword", "GuestRegister"])
def test_m46_every_path_that_sets_a_password_refuses_a_breached_one(
    service: FakeRange, path: str
) -> None:
    """Registration, a password change and a guest's conversion answer
    passwordCheckFailed/breached and change nothing; a clean password still passes."""
    shop = shop_with(PwnedPasswordsRange(url=service.url))
    client = shop.client()

    def submit(password: str) -> Any:
        if path == "AccountRegister":
            email = "new@example.com"
            return client.submit(path, email=email, password=password, passwordRepeat=password)
        if path == "ResetPassword":
            return client.submit(
                path, newPassword=password, newPasswordRepeat=password, passwordAuth=PW
            )
        client.session.set_guest_checkout(GuestCheckout(email="gina@example.com"))
        return client.submit(
            path, guestMail="gina@example.com", password=password, passwordRepeat=password
        )

    if path == "ResetPassword":
        account_logged_in(shop, client, "ann@example.com")
    field = "newPassword" if path == "ResetPassword" else "password"
    before = shop.state()
    assert_fails(submit(BREACHED), ActionError("passwordCheckFailed", field, ("breached",)))
    assert shop.state() == before
    assert submit(CLEAN).success


def test_m46_best_effort_lets_a_password_through_when_the_service_fails(
    service: FakeRange,
) -> None:
    """mode="best-effort" (the default): an unreachable service does not stop a customer."""
    service.broken = True
    shop = shop_with(PwnedPasswordsRange(url=service.url))
    client = shop.client()
    result = client.submit(
        "AccountRegister", email="a@example.com", password=BREACHED, passwordRepeat=BREACHED
    )
    assert result.success


def test_m46_strict_refuses_when_the_service_fails(service: FakeRange) -> None:
    """mode="strict": a password that could not be checked is refused, and nothing changes."""
    service.broken = True
    shop = shop_with(PwnedPasswordsRange(url=service.url, mode="strict"))
    client = shop.client()
    before = shop.state()
    result = client.submit(
        "AccountRegister", email="a@example.com", password=CLEAN, passwordRepeat=CLEAN
    )
    assert_fails(
        result, ActionError("passwordCheckFailed", "password", ("breachCheckUnavailable",))
    )
    assert shop.state() == before


def test_m46_strict_refuses_when_the_service_does_not_answer_in_time() -> None:
    """A service that accepts the connection but never answers costs at most the timeout."""
    import socket

    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/range/"
        checker = PwnedPasswordsRange(url=url, timeout=0.2, mode="strict")
        assert checker.check(CLEAN) == "unknown"


def test_m46_live_strength_check_tells_breached(service: FakeRange) -> None:
    """CheckPasswordStrength screens a password that meets the policy: breached → not
    accepted; clean → accepted; screening off → no "breached" at all."""
    shop = shop_with(PwnedPasswordsRange(url=service.url))
    client = shop.client()
    found = client.submit("CheckPasswordStrength", password=BREACHED).data
    assert found["breached"] is True
    assert found["accepted"] is False
    clean = client.submit("CheckPasswordStrength", password=CLEAN).data
    assert (clean["breached"], clean["accepted"]) == (False, True)
    weak = client.submit("CheckPasswordStrength", password="abc").data
    assert (weak["breached"], weak["accepted"]) == (None, False)
    off = Harness().client().submit("CheckPasswordStrength", password=BREACHED).data
    assert set(off) == {"value", "max", "accepted"}
    assert off["accepted"] is True


def test_m46_a_prefix_is_asked_once_a_while(service: FakeRange) -> None:
    """Answers are kept by prefix: a live meter does not turn the shop into a relay."""
    checker = PwnedPasswordsRange(url=service.url)
    for _ in range(5):
        assert checker.check(BREACHED) == "breached"
    assert len(service.requests) == 1


def test_m46_offline_hash_list(tmp_path: Any) -> None:
    """HashList reads the downloadable files' lines (HASH:count), any case; junk skipped."""
    listed = tmp_path / "pwned.txt"
    listed.write_text(f"{sha1_hex(BREACHED).lower()}:3\nnot a hash\n\n{sha1('x')}\n")
    checker = HashList.from_file(listed)
    assert len(checker) == 2
    shop = shop_with(checker)
    client = shop.client()
    before = shop.state()
    result = client.submit(
        "AccountRegister", email="a@example.com", password=BREACHED, passwordRepeat=BREACHED
    )
    assert_fails(result, BREACHED_ERROR)
    assert shop.state() == before


@pytest.mark.parametrize("value", [object(), "https://api.pwnedpasswords.com", 42])
def test_m46_settings_refuse_what_is_not_a_checker(value: Any) -> None:
    with pytest.raises(ConfigurationError, match="breached_passwords"):
        Settings(secret_key="k" * 40, breached_passwords=value)


@pytest.mark.parametrize(
    "options",
    [{"mode": "sometimes"}, {"url": "http://api.example/range/"}, {"timeout": 0}],
)
def test_m46_range_checker_refuses_unsafe_options(options: dict[str, Any]) -> None:
    """Only https (or this machine), a bounded timeout, and one of the two modes."""
    with pytest.raises(ValueError, match=r"mode|https|timeout"):
        PwnedPasswordsRange(**options)

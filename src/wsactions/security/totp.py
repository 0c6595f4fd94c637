"""TOTP second factors (RFC 6238: 30 s steps, 6 digits, SHA-1, at most one step of drift)
and recovery codes, on well-kept libraries: ``pyotp`` for the codes, ``segno`` for the QR
code, ``cryptography`` (Fernet) for the secret at rest.

* The secret is stored encrypted (M43) under a key derived from the shop's secret key
  with HKDF-SHA256; ``secret_key_fallbacks`` still decrypt (and the next write uses the
  current key), so the secret key can be rotated without customers enrolling again.
* A code is accepted at most once: the step it matched is stored, and a code of that step
  or an earlier one is refused (M42).
* Recovery codes: 10 of 12 base32 characters (60 random bits each), shown once, stored as
  SHA-256 hashes bound to the account; each works once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Iterable

import pyotp
import segno
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = [
    "RECOVERY_CODES",
    "SecretBox",
    "hash_recovery_code",
    "matching_step",
    "new_recovery_codes",
    "new_secret",
    "provisioning_uri",
    "qr_svg",
]

#: Recovery codes made at a time.
RECOVERY_CODES = 10
#: Seconds per step, digits per code (RFC 6238's defaults, what authenticator apps use).
STEP = 30
DIGITS = 6
_RECOVERY_LENGTH = 12
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: easy to type from paper


def _key(secret_key: str | bytes) -> bytes:
    raw = secret_key.encode() if isinstance(secret_key, str) else secret_key
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"wsactions second factor"
    ).derive(raw)
    return base64.urlsafe_b64encode(derived)


class SecretBox:
    """Encrypts second-factor secrets under the shop's secret key (and decrypts with its
    fallbacks, for a key rotation)."""

    def __init__(self, secret_key: str | bytes, fallbacks: Iterable[str | bytes] = ()) -> None:
        self._fernet = MultiFernet([Fernet(_key(k)) for k in (secret_key, *fallbacks)])

    def seal(self, secret: str) -> str:
        """*secret* encrypted (a Fernet token, text)."""
        return self._fernet.encrypt(secret.encode()).decode()

    def open(self, sealed: str) -> str | None:
        """The secret in *sealed*, or ``None`` when no key of the shop opens it."""
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except (InvalidToken, ValueError):
            return None


def new_secret() -> str:
    """A new random base32 secret (160 bits, as RFC 4226 recommends)."""
    return pyotp.random_base32(length=32)


def provisioning_uri(secret: str, account_name: str, issuer: str) -> str:
    """The ``otpauth://totp/...`` URI an authenticator app reads (from the QR code)."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP).provisioning_uri(
        name=account_name, issuer_name=issuer or None
    )


def qr_svg(uri: str) -> str:
    """The QR code of *uri* as an inline SVG document (no XML declaration)."""
    return str(segno.make(uri, error="m").svg_inline(scale=4, omitsize=False))


def matching_step(secret: str, code: str, now: float, last_step: int) -> int | None:
    """The time step whose code *code* is (now, one before or one after), if it is later
    than *last_step*; else ``None`` (wrong, too old, or used already)."""
    code = "".join(code.split())
    if len(code) != DIGITS or not code.isascii() or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP)
    current = int(now) // STEP
    found = None
    for step in (current - 1, current, current + 1):  # every candidate compared: no early exit
        if hmac.compare_digest(totp.at(step * STEP), code) and step > last_step:
            found = step
    return found


def new_recovery_codes() -> list[str]:
    """:data:`RECOVERY_CODES` new codes, formatted ``XXXX-XXXX-XXXX``."""
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_ALPHABET) for _ in range(_RECOVERY_LENGTH))
        codes.append("-".join(raw[i : i + 4] for i in range(0, _RECOVERY_LENGTH, 4)))
    return codes


def normalize_recovery_code(code: str) -> str:
    """What a typed recovery code is compared as: upper case, no spaces or dashes."""
    return "".join(c for c in code.upper() if c.isalnum())


def hash_recovery_code(account_id: str, code: str) -> str:
    """The stored form of a recovery code of *account_id* (SHA-256, hex)."""
    data = f"{account_id}\x00{normalize_recovery_code(code)}".encode()
    return hashlib.sha256(data).hexdigest()

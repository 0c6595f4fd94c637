"""A software authenticator for tests: makes the WebAuthn credentials a browser would post
(``PublicKeyCredential.toJSON()``), with an ECDSA P-256 key, "none" attestation and a sign
counter it controls. What it builds is checked by the ``webauthn`` package in the engine."""

from __future__ import annotations

import base64
import hashlib
import json
import os
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from webauthn.helpers import encode_cbor


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SoftKey:
    """One passkey on a software authenticator."""

    def __init__(self, *, counter: int = 0, user_verified: bool = True) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.raw_id = os.urandom(16)
        self.id = b64(self.raw_id)
        self.counter = counter
        self.user_verified = user_verified
        self.user_handle = b""

    def _public_key(self) -> bytes:
        numbers = self.key.public_key().public_numbers()
        cose = {
            1: 2,
            3: -7,
            -1: 1,
            -2: numbers.x.to_bytes(32, "big"),
            -3: numbers.y.to_bytes(32, "big"),
        }
        return bytes(encode_cbor(cose))

    def _flags(self, attested: bool) -> int:
        flags = 0x01 | (0x04 if self.user_verified else 0)  # user present, verified
        return flags | (0x40 if attested else 0)

    @staticmethod
    def _client_data(kind: str, options: dict[str, Any], origin: str) -> bytes:
        data = {"type": kind, "challenge": options["challenge"], "origin": origin}
        return json.dumps(data, separators=(",", ":")).encode()

    def create(self, options_json: str, origin: str, *, rp_id: str | None = None) -> str:
        """The registration credential (JSON) answering *options_json*."""
        options = json.loads(options_json)
        rp_id = rp_id or options["rp"]["id"]
        self.user_handle = unb64(options["user"]["id"])
        client_data = self._client_data("webauthn.create", options, origin)
        auth_data = (
            hashlib.sha256(rp_id.encode()).digest()
            + bytes([self._flags(attested=True)])
            + self.counter.to_bytes(4, "big")
            + bytes(16)  # AAGUID
            + len(self.raw_id).to_bytes(2, "big")
            + self.raw_id
            + self._public_key()
        )
        attestation = encode_cbor({"fmt": "none", "attStmt": {}, "authData": auth_data})
        credential = {
            "id": self.id,
            "rawId": self.id,
            "type": "public-key",
            "response": {
                "clientDataJSON": b64(client_data),
                "attestationObject": b64(bytes(attestation)),
                "transports": ["internal"],
            },
            "clientExtensionResults": {},
            "authenticatorAttachment": "platform",
        }
        return json.dumps(credential)

    def get(
        self,
        options_json: str,
        origin: str,
        *,
        rp_id: str | None = None,
        counter: int | None = None,
    ) -> str:
        """The authentication credential (JSON) answering *options_json*; the counter goes
        up by one unless *counter* sets it."""
        options = json.loads(options_json)
        rp_id = rp_id or options["rpId"]
        self.counter = self.counter + 1 if counter is None else counter
        client_data = self._client_data("webauthn.get", options, origin)
        auth_data = (
            hashlib.sha256(rp_id.encode()).digest()
            + bytes([self._flags(attested=False)])
            + self.counter.to_bytes(4, "big")
        )
        signature = self.key.sign(
            auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256())
        )
        credential = {
            "id": self.id,
            "rawId": self.id,
            "type": "public-key",
            "response": {
                "clientDataJSON": b64(client_data),
                "authenticatorData": b64(auth_data),
                "signature": b64(signature),
                "userHandle": b64(self.user_handle),
            },
            "clientExtensionResults": {},
            "authenticatorAttachment": "platform",
        }
        return json.dumps(credential)

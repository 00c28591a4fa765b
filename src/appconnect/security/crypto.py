"""Encryption at rest.

Two schemes live here:

* :class:`SecretBox` (ours): AES-256-GCM with a random nonce and a key derived from
  ``APP_SERVER_SECRET_KEY`` by HKDF. CRM access/refresh tokens and API keys in the ``users`` table
  are stored this way, and so are the secret-named keys of ``platformAdditionalInfo`` (an API-key
  login's auth-page fields land there, ``apiKey`` included; see ``store.users``). Values carry a
  ``gcm1:`` prefix, so rows written by a reference deployment (plain text) are still read as they
  are and get encrypted on their next save.
* :func:`encrypt_field` / :func:`decrypt_field`: the reference's per-field envelope for managed
  auth values (AES-256-CBC, zero IV, hex), kept byte-compatible so a reference database can be
  adopted. Its fixed IV leaks equality of values; we only use it where compatibility demands it.
"""

from __future__ import annotations

import base64
import json
import os
from typing import Any

import orjson
from cryptography.hazmat.primitives import hashes, padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from appconnect.jsvalues import js_stringify

_PREFIX = "gcm1:"


class DecryptionError(ValueError):
    """A stored secret could not be decrypted (wrong key or tampered data)."""


class SecretBox:
    """Authenticated encryption of short strings."""

    __slots__ = ("_aead",)

    def __init__(self, secret: str) -> None:
        key = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=b"appconnect", info=b"at-rest v1"
        ).derive(secret.encode("utf-8"))
        self._aead = AESGCM(key)

    def encrypt(self, plain: str | None) -> str | None:
        if plain is None or plain == "":
            return plain
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, plain.encode("utf-8"), None)
        return _PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")

    def decrypt(self, stored: str | None) -> str | None:
        if stored is None or not stored.startswith(_PREFIX):
            return stored  # legacy plain text, or empty
        raw = base64.urlsafe_b64decode(stored[len(_PREFIX) :].encode("ascii"))
        try:
            return self._aead.decrypt(raw[:12], raw[12:], None).decode("utf-8")
        except Exception as exc:  # cryptography raises InvalidTag
            raise DecryptionError("stored secret could not be decrypted") from exc

    def encrypt_value(self, value: Any) -> Any:
        """Any JSON value, sealed as a string (its type comes back with :meth:`decrypt_value`)."""
        if value is None:
            return None
        return self.encrypt(orjson.dumps(value).decode("utf-8"))

    def decrypt_value(self, stored: Any) -> Any:
        """The value :meth:`encrypt_value` sealed; anything else (legacy plain text) as it is."""
        if not isinstance(stored, str) or not stored.startswith(_PREFIX):
            return stored
        return orjson.loads(self.decrypt(stored) or "null")

    @staticmethod
    def is_encrypted(stored: str | None) -> bool:
        return bool(stored) and str(stored).startswith(_PREFIX)


def _reference_cipher(secret: str) -> Cipher[modes.CBC]:
    if not secret:
        raise ValueError("APP_SERVER_SECRET_KEY is not defined")
    key = secret.ljust(32)[:32].encode("utf-8")
    return Cipher(algorithms.AES(key), modes.CBC(b"\x00" * 16))


def reference_encrypt(plain_json: str, secret: str) -> str:
    padder = padding.PKCS7(128).padder()
    data = padder.update(plain_json.encode("utf-8")) + padder.finalize()
    enc = _reference_cipher(secret).encryptor()
    return (enc.update(data) + enc.finalize()).hex()


def reference_decrypt(hex_value: str, secret: str) -> str:
    dec = _reference_cipher(secret).decryptor()
    data = dec.update(bytes.fromhex(hex_value)) + dec.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    return (unpadder.update(data) + unpadder.finalize()).decode("utf-8")


def encrypt_field(value: Any, secret: str) -> dict[str, Any]:
    """The reference's stored form of one managed value."""
    plain = js_stringify(value) or "null"  # JSON.stringify, as the reference stores it
    return {"version": 1, "encrypted": True, "value": reference_encrypt(plain, secret)}


def decrypt_field(stored: Any, secret: str) -> Any:
    """Read a managed value; values that are not envelopes are legacy plain text."""
    if isinstance(stored, dict) and stored.get("encrypted") and stored.get("value"):
        return json.loads(reference_decrypt(str(stored["value"]), secret))
    return stored

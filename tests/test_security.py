"""Hashing, session tokens and encryption at rest, against the reference's vectors."""

from __future__ import annotations

import time

import jwt
import pytest

from appconnect.security import (
    MISSING,
    SecretBox,
    SessionSigner,
    decrypt_field,
    encrypt_field,
    hash_id,
)
from appconnect.security.crypto import DecryptionError, reference_encrypt


def test_hash_vectors_from_the_reference() -> None:
    assert hash_id("12345", "my-hash-key") == (
        "c3f860dae7686b372fcf7e820afe8429ae2ed8f9fde7eb0ca0b6e745ad66698d"
    )
    assert hash_id(MISSING, "my-hash-key") == (
        "2353f39baf73d861fb280750962a14abf031d477f8821fe787eb89d2b3d43265"
    )
    # numbers render as JavaScript would, so a numeric id hashes like its string
    assert hash_id(12345, "my-hash-key") == hash_id("12345", "my-hash-key")
    assert hash_id(None, "k") != hash_id(MISSING, "k")  # "null" vs "undefined"


def test_session_round_trip_and_claims() -> None:
    signer = SessionSigner("secret")
    token = signer.issue(42, "demo", now=1_000_000)
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "HS256"
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims == {
        "id": "42",
        "platform": "demo",
        "iat": 1_000_000,
        "exp": 1_000_000 + 1_209_600,
    }


def test_tampered_wrong_key_expired_and_none_tokens_are_refused() -> None:
    signer = SessionSigner("secret")
    token = signer.issue("u1", "demo")
    assert signer.verify(token) is not None
    head, _body, sig = token.split(".")
    forged_body = jwt.encode({"id": "admin", "platform": "demo"}, "x").split(".")[1]
    assert signer.verify(f"{head}.{forged_body}.{sig}") is None
    assert SessionSigner("other").verify(token) is None
    expired = jwt.encode({"id": "u1", "exp": int(time.time()) - 1}, "secret", algorithm="HS256")
    assert signer.verify(expired) is None
    unsigned = jwt.encode({"id": "u1"}, None, algorithm="none")
    assert signer.verify(unsigned) is None
    assert signer.verify("not-a-token") is None


def test_tokens_without_exp_are_refused() -> None:
    """The reference accepts a token without ``exp`` forever; we refuse it (SECURITY.md)."""
    signer = SessionSigner("secret")
    legacy = jwt.encode({"id": "u1", "platform": "demo"}, "secret", algorithm="HS512")
    assert signer.verify(legacy) is None
    not_a_number = jwt.encode({"id": "u1", "exp": "never"}, "secret", algorithm="HS256")
    assert signer.verify(not_a_number) is None
    assert signer.verify(signer.issue("u1", "demo")) is not None


def test_the_generation_claim_is_carried_only_when_given() -> None:
    signer = SessionSigner("secret")
    assert "sg" not in (signer.verify(signer.issue("u1", "demo")) or {})
    claims = signer.verify(signer.issue("u1", "demo", generation="g-2"))
    assert claims is not None and claims["sg"] == "g-2"


def test_rotation_window_is_seven_days() -> None:
    now = 2_000_000
    assert SessionSigner.needs_rotation({"exp": now + 7 * 86400}, now=now)
    assert not SessionSigner.needs_rotation({"exp": now + 7 * 86400 + 1}, now=now)


def test_reference_field_encryption_vector() -> None:
    assert reference_encrypt('"tenant-123"', "short-secret") == "4e2cd1e57c8b2c874116f10aecd1714b"
    stored = encrypt_field("tenant-123", "short-secret")
    assert stored == {"version": 1, "encrypted": True, "value": "4e2cd1e57c8b2c874116f10aecd1714b"}
    assert decrypt_field(stored, "short-secret") == "tenant-123"
    assert decrypt_field("legacy-plain", "short-secret") == "legacy-plain"


def test_secret_box_is_authenticated_and_reads_legacy_plaintext() -> None:
    box = SecretBox("secret")
    sealed = box.encrypt("crm-token")
    assert sealed is not None and sealed.startswith("gcm1:") and "crm-token" not in sealed
    assert box.encrypt("crm-token") != sealed  # random nonce
    assert box.decrypt(sealed) == "crm-token"
    assert box.decrypt("plain-from-reference") == "plain-from-reference"
    assert box.encrypt(None) is None and box.encrypt("") == ""
    with pytest.raises(DecryptionError):
        SecretBox("another").decrypt(sealed)


def test_cached_verification_still_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    signer = SessionSigner("secret")
    now = time.time()
    token = jwt.encode({"id": "u1", "exp": int(now) + 60}, "secret", algorithm="HS256")
    assert signer.verify(token) is not None
    assert signer.verify(token) is not None  # served from the cache
    monkeypatch.setattr(time, "time", lambda: now + 120)
    assert signer.verify(token) is None  # the cache re-checks exp
    assert token not in signer._cache


def test_not_before_is_honoured() -> None:
    signer = SessionSigner("secret")
    early = jwt.encode({"id": "u1", "nbf": int(time.time()) + 3600}, "secret", algorithm="HS256")
    assert signer.verify(early) is None


def test_verification_cache_is_bounded_and_returns_copies() -> None:
    signer = SessionSigner("secret", cache_size=2)
    tokens = [signer.issue(f"u{i}", "demo") for i in range(3)]
    for token in tokens:
        assert signer.verify(token) is not None
    assert len(signer._cache) == 2
    claims = signer.verify(tokens[2])
    assert claims is not None
    claims["id"] = "mutated"
    assert signer.verify(tokens[2])["id"] == "u2"  # type: ignore[index]

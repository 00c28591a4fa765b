"""Sessions, id hashing and encryption at rest."""

from appconnect.security.crypto import SecretBox, decrypt_field, encrypt_field
from appconnect.security.hashing import MISSING, hash_id
from appconnect.security.sessions import SessionSigner

__all__ = ["MISSING", "SecretBox", "SessionSigner", "decrypt_field", "encrypt_field", "hash_id"]

"""Keys for one purpose each, derived from a root key (HKDF-SHA256, RFC 5869): a secret that serves one job (sealing
the backup keys, naming a seal) never is, nor reveals, the vault's key."""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def subkey(root: bytes, purpose: bytes) -> bytes:
    """32 bytes for ``purpose`` (a label naming the use and its version) from ``root``."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(root)

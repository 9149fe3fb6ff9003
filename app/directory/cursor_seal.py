"""Cursors as a client sees them (RFC 9865, decision 0048): sealed, carrying nothing a proxy or a log can read.

A cursor says where a walk resumes: the last row's sort value (a userName, a displayName, an e-mail address:
personal data), its id, a fingerprint of the query and when it was issued (app/directory/query.py). A cursor
travels in the URL of the next request, which every proxy and access log on the way records; base64 hid nothing.
It is now encrypted and authenticated (AES-256-GCM) under a key this process draws when it starts and never
writes anywhere: a proxy sees random bytes, padded so that their length says little about the value either,
and a client can neither read a cursor nor make or alter one (it fails the tag: invalidCursor).

The key lives as long as the process: after a restart a cursor issued before is refused as invalidCursor and the
walk starts again, which RFC 9865 allows a server to do. Preferred to a cursor holding only the row's number:
resuming after a row deleted or re-sorted since would have lost the walk's place, where the sealed (value, id)
pair keeps it exactly, with ties and concurrent inserts, as before.
"""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_NONCE_BYTES = 12  # GCM's standard nonce, random per cursor: 2^32 cursors per key stay far within its bounds
_PAD_TO = 64  # the sealed text is a multiple of this: the cursor's length does not give the value's length
_AEAD = AESGCM(AESGCM.generate_key(bit_length=256))
_LABEL = b"custos scim cursor v1"  # bound into the tag: nothing else sealed under this key reads as a cursor


class UnreadableCursor(ValueError):
    """Not a cursor this process sealed, or altered since."""


def seal(payload: bytes) -> str:
    """``payload`` (JSON text) encrypted and authenticated, as URL-safe base64 without padding."""
    padded = payload + b" " * (-len(payload) % _PAD_TO)  # JSON allows trailing blanks
    nonce = os.urandom(_NONCE_BYTES)
    sealed = nonce + _AEAD.encrypt(nonce, padded, _LABEL)
    return base64.urlsafe_b64encode(sealed).decode().rstrip("=")


def unseal(token: str) -> bytes:
    """The payload :func:`seal` put in ``token``; :class:`UnreadableCursor` for anything else."""
    try:
        sealed = base64.urlsafe_b64decode(token.encode("ascii") + b"=" * (-len(token) % 4))
        return _AEAD.decrypt(sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:], _LABEL)
    except (InvalidTag, ValueError) as exc:  # ValueError: not ASCII, not base64, or too short for a nonce
        raise UnreadableCursor from exc

"""A resource's stored JSON, deflated with a preset dictionary of SCIM's own words (decision 0033).

A user's document is mostly names the schema fixes — ``"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"]``,
``"emails":[{"value":`` … — and a few values repeated inside it. Raw DEFLATE primed with those names stores the
load generator's 377-byte user in about 120 bytes; the scim_resources table was the largest part of the vault.

The stored form is one format byte, then the deflated text. Byte 1 means: raw DEFLATE (no zlib header or checksum:
SQLCipher authenticates every page with an HMAC already), a 4 KiB window (``wbits=-12``), the dictionary
:data:`DICTIONARY_1` below. Those three never change for byte 1 — a row written today must inflate in every later
version; a better dictionary is byte 2. A 4 KiB window and ``memLevel=4`` make a compressor cost about 6 µs to set
up and run, where zlib's defaults (32 KiB, level 9) cost 300 µs: a document is rarely over 4 KiB, and one that is
compresses a little less, nothing more.

A value read back as text (a row written before migration 0018, or by hand in a test) is returned as it is: the
JSON text always starts with ``{``, never with a format byte.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import Any

from sqlalchemy import Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

FORMAT_1 = b"\x01"
WINDOW_BITS = -12  # raw DEFLATE, 4 KiB window
MEMORY_LEVEL = 4
LEVEL = 6

# SCIM's names in the order DEFLATE prefers: the most frequent last (nearest, so the shortest distance codes).
# Never edit: rows written with format byte 1 are inflated with exactly these bytes. Add a new one for a new byte.
DICTIONARY_1 = (
    b'"x509Certificates":[{"entitlements":[{"roles":[{"photos":[{"ims":[{"addresses":[{"formatted":"'
    b'streetAddress":"locality":"region":"postalCode":"country":"'
    b'"nickName":"profileUrl":"userType":"preferredLanguage":"locale":"timezone":"'
    b'"honorificPrefix":"honorificSuffix":"middleName":"'
    b'"urn:ietf:params:scim:schemas:core:2.0:Group"],"members":[{"value":"'
    b'"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"costCenter":"'
    b'organization":"division":"department":"manager":{"value":"$ref":"displayName":"'
    b'"phoneNumbers":[{"value":"type":"mobile"},{"type":"fax","other"'
    b'"name":{"formatted":"familyName":"givenName":"'
    b'"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","'
    b'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],"userName":"externalId":"'
    b'"displayName":"title":"active":true,"active":false'
    b'"emails":[{"value":"type":"home"},{"value":"type":"work","primary":true},{"value":"'
)


def pack(text: str) -> bytes:
    """The stored form of a document's JSON text."""
    strategy = zlib.Z_DEFAULT_STRATEGY
    compressor = zlib.compressobj(LEVEL, zlib.DEFLATED, WINDOW_BITS, MEMORY_LEVEL, strategy, DICTIONARY_1)
    return FORMAT_1 + compressor.compress(text.encode()) + compressor.flush()


def unpack(stored: bytes | str) -> str:
    """The JSON text of a stored document (text is returned as it is: written before packing, or by hand)."""
    if isinstance(stored, str):
        return stored
    if stored[:1] != FORMAT_1:
        raise ValueError("a stored document has an unknown format byte")
    inflater = zlib.decompressobj(WINDOW_BITS, DICTIONARY_1)
    return (inflater.decompress(stored[1:]) + inflater.flush()).decode()


def _bound(value: Any) -> Any:
    return pack(value) if isinstance(value, str) else value


def _read(value: Any) -> Any:
    return None if value is None else unpack(value)


class PackedJson(TypeDecorator[str]):
    """A JSON text column stored packed. Declared TEXT as before (SQLite keeps a BLOB a BLOB in any column, so the
    table did not have to be rebuilt); Python sees ``str`` both ways. The processors are returned directly (Text
    has none to wrap on SQLite): one call per document read, every row of a page of 100."""

    impl = Text
    cache_ok = True

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any]:
        return _bound

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], Any]:
        return _read

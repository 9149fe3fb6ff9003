"""Every page of a SQLCipher 4 file decrypted, free pages and WAL frames included: what a thief holding the key
and the raw file (or its WAL) could read. SQL cannot reach free pages; this can.

SQLCipher 4 page layout: AES-256-CBC over the page minus its reserve; the reserve (80 bytes) holds the 16-byte IV
then the HMAC-SHA512. Page 1 starts with the 16-byte salt, outside the ciphertext.
"""

from __future__ import annotations

import zlib
from pathlib import Path

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from app.store.packed_json import DICTIONARY_1, FORMAT_1, WINDOW_BITS

PAGE_SIZE = 4096
RESERVE = 80
SALT = 16
WAL_HEADER = 32
WAL_FRAME_HEADER = 24


def _decrypt_page(key: bytes, page: bytes, first: bool) -> bytes:
    start = SALT if first else 0
    iv = page[PAGE_SIZE - RESERVE : PAGE_SIZE - RESERVE + 16]
    decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    return decryptor.update(page[start : PAGE_SIZE - RESERVE]) + decryptor.finalize()


def database_plaintext(path: Path, key: bytes) -> bytes:
    data = path.read_bytes()
    pages = [data[i : i + PAGE_SIZE] for i in range(0, len(data) - PAGE_SIZE + 1, PAGE_SIZE)]
    return b"".join(_decrypt_page(key, page, index == 0) for index, page in enumerate(pages))


def wal_plaintext(path: Path, key: bytes) -> bytes:
    if not path.exists():
        return b""
    data = path.read_bytes()
    frame = WAL_FRAME_HEADER + PAGE_SIZE
    out = []
    for offset in range(WAL_HEADER, len(data) - frame + 1, frame):
        page_number = int.from_bytes(data[offset : offset + 4], "big")
        out.append(_decrypt_page(key, data[offset + WAL_FRAME_HEADER : offset + frame], page_number == 1))
    return b"".join(out)


def packed_documents(data: bytes) -> bytes:
    """Every packed document (app/store/packed_json.py) that starts anywhere in ``data``, inflated: a resource's JSON
    is stored deflated, so a leftover of it — in a live row, a free page, a WAL frame — is not its text. Each offset
    holding the format byte is tried; what inflates with the dictionary is kept (a false start yields noise, which
    only makes the search for a needle stricter)."""
    found: list[bytes] = []
    offset = data.find(FORMAT_1)
    while offset != -1:
        inflater = zlib.decompressobj(WINDOW_BITS, DICTIONARY_1)
        try:
            text = inflater.decompress(data[offset + 1 : offset + 1 + 65536], 65536)
        except zlib.error:
            text = b""
        if len(text) >= 2:
            found.append(text)
        offset = data.find(FORMAT_1, offset + 1)
    return b"\n".join(found)

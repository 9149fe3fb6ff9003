"""Packed documents (decision 0033): what is packed inflates to the same text, a row packed today inflates in every
later version, text written before packing reads as it was, and an unknown format is refused, not guessed."""

from __future__ import annotations

import json

import pytest

from app.store.packed_json import pack, unpack
from tests.conftest import new_user

# Packed by format byte 1 when it was introduced: if this no longer inflates to TEXT, the dictionary, the window or
# the format changed under byte 1, and every vault's documents would no longer read. Make a new format byte instead.
TEXT = (
    '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"bj@example.com","name":{"givenName":'
    '"Björn"},"emails":[{"value":"bj@example.com","type":"work","primary":true}],"active":true}'
)
PACKED_BY_FORMAT_1 = bytes.fromhex(
    "01ab26335050fd9594e5905a91084c38a97ac9f9b940fb60f1821cfc4e5987b715e5011d89cd1b1826e0737fac0e4a28d50200"
)


def test_a_document_packed_with_format_1_still_inflates_to_its_text() -> None:
    assert unpack(PACKED_BY_FORMAT_1) == TEXT


@pytest.mark.parametrize(
    "text",
    [
        TEXT,
        json.dumps(new_user("ünïcode@example.org", displayName="Zoë 🦊 \u2028")),
        json.dumps({"schemas": [], "description": "x" * 20_000}),  # beyond the 4 KiB window
        json.dumps(new_user("a@example.org", title="".join(chr(0x4E00 + i) for i in range(3000)))),  # incompressible
        "{}",
    ],
)
def test_packing_keeps_the_text_exactly(text: str) -> None:
    packed = pack(text)
    assert packed[:1] == b"\x01" and unpack(packed) == text


def test_the_bench_user_is_stored_in_a_third_of_its_json() -> None:
    text = json.dumps(new_user("user-000005@example.com", title="Engineer"), separators=(",", ":"))
    assert len(pack(text)) < len(text) / 2.5


def test_text_stored_before_packing_reads_as_it_is_and_an_unknown_format_is_refused() -> None:
    assert unpack('{"userName":"x"}') == '{"userName":"x"}'
    with pytest.raises(ValueError, match="unknown format byte"):
        unpack(b"\x02" + PACKED_BY_FORMAT_1[1:])

"""Subjects only as keyed pseudonyms, private detail only as ciphertext, and crypto-shredding on erasure."""

from __future__ import annotations

import hashlib
import random
import zipfile
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as crypto_hmac
from sqlalchemy import text

from app.audit.bundle import export_bundle, verify_bundle
from app.audit.pseudonyms import (
    SealedDetailBroken,
    decrypt_private,
    pseudonym_for,
    public_details,
    shred_subject,
)
from app.audit.trail import Event, StoredEvent, append, of_kind, read
from app.audit.verify import verify_trail
from app.store import engine as store_engine
from app.store.vault import Vault
from tests.audit.conftest import random_trail, scan_bundle, table_dump

ERASED_ID = "7b3c2d9e-1f4a-4c8b-9e2d-5a6b7c8d9e0f"
ERASED_MAIL = "wilhelmina.erased@example.org"
KEPT_ID = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
AUDIT_TABLES = ("audit_events", "subject_keys", "audit_checkpoints", "signing_keys")


def hmac_sha256(key: bytes, message: str) -> str:
    mac = crypto_hmac.HMAC(key, hashes.SHA256())
    mac.update(message.encode())
    return mac.finalize().hex()


def test_subjects_are_stored_as_stable_keyed_pseudonyms(vault: Vault) -> None:
    with vault.write_transaction() as conn:
        first = append(conn, Event("scim.resource.created", "token:okta", subject=ERASED_ID))
        again = append(conn, Event("scim.request", "token:okta", subject=ERASED_ID))
        other = append(conn, Event("scim.request", "token:okta", subject=KEPT_ID))
    with vault.read_connection() as conn:
        key = conn.execute(text("SELECT pseudonym_key FROM subject_keys WHERE resource_id = :i"), {"i": ERASED_ID})
        pseudonym = hmac_sha256(key.scalar_one(), ERASED_ID)
        assert first.subject == again.subject == pseudonym == pseudonym_for(conn, ERASED_ID)
        assert other.subject != pseudonym and len(pseudonym) == 64
        assert pseudonym != hashlib.sha256(ERASED_ID.encode()).hexdigest()  # keyed, not a guessable hash
        assert pseudonym_for(conn, "never-seen") is None
        assert ERASED_ID not in table_dump(conn, ("audit_events",))


def test_private_detail_is_sealed_bound_to_its_entry_and_opened_with_the_vault(vault: Vault) -> None:
    private = {"old_email": ERASED_MAIL, "new_email": "w.e@example.org"}
    with vault.write_transaction() as conn:
        event = append(
            conn,
            Event(
                "scim.resource.updated",
                "token:okta",
                subject=ERASED_ID,
                details={"changed": ["emails"]},
                private=private,
            ),
        )
    assert set(event.details) == {"changed", "sealed"} and public_details(event.details) == {"changed": ["emails"]}
    with vault.read_connection() as conn:
        stored = next(e for e in read(conn) if e.seq == event.seq)
        assert decrypt_private(conn, stored) == private
        assert ERASED_MAIL not in table_dump(conn, ("audit_events",))
        moved = StoredEvent(**{**stored.__dict__, "seq": stored.seq - 1})  # the ciphertext copied to another entry
        with pytest.raises(SealedDetailBroken):
            decrypt_private(conn, moved)
        plain = next(e for e in read(conn) if e.kind == "vault.created")
        assert decrypt_private(conn, plain) is None


def test_what_append_refuses(vault: Vault) -> None:
    with vault.write_transaction() as conn:
        with pytest.raises(ValueError, match="reserved"):
            append(conn, Event("x.y", "operator:a", subject=KEPT_ID, details={"sealed": "forged"}))
        with pytest.raises(ValueError, match="needs a subject"):
            append(conn, Event("x.y", "operator:a", private={"email": ERASED_MAIL}))
        with pytest.raises(ValueError, match="e-mail"):
            append(conn, Event("x.y", "operator:a", details={"who": ERASED_MAIL}))


def test_after_shredding_the_trail_verifies_and_nothing_links_to_the_person(vault: Vault, tmp_path: Path) -> None:
    with vault.write_transaction() as conn:
        random_trail(conn, random.Random(3), 30)
        created = append(conn, Event("scim.resource.created", "token:okta", subject=ERASED_ID))
        sealed = append(
            conn,
            Event("scim.resource.updated", "token:okta", subject=ERASED_ID, private={"email": ERASED_MAIL}),
        )
        kept = append(conn, Event("scim.resource.updated", "token:okta", subject=KEPT_ID, private={"n": "Kept"}))
        random_trail(conn, random.Random(4), 10)
    before = export_bundle_of(vault, tmp_path / "before.zip")
    with vault.write_transaction() as conn:
        tombstone = shred_subject(conn, ERASED_ID, details={"request": "DSR-17", "ground": "Art. 17(1)(a)"})
        assert shred_subject(conn, "never-seen") is None
    store_engine.checkpoint(vault.engine)  # as the erasure command does: no copy of the keys left in the WAL

    assert tombstone is not None and tombstone.kind == "subject.shredded" and tombstone.subject == created.subject
    with vault.read_connection() as conn:
        assert conn.exec_driver_sql("PRAGMA secure_delete").scalar() == 1
        assert verify_trail(conn).ok
        assert pseudonym_for(conn, ERASED_ID) is None  # the key is gone: the pseudonym cannot be recomputed
        assert decrypt_private(conn, stored(conn, sealed.seq)) is None  # and the detail cannot be decrypted
        assert decrypt_private(conn, stored(conn, kept.seq)) == {"n": "Kept"}  # other subjects are untouched
        assert created.subject not in table_dump(conn, ("subject_keys",))
        dump = table_dump(conn, AUDIT_TABLES)
        assert [e.subject for e in of_kind(conn, "subject.shredded")] == [created.subject]
    assert ERASED_ID not in dump and ERASED_MAIL not in dump

    after = export_bundle_of(vault, tmp_path / "after.zip")
    for bundle in (before, after):
        contents = scan_bundle(bundle)
        assert ERASED_ID.encode() not in contents and ERASED_MAIL.encode() not in contents
        assert verify_bundle(bundle).ok
    with zipfile.ZipFile(after) as archive:
        assert b"subject.shredded" in archive.read("entries.jsonl")

    with vault.write_transaction() as conn:  # mentioned again later: a new, unlinkable pseudonym
        again = append(conn, Event("scim.request", "token:okta", subject=ERASED_ID))
    assert again.subject != created.subject


def stored(conn: object, seq: int) -> StoredEvent:
    return next(read(conn, start=seq, batch=1))  # type: ignore[arg-type]


def export_bundle_of(vault: Vault, path: Path) -> Path:
    with vault.write_transaction() as conn:
        export_bundle(conn, None, None, path)
    return path

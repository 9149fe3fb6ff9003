"""The no-trace test: after erasure, the raw database, -wal and -shm files, every decrypted page of them (free
pages included), and a plaintext export of the whole database hold nothing of the subject."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from app.audit.tables import SubjectKey
from app.audit.vault_lifecycle import unlock_vault
from app.directory.schema import GROUP_SCHEMA
from app.erasure.ledger import KEY_FILENAME, LEDGER_FILENAME
from app.erasure.requests import request_erasure
from app.erasure.worker import ErasureWorker
from app.store import engine as sqlcipher_engine
from app.store.engine import SINGLE_STATEMENT_READS_OPTION
from app.store.vault import Vault
from tests.conftest import PASSPHRASE, patch_body
from tests.erasure.rawpages import database_plaintext, packed_documents, wal_plaintext
from tests.erasure.stub import StubTarget
from tests.erasure.support import FakeClock, TargetSpec, add_targets, held_without_push, person, service_for

USER_NAME = "canary-7f3a@example.test"
GIVEN = "Zebulonia"
FAMILY = "Quorvantis"
TITLE = "Xylographer"


def _companions(path: Path) -> list[Path]:
    return [Path(f"{path}{suffix}") for suffix in ("", "-wal", "-shm")]


def _decrypted(path: Path) -> bytes:
    key = sqlcipher_engine.derive_raw_key(PASSPHRASE, sqlcipher_engine.read_salt(path))
    return database_plaintext(path, key) + wal_plaintext(Path(f"{path}-wal"), key)


def _plaintext_export(vault: Vault, out: Path) -> bytes:
    with vault.engine.connect() as conn:
        conn.execution_options(**{SINGLE_STATEMENT_READS_OPTION: True})
        raw = conn.connection.driver_connection
        raw.execute(f"ATTACH DATABASE '{out}' AS plain KEY ''")  # no key: a plain SQLite file
        raw.execute("SELECT sqlcipher_export('plain')")
        raw.execute("DETACH DATABASE plain")
    data = out.read_bytes()
    assert data.startswith(b"SQLite format 3\x00")  # really plaintext
    return data


def _traces(data: bytes, needles: list[str], key_bytes: list[bytes] = ()) -> list[str]:  # type: ignore[assignment]
    data += packed_documents(data)  # documents are stored deflated (decision 0033): their text is looked for too
    found = [needle for needle in needles if needle.encode() in data or needle.encode("utf-16-le") in data]
    return found + [f"key {n}" for n, key in enumerate(key_bytes) if key in data]


def test_no_trace_of_an_erased_subject(vault: Vault, data_dir: Path, tmp_path: Path, stub: StubTarget) -> None:
    ids = add_targets(vault, [TargetSpec(stub.name, stub.base_url, stub.token)])
    service = service_for(vault)
    created = service.create("User", person(USER_NAME, GIVEN, FAMILY)).body
    assert created is not None
    rid = str(created["id"])
    service.patch("User", rid, patch_body({"op": "replace", "path": "title", "value": TITLE}))
    group = {"schemas": [GROUP_SCHEMA], "displayName": "Canary team", "members": [{"value": rid}]}
    service.create("Group", group)
    service.close()
    remote_id = stub.add_user(USER_NAME)
    held_without_push(vault, rid, {ids[stub.name]: remote_id})
    needles = [USER_NAME, GIVEN, FAMILY, TITLE, rid, remote_id]
    with vault.read_connection() as conn:  # the subject's pseudonym and detail keys: shredded by the erasure
        keys = conn.execute(
            select(SubjectKey.pseudonym_key, SubjectKey.detail_key).where(SubjectKey.resource_id == rid)
        )
        key_bytes = [bytes(k) for k in keys.one()]

    # Positive control: before erasure the decrypted pages and a plaintext export do hold the subject.
    assert set(_traces(_decrypted(vault.path), needles)) >= {USER_NAME, GIVEN, FAMILY}
    assert set(_traces(_plaintext_export(vault, tmp_path / "before.db"), needles)) == set(needles)

    clock = FakeClock()
    request_erasure(vault, [rid], "art17-1b", "dpo", now=clock())
    ErasureWorker(vault, clock=clock).tick()  # the target step resolves: its ids and the link are dropped
    assert _traces(_plaintext_export(vault, tmp_path / "after.db"), needles, key_bytes) == []
    vault.close()

    for path in _companions(vault.path):  # the raw files as they lie on disk after the vault is closed
        if path.exists():
            assert _traces(path.read_bytes(), needles) == []
    assert _traces(_decrypted(vault.path), needles, key_bytes) == []  # free pages and WAL frames included
    for name in (LEDGER_FILENAME, KEY_FILENAME):
        assert _traces((data_dir / name).read_bytes(), needles) == []

    reopened = unlock_vault(data_dir, PASSPHRASE)
    try:
        assert _traces(_plaintext_export(reopened, tmp_path / "reopened.db"), needles, key_bytes) == []
    finally:
        reopened.close()

"""Signed erasure receipts: what was erased where, when, with which answers, naming the subject only by its
pseudonym. Canonical JSON (sorted keys, no spaces, UTF-8) signed with Ed25519; verifiable offline with the
public key alone (``verify_receipt``).
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Connection, select

from app.audit.checkpoints import key_id_of
from app.audit.trail import Event, append, canonical, iso_utc
from app.core.errors import ConfigError
from app.documents.private import staged_into
from app.erasure import signing, source, tombstones
from app.erasure.model import GROUNDS, TERMINAL, label
from app.erasure.steps import utc
from app.erasure.tables import ErasureExchange, ErasureRequest, ErasureStep, ErasureSubject
from app.store.vault import Vault

FORMAT = "custos-erasure-receipt/1"
_Q = ErasureRequest.__table__
_SUB = ErasureSubject.__table__
_S = ErasureStep.__table__
_X = ErasureExchange.__table__
TERMINAL_STATES = frozenset(state.value for state in TERMINAL)
NOT_RECORDED = "not recorded (closed before Custos kept closing times)"


def _time(moment: datetime | None) -> str | None:
    stamp = utc(moment)
    return None if stamp is None else iso_utc(stamp)


def build(conn: Connection, request_id: str, issued: datetime) -> dict[str, Any]:
    """The receipt's content, unsigned."""
    request = conn.execute(select(_Q).where(_Q.c.id == request_id)).first()
    if request is None:
        raise ConfigError(f"No erasure request {request_id!r}.")
    exchanges: dict[int, list[dict[str, Any]]] = {}
    step_ids = select(_S.c.id).where(_S.c.request_id == request_id)
    for x in conn.execute(select(_X).where(_X.c.step_id.in_(step_ids)).order_by(_X.c.id)):
        exchange = {"at": _time(x.at), "method": x.method, "status": x.status, "sha256": x.sha256}
        if x.note:
            exchange["note"] = x.note
        exchanges.setdefault(x.step_id, []).append(exchange)
    targets: dict[int, list[dict[str, Any]]] = {}
    for step in conn.execute(select(_S).where(_S.c.request_id == request_id).order_by(_S.c.subject_no, _S.c.id)):
        targets.setdefault(step.subject_no, []).append(_step(step, exchanges.get(step.id, [])))
    sources = source.of_request(conn, request_id)
    blocks = tombstones.of_request(conn, request_id)
    subjects = [
        {
            "pseudonym": row.pseudonym,
            "resource_type": row.resource_type,
            "local": {"rows_deleted": row.rows_deleted, "pseudonym_key_shredded": bool(row.key_shredded)},
            "targets": targets.get(row.subject_no, []),
            "source": _source(sources.get(row.subject_no)),
            "recreation": _recreation(blocks.get(row.subject_no)),
        }
        for row in conn.execute(select(_SUB).where(_SUB.c.request_id == request_id).order_by(_SUB.c.subject_no))
    ]
    return {
        "format": FORMAT,
        "request": {
            "id": request.id,
            "created": _time(request.created),
            "operator": request.operator,
            "ground": request.ground,
            "ground_text": GROUNDS.get(request.ground, request.ground),
            "reason": request.reason,
            "origin": request.origin,
            "state": request.state,
            "closed": _time(request.closed),
        },
        "policy_in_force": request.policy_stamp,
        "local_erasure": json.loads(request.local_facts),
        "subjects": subjects,
        "issued": iso_utc(issued),
    }


def _source(entry: dict[str, Any] | None) -> dict[str, Any] | None:
    """Whether the identity provider (the source) still holds the person: seen removed, blocked, or attested."""
    if entry is None:
        return None
    return {**entry, "at": _time(entry["at"])}


def _recreation(state: tombstones.TombstoneState | None) -> dict[str, Any]:
    """Whether the IdP can re-create the person: blocked by tombstones (and how often it tried), or released."""
    if state is None:
        return {"blocked": False, "reason": "no identifier to block (retention erasure, or not held in the mirror)"}
    entry: dict[str, Any] = {
        "blocked": state.released is None,
        "identifiers": list(state.fields),
        "refused_attempts": state.refused,
        "last_refused": _time(state.last_refused),
    }
    if state.released is not None:
        entry["released"] = {"at": _time(state.released), "by": state.released_by, "reason": state.release_reason}
    return entry


def _step(step: Any, exchanges: list[dict[str, Any]]) -> dict[str, Any]:
    reads = [x for x in exchanges if x["method"] == "GET" and x["status"] is not None]
    verification = None
    if reads:
        status = reads[-1]["status"]
        verification = {"read_back_status": status, "result": "absent" if status == 404 else "still served"}
    entry: dict[str, Any] = {
        "target": step.target_name,
        "recipient": step.recipient_id,
        "erase_mode": step.erase_mode,
        "state": step.state,
        "outcome": label(step.state, step.method),
        "reason": step.reason,
        "attempts": step.attempts_total,  # every attempt at the target, also those before an operator's retry
        "requested": _time(step.requested),
        "first_attempt": _time(step.first_attempt),
        "last_attempt": _time(step.last_attempt),
        "confirmed": _time(step.confirmed),
        "closed": _closed(step),
        "http_statuses": [x["status"] for x in exchanges],
        "exchanges": exchanges,
        "verification": verification,
    }
    if step.attested_by:
        entry["attestation"] = {"by": step.attested_by, "at": _time(step.attested_at), "note": step.attestation_note}
    return entry


def _closed(step: Any) -> str | None:
    """When the step closed, as recorded then; None while it is open. A step closed before closing times were
    recorded says so rather than borrowing another moment."""
    if step.state not in TERMINAL_STATES:
        return None
    return _time(step.closed_at) or NOT_RECORDED


def sign(content: dict[str, Any], signer: signing.Signer) -> dict[str, Any]:
    signature = signer.sign(canonical(content))
    return {
        **content,
        "signature": {
            "algorithm": "Ed25519",
            "key_id": signer.key_id,
            "public_key": base64.b64encode(signer.public_key).decode(),
            "value": base64.b64encode(signature).decode(),
            "signed_content": "canonical JSON (sorted keys, no spaces, UTF-8) of this document without 'signature'",
        },
    }


@dataclass(frozen=True)
class ReceiptFiles:
    json_path: Path
    pdf_path: Path
    public_key_path: Path
    json_sha256: str
    pdf_sha256: str


def issue(vault: Vault, request_id: str, now: datetime | None = None) -> dict[str, Any]:
    """Build and sign the receipt; its digest goes on the audit trail."""
    moment = now or datetime.now(UTC)
    with vault.write_transaction() as conn:
        key, checkpoint = signing.signer(conn)
        content = build(conn, request_id, moment)
        content["audit_checkpoint"] = {
            "tree_size": checkpoint.tree_size,
            "root_hash": checkpoint.root_hash,
            "fingerprint": checkpoint.fingerprint,
            "key_id": checkpoint.key_id,
        }
        receipt = sign(content, key)
        digest = hashlib.sha256(canonical(receipt)).hexdigest()
        details = {"request": request_id, "sha256": digest, "key_id": receipt["signature"]["key_id"]}
        append(conn, Event("erasure.receipt.issued", "system:erasure", details=details))
    return receipt


def export(vault: Vault, request_id: str, out_dir: Path, now: datetime | None = None) -> ReceiptFiles:
    from app.erasure.receipt_pdf import write_pdf  # fpdf2 only when a PDF is asked for

    receipt = issue(vault, request_id, now)
    stem = f"erasure-receipt-{request_id}"
    names = (f"{stem}.json", f"{stem}.pdf", f"custos-signing-key-{receipt['signature']['key_id']}.pem")
    json_bytes = json.dumps(receipt, indent=2, sort_keys=True, ensure_ascii=False).encode() + b"\n"
    public = base64.b64decode(receipt["signature"]["public_key"])
    with staged_into(out_dir) as staging:  # renamed into out_dir: a link under a receipt's name is replaced
        (staging / names[0]).write_bytes(json_bytes)
        write_pdf(receipt, staging / names[1])
        (staging / names[2]).write_bytes(
            Ed25519PublicKey.from_public_bytes(public).public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
    json_path, pdf_path, public_key_path = (out_dir / name for name in names)
    return ReceiptFiles(
        json_path,
        pdf_path,
        public_key_path,
        hashlib.sha256(json_bytes).hexdigest(),
        hashlib.sha256(pdf_path.read_bytes()).hexdigest(),
    )


# -- offline verification --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Verification:
    valid: bool
    key_id: str | None
    message: str


def load_public_key(source: bytes) -> bytes:
    """A raw 32-byte Ed25519 public key from PEM, hex or base64 text, or raw bytes."""
    text = source.strip()
    if text.startswith(b"-----BEGIN"):
        key = serialization.load_pem_public_key(text)
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("not an Ed25519 public key")
        return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    if len(text) == 32:
        return bytes(text)
    if len(text) == 64:
        return bytes.fromhex(text.decode())
    raw = base64.b64decode(text, validate=True)
    if len(raw) != 32:
        raise ValueError("not an Ed25519 public key")
    return raw


def verify(receipt: dict[str, Any], public_key: bytes | None = None) -> Verification:
    """Check the signature; with no ``public_key``, against the key the receipt carries (integrity, not origin).

    The key id the verdict names is always computed from the key the signature was checked with, never read from
    the receipt: the ``signature`` block is outside the signed content, so a receipt re-signed with another key
    could otherwise keep the genuine key's id, and an auditor comparing that id with its anchor would accept it.
    """
    signature = receipt.get("signature")
    if receipt.get("format") != FORMAT or not isinstance(signature, dict):
        return Verification(False, None, "not a Custos erasure receipt")
    key_id = str(signature.get("key_id"))
    try:
        embedded = base64.b64decode(str(signature["public_key"]), validate=True)
        if key_id_of(embedded) != key_id:
            what = f"the receipt names key {key_id} but carries key {key_id_of(embedded)}: it was re-signed or altered"
            return Verification(False, key_id_of(embedded), what)
        key = public_key if public_key is not None else embedded
        if key_id_of(key) != key_id:
            return Verification(False, key_id, "signed with another key than the one given")
        content = {name: value for name, value in receipt.items() if name != "signature"}
        Ed25519PublicKey.from_public_bytes(key).verify(base64.b64decode(str(signature["value"])), canonical(content))
    except (InvalidSignature, KeyError, ValueError):
        return Verification(False, key_id, "the signature does not match: the receipt was altered")
    origin = "the given public key" if public_key is not None else "the key named in the receipt (compare its id)"
    return Verification(True, key_id, f"signature valid, made with key {key_id}, checked against {origin}")


def verify_receipt(path: Path, public_key: bytes | None = None) -> Verification:
    try:
        receipt = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return Verification(False, None, "the file is not readable JSON")
    if not isinstance(receipt, dict):
        return Verification(False, None, "not a Custos erasure receipt")
    return verify(receipt, public_key)

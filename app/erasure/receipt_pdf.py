"""The erasure receipt as a PDF for people: the same facts as the signed JSON, which is what verifies."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from fpdf import FPDF

from app.core.paths import resources_dir
from app.core.utc import utc_text

_FONT = "DejaVu"
_LINE = 5.0
_SHORT = 110  # characters that fit one line at 7.5 pt


def _t(value: object) -> str:
    """A receipt time for people: '2030-01-07 10:00:00 UTC'. The JSON keeps the full ISO 8601 form (to the
    microsecond), which is what verifies; anything that is not a time is shown as it is."""
    if not isinstance(value, str):
        return str(value)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    return utc_text(moment, seconds=True)


def _pdf() -> FPDF:
    pdf = FPDF(format="A4")
    fonts = resources_dir() / "fonts"
    pdf.add_font(_FONT, "", str(fonts / "DejaVuSans.ttf"))
    pdf.add_font(_FONT, "B", str(fonts / "DejaVuSans-Bold.ttf"))
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.set_title("Erasure receipt")
    pdf.set_creator("Custos")
    pdf.add_page()
    return pdf


def _heading(pdf: FPDF, text: str, size: int = 12) -> None:
    pdf.set_font(_FONT, "B", size)
    pdf.cell(0, _LINE + 2, text, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(_FONT, "", 9)


def _pairs(pdf: FPDF, pairs: list[tuple[str, object]]) -> None:
    for name, value in pairs:
        if value is None or value == "":
            continue
        pdf.set_font(_FONT, "B", 9)
        pdf.cell(54, _LINE, name)
        pdf.set_font(_FONT, "", 9)
        pdf.multi_cell(0, _LINE, str(value), align="L", new_x="LMARGIN", new_y="NEXT")


NO_RECIPIENTS = (
    "none (Art. 19): no SCIM target was configured and no recipient of the policy received this person's data "
    "when the erasure was requested"
)


def _policy(stamp: str) -> list[tuple[str, object]]:
    """'v3 sha256:ab12…' as two rows: the digest alone fits its line (with the label it wrapped, two characters
    on a line of their own)."""
    version, _, digest = stamp.partition(" sha256:")
    if not digest:
        return [("Policy in force", stamp)]  # "none": no policy applied yet
    return [("Policy in force", version), ("Policy SHA-256", digest)]


def _state(request: dict[str, Any]) -> str:
    return str(request["state"]) + (f" (closed {_t(request['closed'])})" if request.get("closed") else "")


def _yes(value: object) -> str:
    return "yes" if value else "no"


def write_pdf(receipt: dict[str, Any], path: Path) -> None:
    pdf = _pdf()
    request = receipt["request"]
    _heading(pdf, f"Erasure receipt {request['id']}", 15)
    _pairs(
        pdf,
        [
            ("Legal ground", request["ground_text"]),
            ("Reason", request.get("reason")),
            ("Requested", f"{_t(request['created'])} by {request['operator']}"),
            ("Request state", _state(request)),
            *_policy(str(receipt["policy_in_force"])),
            ("Issued", _t(receipt["issued"])),
        ],
    )
    local = receipt["local_erasure"]
    storage = local.get("storage", {})
    _heading(pdf, "Local mirror")
    _pairs(
        pdf,
        [
            ("Erased at", _t(local["erased_at"]) if local.get("erased_at") else None),
            ("Storage scrubbed at", _t(local["scrubbed_at"]) if local.get("scrubbed_at") else None),
            ("Subjects", local.get("subjects")),
            ("Rows deleted", local.get("rows_deleted")),
            ("Queued pushes removed", local.get("outbox_items_deleted")),
            ("References cleared", local.get("references_cleared")),  # other users' manager
            ("Pseudonym keys shredded", local.get("keys_shredded")),
            ("secure_delete on", _yes(storage.get("secure_delete"))),
            ("WAL checkpointed", _yes(storage.get("wal_checkpointed"))),
            ("Free pages vacuumed", _yes(storage.get("vacuumed"))),
            ("WAL truncated", _yes(storage.get("wal_truncated"))),
        ],
    )
    for number, subject in enumerate(receipt["subjects"], 1):
        _heading(pdf, f"Subject {number}", 10)
        # In full: it is how the audit trail names this person, and what an auditor searches the trail for.
        _pairs(pdf, [("Pseudonym on the trail", subject["pseudonym"])])
        for target in subject["targets"]:
            _target(pdf, target)
        if not subject["targets"]:  # every target gets a step (skipped if it never held the person): none is a fact
            _pairs(pdf, [("Targets and recipients", NO_RECIPIENTS)])
        _source_and_recreation(pdf, subject)
    _heading(pdf, "Signature")
    signature = receipt["signature"]
    checkpoint = receipt.get("audit_checkpoint") or {}
    anchor = None
    if checkpoint:
        anchor = (
            f"tree size {checkpoint['tree_size']}, fingerprint {checkpoint['fingerprint']}, "
            f"root {checkpoint['root_hash']}"
        )
    _pairs(
        pdf,
        [
            ("Audit checkpoint", anchor),
            ("Algorithm", signature["algorithm"]),
            ("Key id", signature["key_id"]),
            ("Public key (base64)", signature["public_key"]),
            ("Signature (base64)", signature["value"]),
            ("Verify", "custos erase verify-receipt <receipt>.json --public-key <key>.pem (the JSON is authoritative)"),
        ],
    )
    pdf.output(str(path))


def _source_and_recreation(pdf: FPDF, subject: dict[str, Any]) -> None:
    """Does the identity provider still hold the person, and can it re-create them?"""
    lines = []
    source = subject.get("source")
    if source:
        by = f" by {source['attested_by']}" if source.get("attested_by") else ""
        at = f" at {_t(source['at'])}" if source.get("at") else ""
        how = f": {source['how']}" if source.get("how") else ""  # the attestation's note, or what was seen
        lines.append(f"Source (identity provider): {source['outcome']}{by}{at}{how}")
    recreation = subject.get("recreation") or {}
    if recreation.get("released"):
        released = recreation["released"]
        lines.append(f"Re-creation: released by {released['by']} at {_t(released['at'])}: {released['reason']}")
    elif recreation.get("blocked"):
        tries = recreation.get("refused_attempts", 0)
        lines.append(f"Re-creation: blocked by tombstone ({', '.join(recreation['identifiers'])}); {tries} refused")
    for line in lines:
        pdf.set_font(_FONT, "B", 8.5)
        pdf.multi_cell(0, _LINE, line, align="L", new_x="LMARGIN", new_y="NEXT")


def _target(pdf: FPDF, target: dict[str, Any]) -> None:
    # One short line each, drawn with cell(): fpdf2's multi_cell line breaking is slow, and a receipt may list
    # thousands of steps. Body hashes are shortened here; the JSON, which is what verifies, has them in full.
    pdf.set_font(_FONT, "B", 8.5)
    pdf.cell(
        0, _LINE, f"{target['target']} ({target['erase_mode']}): {target['outcome']}", new_x="LMARGIN", new_y="NEXT"
    )
    pdf.set_font(_FONT, "", 7.5)
    confirmed = f", confirmed {_t(target['confirmed'])}" if target.get("confirmed") else ""
    closed = f", closed {_t(target['closed'])}" if target.get("closed") else ", still open"
    lines = [f"requested {_t(target['requested'])}{confirmed}{closed}, {target['attempts']} attempt(s)"]
    for exchange in target["exchanges"]:
        status = exchange["status"] if exchange["status"] is not None else "no answer"
        digest = f"  body sha256 {exchange['sha256'][:16]}…" if exchange.get("sha256") else ""
        lines.append(f"{_t(exchange['at'])}  {exchange['method']} → {status}{digest}")
    for line in lines:
        pdf.set_x(pdf.l_margin + 4)
        pdf.cell(0, _LINE - 1, line, new_x="LMARGIN", new_y="NEXT")
    texts = [str(target["reason"])] if target.get("reason") else []
    attestation = target.get("attestation")
    if attestation:
        texts.append(f"attested by {attestation['by']} at {_t(attestation['at'])}: {attestation['note']}")
    for text in texts:
        pdf.set_x(pdf.l_margin + 4)
        if len(text) <= _SHORT:
            pdf.cell(0, _LINE - 1, text, new_x="LMARGIN", new_y="NEXT")
        else:  # long free text is wrapped
            pdf.multi_cell(0, _LINE - 1, text, align="L", new_x="LMARGIN", new_y="NEXT")

"""The erasure receipt as a PDF for people: the same facts as the signed JSON, which is what verifies."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fpdf import FPDF

from app.core.paths import resources_dir

_FONT = "DejaVu"
_LINE = 5.0


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
    pdf.multi_cell(0, _LINE + 2, text, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(_FONT, "", 9)


def _pairs(pdf: FPDF, pairs: list[tuple[str, object]]) -> None:
    for name, value in pairs:
        if value is None or value == "":
            continue
        pdf.set_font(_FONT, "B", 9)
        pdf.cell(48, _LINE, name)
        pdf.set_font(_FONT, "", 9)
        pdf.multi_cell(0, _LINE, str(value), new_x="LMARGIN", new_y="NEXT")


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
            ("Requested", f"{request['created']} by {request['operator']}"),
            ("Request state", request["state"] + (f" (closed {request['closed']})" if request.get("closed") else "")),
            ("Policy in force", receipt["policy_in_force"]),
            ("Issued", receipt["issued"]),
        ],
    )
    local = receipt["local_erasure"]
    storage = local.get("storage", {})
    _heading(pdf, "Local mirror")
    _pairs(
        pdf,
        [
            ("Erased at", local.get("erased_at")),
            ("Subjects", local.get("subjects")),
            ("Rows deleted", local.get("rows_deleted")),
            ("Queued pushes removed", local.get("outbox_items_deleted")),
            ("Pseudonym keys shredded", local.get("keys_shredded")),
            ("secure_delete on", _yes(storage.get("secure_delete"))),
            ("WAL checkpointed", _yes(storage.get("wal_checkpointed"))),
            ("Free pages vacuumed", _yes(storage.get("vacuumed"))),
            ("WAL truncated", _yes(storage.get("wal_truncated"))),
        ],
    )
    for number, subject in enumerate(receipt["subjects"], 1):
        _heading(pdf, f"Subject {number}: pseudonym {subject['pseudonym'][:32]}…", 10)
        for target in subject["targets"]:
            _target(pdf, target)
    _heading(pdf, "Signature")
    signature = receipt["signature"]
    _pairs(
        pdf,
        [
            ("Algorithm", signature["algorithm"]),
            ("Key id", signature["key_id"]),
            ("Public key (base64)", signature["public_key"]),
            ("Signature (base64)", signature["value"]),
            ("Verify", "custos erase verify-receipt <receipt>.json --public-key <key>.pem (the JSON is authoritative)"),
        ],
    )
    pdf.output(str(path))


def _target(pdf: FPDF, target: dict[str, Any]) -> None:
    pdf.set_font(_FONT, "B", 9)
    title = f"{target['target']} ({target['erase_mode']}): {target['outcome']}"
    pdf.multi_cell(0, _LINE, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(_FONT, "", 8)
    lines = [f"attempts {target['attempts']}; requested {target['requested']}"]
    if target.get("confirmed"):
        lines.append(f"confirmed {target['confirmed']}")
    if target.get("reason"):
        lines.append(str(target["reason"]))
    for exchange in target["exchanges"]:
        status = exchange["status"] if exchange["status"] is not None else "no answer"
        digest = f" sha256 {exchange['sha256']}" if exchange.get("sha256") else ""
        lines.append(f"{exchange['at']}  {exchange['method']} → {status}{digest}")
    attestation = target.get("attestation")
    if attestation:
        lines.append(f"attested by {attestation['by']} at {attestation['at']}: {attestation['note']}")
    for line in lines:
        pdf.set_x(pdf.l_margin + 4)
        pdf.multi_cell(0, _LINE - 0.8, line, new_x="LMARGIN", new_y="NEXT")

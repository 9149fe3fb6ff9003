"""``[processor]``: the processor's own recipients and its client controllers (Art. 30(2))."""

from __future__ import annotations

from typing import Any

from app.policy.checks.contacts import read_nested_contact
from app.policy.checks.reader import Reader
from app.policy.checks.recipients import transfer_checks
from app.policy.model import (
    ClientController,
    Contact,
    ProcessorRecipient,
)


def _processor_table(reader: Reader, document: dict[str, Any]) -> dict[str, Any]:
    processor = document.get("processor", {})
    if not isinstance(processor, dict):
        reader.problem(("processor",), "[processor] must be a table")
        return {}
    return processor


def read_processor_recipients(reader: Reader, document: dict[str, Any]) -> tuple[ProcessorRecipient, ...]:
    """``[[processor.recipients]]``: the processor's own recipients, whose countries are its Art. 30(2)(c)."""
    raw_list = _processor_table(reader, document).get("recipients", [])
    result = []
    for index, raw in enumerate(raw_list if isinstance(raw_list, list) else []):
        where: tuple[str | int, ...] = ("processor", "recipients", index)
        if not isinstance(raw, dict):
            reader.problem(where, "each [[processor.recipients]] must be a table")
            continue
        country = reader.text(raw, "country", where, required=True)
        safeguard = reader.text(raw, "transfer_safeguard", where)
        transfer_checks(reader, where, raw, country, safeguard)
        result.append(
            ProcessorRecipient(
                id=reader.text(raw, "id", where, required=True),
                name=reader.text(raw, "name", where, required=True),
                country=country.upper(),
                transfer_safeguard=safeguard,
                contract_link=reader.text(raw, "contract_link", where),
            )
        )
    return tuple(result)


def read_clients(
    reader: Reader, document: dict[str, Any], recipients: tuple[ProcessorRecipient, ...]
) -> tuple[ClientController, ...]:
    clients = _processor_table(reader, document).get("controllers", [])
    known = {r.id for r in recipients}
    result = []
    for index, raw in enumerate(clients if isinstance(clients, list) else []):
        where: tuple[str | int, ...] = ("processor", "controllers", index)
        if not isinstance(raw, dict):
            reader.problem(where, "each [[processor.controllers]] must be a table")
            continue
        used = reader.texts(raw, "recipients", where)
        for recipient in used:
            if recipient not in known:
                reader.problem((*where, "recipients"), f"'{recipient}' is not declared in [[processor.recipients]]")
        result.append(
            ClientController(
                contact=Contact(
                    reader.text(raw, "name", where, required=True),
                    reader.text(raw, "address", where),
                    reader.text(raw, "email", where),
                    reader.text(raw, "telephone", where),
                ),
                representative=read_nested_contact(reader, raw, "representative", where),
                dpo=read_nested_contact(reader, raw, "dpo", where),
                processing=reader.text(raw, "processing", where, required=True),
                transfers=reader.text(raw, "transfers", where),
                transfer_safeguard=reader.text(raw, "transfer_safeguard", where),
                recipients=used,
            )
        )
    return tuple(result)

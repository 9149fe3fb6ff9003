"""The evidence bundle's format: its members' names, and reading the manifest, the key and the checkpoints
(shared by the writer, the verifier and ``app.audit.bundle_read``; the format is described in ``app.audit.bundle``)."""

from __future__ import annotations

import json
import zipfile
from typing import Any

from app.audit.checkpoints import (
    Checkpoint,
    public_key_from_pem,
)

FORMAT = "custos-audit-bundle/1"
MANIFEST, SIGNATURE = "manifest.json", "manifest.sig"
ENTRIES, PROOFS, CHECKPOINTS, PUBLIC_KEY, README, ANCHOR = (
    "entries.jsonl",
    "proofs.json",
    "checkpoints.json",
    "public_key.pem",
    "README.txt",
    "anchor.json",
)

# The fields of an entry its leaf hash covers (the rest of an entries.jsonl line is its hashes)
ENTRY_FIELDS = ("seq", "at", "kind", "actor", "outcome", "subject", "details")


def read_manifest(bundle: zipfile.ZipFile) -> tuple[bytes, dict[str, Any]]:
    """The manifest's bytes (what manifest.sig signs) and its content; ValueError if not a known bundle format."""
    manifest_bytes = bundle.read(MANIFEST)
    manifest = json.loads(manifest_bytes)
    if manifest.get("format") != FORMAT:
        raise ValueError("not a Custos audit bundle of a known format")
    return manifest_bytes, manifest


def read_public_key(bundle: zipfile.ZipFile) -> bytes:
    """The raw Ed25519 key of public_key.pem; ValueError if it is not one."""
    return public_key_from_pem(bundle.read(PUBLIC_KEY))


def read_checkpoint_documents(bundle: zipfile.ZipFile) -> list[dict[str, Any]]:
    """checkpoints.json as written: each signed checkpoint with its ``consistency_to_final`` proof."""
    documents: list[dict[str, Any]] = json.loads(bundle.read(CHECKPOINTS))
    return documents


def checkpoints_of(documents: list[dict[str, Any]]) -> list[Checkpoint]:
    return [Checkpoint.from_signed({k: v for k, v in d.items() if k != "consistency_to_final"}) for d in documents]


def final_checkpoint(checkpoints: list[Checkpoint]) -> Checkpoint:
    """The one every proof leads to: the largest tree (ValueError if there is none)."""
    return max(checkpoints, key=lambda c: c.tree_size)

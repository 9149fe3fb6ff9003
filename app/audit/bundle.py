"""Evidence bundles: a slice of the audit trail that anyone can verify offline, without the vault.

One ZIP file:
- ``entries.jsonl``   the stored entries of the range, one canonical JSON object a line, with their hashes;
- ``proofs.json``     the RFC 9162 inclusion proof of each entry in the tree signed by the final checkpoint;
- ``checkpoints.json`` the signed checkpoints (the final one, made at export, last), each with the consistency
  proof that the final tree extends it;
- ``public_key.pem``  the Ed25519 key that signed them;
- ``README.txt``      how to verify, by hand or with ``custos audit verify-bundle``;
- ``manifest.json``   format, range, counts, the SHA-256 of each file; ``manifest.sig`` its signature, so that
  entries cannot be cut off the ends of the range unnoticed.

- ``anchor.json``     what proves the chain hash of the entry before the range (``prev_chain_hash``): the
  newest bundled checkpoint at or before that entry (its signed ``chain_hash``; tree size 0 is the trail's
  start) and the leaf hashes from there to the entry before the range, each with its inclusion proof.

A bundle of a range does not hold the entries before it, so it cannot check them: it proves each included
entry's content and place (inclusion proofs in the signed tree) and their chain from the hash of the entry
before the range, and that hash from a signed checkpoint through the bridging leaf hashes. Bundles written
before anchor.json existed state ``prev_chain_hash`` in the signed manifest only; the verifier says so.
"""

from app.audit.bundle_format import (
    ANCHOR,
    CHECKPOINTS,
    ENTRIES,
    FORMAT,
    MANIFEST,
    PROOFS,
    PUBLIC_KEY,
    README,
    SIGNATURE,
    checkpoints_of,
    final_checkpoint,
    read_checkpoint_documents,
    read_manifest,
    read_public_key,
)
from app.audit.bundle_verify import NOT_PROVED, proved_statements, split_proved, unanchored_key, verify_bundle
from app.audit.bundle_write import BundleInfo, export_bundle

# The bundle's parts live in bundle_format, bundle_write and bundle_verify; callers import them from here.
__all__ = [
    "ANCHOR",
    "CHECKPOINTS",
    "ENTRIES",
    "FORMAT",
    "MANIFEST",
    "NOT_PROVED",
    "PROOFS",
    "PUBLIC_KEY",
    "README",
    "SIGNATURE",
    "BundleInfo",
    "checkpoints_of",
    "export_bundle",
    "final_checkpoint",
    "proved_statements",
    "read_checkpoint_documents",
    "read_manifest",
    "read_public_key",
    "split_proved",
    "unanchored_key",
    "verify_bundle",
]

"""Where a recipient's country stands under Chapter V: in the EEA, adequate (Art. 45), partly adequate, or neither.

One list, shared by validation (``policy validate``) and the Art. 30 record, so the two never disagree.
Three adequacy decisions cover only some recipients in their country; relying on them needs a check per
recipient, which only a person can make (the DPF list, the recipient's PIPEDA or APPI status). Sources: the
Commission's adequacy decisions list (last reviewed for this table: 2026).
"""

from __future__ import annotations

from dataclasses import dataclass

# EEA member states (EU 27 + Iceland, Liechtenstein, Norway), ISO 3166-1 alpha-2.
EEA = frozenset(
    {
        "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV", "LT", "LU",
        "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "IS", "LI", "NO",
    }
)  # fmt: skip
# Adequacy decisions covering the whole country's private sector (Art. 45).
ADEQUATE = frozenset({"AD", "AR", "FO", "GG", "IL", "IM", "JE", "NZ", "KR", "CH", "GB", "UY"})
# Adequacy decisions that cover only some recipients: what must be checked for each.
PARTIAL = {
    "US": "the EU-US Data Privacy Framework covers only organisations certified under it (and for HR data, "
    "certified for HR data): check the recipient on the DPF list",
    "CA": "Canada's decision covers only commercial organisations subject to PIPEDA: check that the recipient is one",
    "JP": "Japan's decision covers only business operators subject to the APPI (with the supplementary rules): "
    "check that the recipient is one",
}
_DPF_WORDS = ("data privacy framework", "dpf")


@dataclass(frozen=True)
class TransferStatus:
    """``kind``: "unknown" (no country), "eea", "adequate", "partial" (adequacy relied on, check needed),
    "safeguard" (Art. 46/49 safeguard named), or "missing" (a third country with nothing named)."""

    kind: str
    check: str = ""  # what a person must verify, for a partial adequacy decision

    @property
    def third_country(self) -> bool:
        return self.kind not in ("unknown", "eea")


def transfer_status(country: str, safeguard: str) -> TransferStatus:
    code = country.strip().upper()
    if not code:
        return TransferStatus("unknown")
    if code in EEA:
        return TransferStatus("eea")
    if code in ADEQUATE:
        return TransferStatus("adequate")
    named = safeguard.strip()
    if code in PARTIAL:
        relies_on_dpf = code == "US" and any(word in named.lower() for word in _DPF_WORDS)
        if relies_on_dpf or (not named and code != "US"):
            return TransferStatus("partial", PARTIAL[code])
    return TransferStatus("safeguard" if named else "missing")

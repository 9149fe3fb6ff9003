"""Issue 12 §7: each statement of the Art. 30 record is derived from what it describes, on a real vault."""

from __future__ import annotations

from datetime import UTC, datetime

from app.exports.facts import gather_facts
from app.exports.ropa import build_processor_record, build_ropa
from app.incidents.register import IncidentRegister
from app.policy import versions
from app.policy.apply import apply_policy
from app.policy.model import NEEDS_HUMAN
from app.store.vault import Vault

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def controller(vault: Vault, text: str | None = None) -> dict[str, dict[str, str]]:
    apply_policy(vault, text or versions.default_policy_text(), "dpo")
    with vault.read_connection() as conn:
        record = versions.in_force(conn)
    assert record is not None
    ropa = build_ropa(record, gather_facts(vault, policy=record.policy), NOW)
    keys = [c.key for c in ropa.columns]
    return {a.id: dict(zip(keys, a.cells, strict=True)) for a in ropa.activities}


def test_the_breach_column_reads_the_breach_register(vault: Vault) -> None:
    register = IncidentRegister(vault)
    candidate = register.open_incident("Odd sign-in pattern", "alice")
    rows = controller(vault)
    assert rows["access-management/identifiers"]["breach"] == (
        "No breach recorded in Custos' breach register (1 incident(s) recorded and not established as breaches)"
    )
    register.set_aware(candidate, "alice", "Confirmed: a token was used from an unknown network")
    register.notify(candidate, "alice", "REF-1", datetime.now(UTC))  # after the awareness just recorded
    rows = controller(vault)
    assert rows["access-management/identifiers"]["breach"].startswith("Yes: 1 personal data breach(es)")
    assert "1 notified to the supervisory authority" in rows["access-management/identifiers"]["breach"]
    assert "incident 1 (aware " in rows["custos/breach_register"]["breach_record"]


def test_the_trail_is_described_as_holding_personal_data(vault: Vault) -> None:
    security = controller(vault)["access-management/identifiers"]["security"]
    assert "without personal data" not in security
    assert "keyed pseudonyms" in security and "Art. 4(5)" in security and "network addresses" in security
    assert "Organisational: Administrators trained in data protection annually" in security  # no longer lost


def test_own_processing_without_periods_asks_for_them(vault: Vault) -> None:
    text = versions.default_policy_text().split("[own_processing]")[0]
    rows = controller(vault, text)
    for key in ("audit_trail", "breach_register", "erasure_ledger", "dsr_register"):
        assert rows[f"custos/{key}"]["retention"].startswith(f"{NEEDS_HUMAN}: set [own_processing] {key}")
        assert rows[f"custos/{key}"]["adherence"].startswith(("No", "Not applicable"))


def test_partial_adequacy_is_flagged_as_needing_a_check(vault: Vault) -> None:
    text = versions.default_policy_text() + (
        '\n[[recipients]]\nid = "crm"\nname = "Maple CRM"\nkind = "processor"\ncountry = "CA"\n'
        'contract_link = "https://contracts.example/crm"\npurposes = ["internal-directory"]\n'
        'attributes = ["displayName"]\n'
    )
    rows = controller(vault, text)
    assert rows["internal-directory/names"]["third_countries"] == "CA (Maple CRM)"
    assert "check needed: Canada's decision covers only commercial organisations subject to PIPEDA" in (
        rows["internal-directory/names"]["transfer_safeguards"]
    )


def test_a_policy_without_clients_has_no_processor_rows(vault: Vault) -> None:
    apply_policy(vault, versions.default_policy_text(), "dpo")
    with vault.read_connection() as conn:
        record = versions.in_force(conn)
    assert record is not None
    ropa = build_processor_record(record, gather_facts(vault, policy=record.policy), NOW)
    assert ropa.activities == () and "no processing to record under Art. 30(2)" in ropa.notes[-1]

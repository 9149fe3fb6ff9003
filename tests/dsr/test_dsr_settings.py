"""Where the controller is: read from the policy's controller address unless set explicitly, and checked."""

from __future__ import annotations

from pathlib import Path

import pytest
import tomlkit

from app.core.errors import ConfigError
from app.dsr import settings
from app.policy.in_force import PolicyInForce
from app.policy.versions import default_policy_text
from app.store.vault import Vault
from app.targets.policy_change import apply_policy


def _policy_with_address(vault: Vault, address: str) -> object:
    document = tomlkit.parse(default_policy_text())
    document["controller"]["address"] = address  # type: ignore[index]
    apply_policy(vault, tomlkit.dumps(document), "dpo")
    return PolicyInForce(vault).get().policy


def test_the_country_comes_from_the_controller_address(vault: Vault) -> None:
    policy = _policy_with_address(vault, "Hauptstraße 1\n80331 München\nGermany")
    found = settings.load(vault.path.parent, policy)  # type: ignore[arg-type]
    assert (found.country, found.zone, found.source) == ("DE", "Europe/Berlin", "policy")
    assert found.retention.iso() == "P3Y"
    assert settings.country_from_address("1 rue de Rivoli, 75001 Paris, FR") == "FR"
    assert settings.country_from_address("10 Downing Street, London, UK") == "GB"
    assert settings.country_from_address("Somewhere without a country line") == ""


def test_explicit_settings_win_and_are_checked(vault: Vault, data_dir: Path) -> None:
    policy = _policy_with_address(vault, "Hauptstraße 1, 80331 München, Germany")
    settings.save(data_dir, country="de", subdivision="by", zone="Europe/Berlin", retention="P5Y")
    found = settings.load(data_dir, policy)  # type: ignore[arg-type]
    assert (found.country, found.subdivision, found.retention.iso(), found.source) == ("DE", "BY", "P5Y",
                                                                                         "requests.toml")  # fmt: skip
    for bad in ({"country": "ZZ"}, {"country": "DE", "subdivision": "XX"}, {"zone": "Mars/Olympus"},
                {"retention": "three years"}):  # fmt: skip
        with pytest.raises(ConfigError):
            settings.save(data_dir, **bad)
    assert settings.load(data_dir, policy).retention.iso() == "P5Y"  # type: ignore[arg-type]  # nothing half-written
    (data_dir / settings.FILE).write_text("country = [", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        settings.load(data_dir, policy)  # type: ignore[arg-type]


def test_the_policy_s_own_processing_period_is_the_register_s_default(vault: Vault) -> None:
    """The Art. 30 record states [own_processing] dsr_register; the retention job must delete by that period."""
    document = tomlkit.parse(default_policy_text())
    document.setdefault("own_processing", tomlkit.table())
    document["own_processing"]["dsr_register"] = {"period": "P2Y", "justification": "Limitation period"}  # type: ignore[index]
    apply_policy(vault, tomlkit.dumps(document), "dpo")
    policy = PolicyInForce(vault).get().policy
    assert settings.load(vault.path.parent, policy).retention.iso() == "P2Y"
    settings.save(vault.path.parent, retention="P4Y")  # an explicit setting still wins
    assert settings.load(vault.path.parent, policy).retention.iso() == "P4Y"


def test_a_change_of_the_settings_is_on_the_trail_with_the_values_before_and_after(vault: Vault) -> None:
    """Was: `dsr settings --country` (and the app's Deadline settings…) changed which days count towards every later
    Art. 12(3) deadline, and left nothing on the audit trail. A refused value records nothing."""
    from app.audit.trail import of_kind
    from app.services.dsr import save_settings
    from app.siem.mapping import mapping_for

    _policy_with_address(vault, "1 rue de Rivoli, 75001 Paris, FR")
    folder = vault.path.parent
    save_settings(vault, folder, "de", "by", None, None)
    with pytest.raises(ConfigError):
        save_settings(vault, folder, "ZZ", None, None, None)
    with vault.read_connection() as conn:
        (entry,) = of_kind(conn, "dsr.settings_changed")
    assert entry.details["before"]["country"] == "FR" and entry.details["before"]["time_zone"] == "Europe/Paris"
    assert entry.details["after"] == {"country": "DE", "subdivision": "BY", "time_zone": "Europe/Berlin",
                                      "retention": entry.details["before"]["retention"]}  # fmt: skip
    assert mapping_for("dsr.settings_changed").name == "Request register settings changed"

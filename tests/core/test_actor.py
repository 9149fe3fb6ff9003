"""Who acts, as the audit trail names them: one line of printable text, or a refusal."""

from __future__ import annotations

import pytest

from app.core.actor import operator_login
from app.core.errors import ConfigError


@pytest.mark.parametrize("name", ["dpo\nCEF:0|forged|x=1", "dpo\x1b[2J", "dpo\x00", "dpo\u202e", "dpo\tx"])
def test_an_operator_name_with_a_control_character_is_refused(name: str) -> None:
    with pytest.raises(ConfigError, match="one line of printable characters"):
        operator_login(name)


def test_an_operator_name_from_the_environment_is_held_to_the_same_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUSTOS_OPERATOR", "dpo\r\nforged")
    with pytest.raises(ConfigError):
        operator_login()
    monkeypatch.setenv("CUSTOS_OPERATOR", "Zoë Ñandú (DPO) <dpo@example.org>")
    assert operator_login() == "Zoë Ñandú (DPO) <dpo@example.org>"

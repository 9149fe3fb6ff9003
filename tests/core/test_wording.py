"""Counts said with their noun in agreement."""

from app.core.wording import counted


def test_one_is_singular_every_other_count_plural() -> None:
    assert counted(1, "row") == "1 row"
    assert [counted(n, "row") for n in (0, 2)] == ["0 rows", "2 rows"]
    assert counted(1, "entry", "entries") == "1 entry" and counted(1024, "entry", "entries") == "1,024 entries"


def test_a_printed_contract_keeps_its_bare_figure() -> None:
    """CLI lines scripts read keep "1500", not "1,500": only the noun agrees."""
    assert counted(1500, "account", grouped=False) == "1500 accounts"
    assert counted(1, "account", grouped=False) == "1 account"

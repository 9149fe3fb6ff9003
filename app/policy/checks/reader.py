"""Reading one value of the policy file: its type checked, its line remembered for the problem it may cause.

Every section check reads through a ``Reader``, so a wrong type is said the same way everywhere and every problem
carries the line an operator has to fix."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Any

from app.policy.durations import Period
from app.policy.locate import LineLocator
from app.policy.model import Retention


@dataclass(frozen=True, order=True)
class Problem:
    line: int
    message: str
    warning: bool = False  # warnings do not stop a policy from being applied
    # A check added after policies were already applied: it refuses a new version, but a version already in a
    # vault (applied under the older rules) still loads, so an upgrade never stops a running Custos.
    tightened: bool = field(default=False, compare=False)

    def render(self, source: str) -> str:
        return f"{source}:{self.line}: {'warning' if self.warning else 'error'}: {self.message}"


@dataclass
class Reader:
    locator: LineLocator
    problems: list[Problem] = field(default_factory=list)

    def problem(
        self, where: tuple[str | int, ...], message: str, warning: bool = False, tightened: bool = False
    ) -> None:
        self.problems.append(Problem(self.locator.line(*where), message, warning, tightened))

    def text(
        self,
        table: dict[str, Any],
        key: str,
        where: tuple[str | int, ...],
        required: bool = False,
        wanted: bool = False,
        tightened: bool = False,
    ) -> str:
        """``required``: an error when empty; ``wanted``: a warning (the Art. 30 record will ask a human);
        ``tightened``: a value read as text without this check before, so a stored version that is not still loads."""
        value = table.get(key, "")
        if not isinstance(value, str):
            self.problem((*where, key), f"'{key}' must be text", tightened=tightened)
            return ""
        self._no_controls(value, key, where)
        if (required or wanted) and not value.strip():
            label = ".".join(str(part) for part in where if isinstance(part, str))
            message = f"'{key}' is required" if required else f"'{label}.{key}' is empty: the records will ask for it"
            self.problem((*where, key) if key in table else where, message, warning=not required)
        return value.strip()

    def flag(self, table: dict[str, Any], key: str, where: tuple[str | int, ...]) -> bool:
        value = table.get(key, False)
        if not isinstance(value, bool):
            self.problem((*where, key), f"'{key}' must be true or false")
            return False
        return value

    def texts(self, table: dict[str, Any], key: str, where: tuple[str | int, ...]) -> tuple[str, ...]:
        value = table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            self.problem((*where, key), f"'{key}' must be a list of text")
            return ()
        for item in value:
            self._no_controls(item, key, where)
        return tuple(item.strip() for item in value)

    def _no_controls(self, value: str, key: str, where: tuple[str | int, ...]) -> None:
        """Policy text goes into the Art. 30 record (XLSX, ODS, PDF), the subject export and the trail: a control
        character written as an escape (``"\\u001b"``) made the XLSX record end in a traceback and reached
        terminals as a live ESC sequence. Line breaks and tabs are text; the others are a mistake to say."""
        found = next((ch for ch in value if ch not in "\n\r\t" and unicodedata.category(ch) == "Cc"), None)
        if found is not None:
            message = f"'{key}' holds the control character U+{ord(found):04X}; remove it"
            self.problem((*where, key), message, tightened=True)  # a version stored before still loads and exports

    def tables(self, document: dict[str, Any], key: str) -> list[dict[str, Any]]:
        value = document.get(key, [])
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            self.problem((key,), f"'{key}' must be written as [[{key}]] tables")
            return []
        return value

    def retention(
        self,
        raw: Any,
        where: tuple[str | int, ...],
        key: str = "retention",
        *,
        required: str = "",
        account_allowed: bool = True,
    ) -> Retention | None:
        """``retention = "P30D"`` or ``{ period = "P30D", justification = "…" }``.

        ``"account"``: while the account exists (where ``account_allowed``); ``"indefinite"``: no time limit, which
        must say why. ``required`` names what is kept, for the error when the key is missing: a missing period
        used to mean "kept for ever" with no warning (Art. 5(1)(e)).
        """
        if raw is None:
            self._retention_missing(where, key, required, account_allowed)
            return None
        parts = self._retention_parts(raw, (*where, key), key, account_allowed)
        if parts is None:
            return None
        period_text, justification = parts
        return self._retention_period(period_text, justification, (*where, key), key, account_allowed)

    def _retention_missing(self, where: tuple[str | int, ...], key: str, required: str, account_allowed: bool) -> None:
        """No retention written: an error only where the caller names what would be kept without limit."""
        if required:
            choices = '"P30D"' + (', "account"' if account_allowed else "")
            self.problem(
                where,
                f"'{key}' is required: how long {required} is kept ({choices}, or \"indefinite\" with a justification)",
                tightened=True,
            )

    def _retention_parts(
        self, raw: Any, at: tuple[str | int, ...], key: str, account_allowed: bool
    ) -> tuple[str, str] | None:
        """The period's text and the justification (stripped), or None when the value has no usable period."""
        if isinstance(raw, str):
            raw = {"period": raw}
        if not isinstance(raw, dict):
            self.problem(at, f"'{key}' must be a period or a table with 'period' and 'justification'")
            return None
        period_text = raw.get("period", "account" if account_allowed else "")
        justification = raw.get("justification", "")
        if not isinstance(justification, str):
            self.problem(at, f"'{key}.justification' must be text")
            justification = ""
        if not isinstance(period_text, str):
            self.problem(at, f'\'{key}.period\' must be text such as "P30D" or "indefinite"')
            return None
        return period_text, justification.strip()

    def _retention_period(
        self, period_text: str, justification: str, at: tuple[str | int, ...], key: str, account_allowed: bool
    ) -> Retention | None:
        """The words "indefinite" and "account", or an ISO 8601 period; each but "account" must say why."""
        word = period_text.strip().lower()
        if word == "indefinite":
            if not justification:
                message = f"'{key}' is \"indefinite\": it needs a 'justification' (why no limit can be set)"
                self.problem(at, message, tightened=True)
            return Retention(None, justification, indefinite=True)
        if word == "account" and account_allowed:
            return Retention(None, justification)
        if word in ("account", ""):
            self.problem(
                at,
                f'\'{key}\' needs a period such as "P30D" (or "indefinite" with a justification): '
                "a deactivated account cannot be kept 'while the account exists'",
                tightened=True,
            )
            return None
        try:
            period = Period.parse(period_text)
        except ValueError as exc:
            self.problem(at, f"'{key}.period': {exc}")
            return None
        if not justification:
            self.problem(at, f"'{key}' needs a 'justification' (the legal or business reason)")
        return Retention(period, justification)


def unique_ids(reader: Reader, section: str, tables: list[dict[str, Any]]) -> None:
    seen: set[str] = set()
    for index, table in enumerate(tables):
        identifier = table.get("id")
        if not isinstance(identifier, str) or not identifier.strip():
            reader.problem((section, index), f"each [[{section}]] needs an 'id'")
        elif identifier in seen:
            reader.problem((section, index, "id"), f"duplicate {section} id '{identifier}'")
        else:
            seen.add(identifier)

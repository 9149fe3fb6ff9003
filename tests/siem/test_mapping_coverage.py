"""Every kind of audit event the app can append has its own SIEM mapping (CEF signature, OCSF class and activity,
severity), not the generic fallback: the kinds are read from the code itself (each ``Event(...)`` and, where the
kind is a parameter, the callers that name it), so a new kind without a mapping fails here."""

from __future__ import annotations

import ast
import re
from datetime import UTC, datetime
from pathlib import Path

from app.audit.trail import StoredEvent
from app.erasure.model import State
from app.siem.cef import to_cef
from app.siem.mapping import describe, has_mapping, known_kinds, mapping_for

KIND = re.compile(r"[a-z0-9_]+(\.[a-z0-9_]+)+")  # what a kind looks like
TAIL = re.compile(r"[a-z0-9_]+")  # its last part, after a prefix
APP = Path(__file__).resolve().parents[2] / "app"
# kinds built from a value the code cannot show statically: every value they take
EXPANSIONS = {
    "erasure.target.": [s.value for s in State],
    "provision.": ["created", "adopted", "replaced", "deleted", "deactivated", "verification_failed"],  # not "skipped"
}


class _Module:
    def __init__(self, path: Path) -> None:
        self.path, self.tree = path, ast.parse(path.read_text(encoding="utf-8"))
        self.constants = {
            target.id: node.value.value
            for node in self.tree.body
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
            for target in node.targets
            if isinstance(target, ast.Name) and isinstance(node.value.value, str)
        }
        self.parents = {child: node for node in ast.walk(self.tree) for child in ast.iter_child_nodes(node)}

    def function_of(self, node: ast.AST) -> ast.FunctionDef | None:
        while node in self.parents:
            node = self.parents[node]
            if isinstance(node, ast.FunctionDef):
                return node
        return None


MODULES = [_Module(path) for path in sorted(APP.rglob("*.py"))]
BY_NAME = {".".join(m.path.relative_to(APP.parent).with_suffix("").parts): m for m in MODULES}


def _constant(module: _Module, expr: ast.expr) -> str | None:
    """A module-level string: ``NAME`` of this module or imported from another, or ``module.NAME``."""
    if isinstance(expr, ast.Name):
        if expr.id in module.constants:
            return module.constants[expr.id]
        for node in ast.walk(module.tree):
            if not isinstance(node, ast.ImportFrom) or node.module not in BY_NAME:
                continue
            if any((alias.asname or alias.name) == expr.id for alias in node.names):
                return BY_NAME[node.module].constants.get(expr.id)
    if isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name):
        for name, other in BY_NAME.items():
            if name.rsplit(".", 1)[-1] == expr.value.id and expr.attr in other.constants:
                return other.constants[expr.attr]
    return None


def _name(func: ast.expr) -> str:
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def _argument(call: ast.Call, function: ast.FunctionDef, parameter: str) -> ast.expr | None:
    params = [a.arg for a in function.args.args]
    if call.args and any(isinstance(a, ast.Starred) for a in call.args):
        return None
    for keyword in call.keywords:
        if keyword.arg == parameter:
            return keyword.value
    index = params.index(parameter) - (1 if params and params[0] in ("self", "cls") else 0)
    return call.args[index] if 0 <= index < len(call.args) else None


def _kinds(
    module: _Module, expr: ast.expr, depth: int = 0, shape: re.Pattern[str] = KIND
) -> tuple[set[str], list[str]]:
    """The kinds an expression can be, and where that cannot be told."""
    where = f"{module.path.relative_to(APP.parent)}:{expr.lineno}"
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return {expr.value}, []
    if (constant := _constant(module, expr)) is not None:
        return {constant}, []
    if isinstance(expr, ast.IfExp):
        (a, wa), (b, wb) = _kinds(module, expr.body, depth), _kinds(module, expr.orelse, depth)
        return a | b, wa + wb
    if isinstance(expr, ast.JoinedStr) and isinstance(head := expr.values[0], ast.Constant):
        prefix = str(head.value)
        if prefix in EXPANSIONS:
            return {prefix + value for value in EXPANSIONS[prefix]}, []
        tails, unknown = _kinds(module, expr.values[1].value, depth, TAIL)  # type: ignore[attr-defined]
        return {prefix + tail for tail in tails}, unknown
    function = module.function_of(expr)
    if depth < 3 and isinstance(expr, ast.Name) and function and expr.id in [a.arg for a in function.args.args]:
        return _callers(function, expr.id, depth + 1, shape)
    return set(), [where]


def _callers(
    function: ast.FunctionDef, parameter: str, depth: int, shape: re.Pattern[str]
) -> tuple[set[str], list[str]]:
    """What the callers of a function (by name, anywhere in app/) pass for one of its parameters. Functions of
    the same name elsewhere take other things there: only what reads as a kind counts, and none at all is unknown."""
    kinds: set[str] = set()
    for module in MODULES:
        for node in ast.walk(module.tree):
            if isinstance(node, ast.Call) and _name(node.func) == function.name:
                argument = _argument(node, function, parameter)
                if argument is not None:
                    kinds |= {kind for kind in _kinds(module, argument, depth, shape)[0] if shape.fullmatch(kind)}
    return kinds, [] if kinds else [f"{function.name}({parameter}) at line {function.lineno}"]


def _emitted() -> tuple[set[str], list[str]]:
    kinds: set[str] = set()
    unknown: list[str] = []
    for module in MODULES:
        for node in ast.walk(module.tree):
            if isinstance(node, ast.Call) and _name(node.func) == "Event" and node.args:
                found, missed = _kinds(module, node.args[0])
                kinds |= found
                unknown += missed
    return kinds, unknown


def test_every_kind_the_app_appends_has_a_mapping() -> None:
    kinds, unknown = _emitted()
    assert not unknown, f"cannot tell which kinds these Event(...) calls append: {unknown}"
    assert {"target.reconciled", "target.changed", "vault.created", "dsr.opened", "scim.resource.created"} <= kinds
    assert sorted(kind for kind in kinds if not has_mapping(kind)) == []


def test_every_mapping_is_a_valid_shape_naming_nobody() -> None:
    kinds, _unknown = _emitted()
    for kind in kinds:
        mapping = mapping_for(kind)
        assert mapping.signature and mapping.name and 0 <= mapping.severity <= 10, kind
        assert mapping.class_uid in (2004, 2005, 3001, 3002, 3004, 3006, 6003), kind
        assert "@" not in mapping.name + mapping.signature + mapping.action, kind  # what happened, never to whom


def test_an_entity_change_says_the_same_in_ocsf_and_ecs() -> None:
    """OCSF Entity Management (3004): 1 Create, 2 Read, 3 Update, 4 Delete. A SIEM rule on one schema must see what
    one on the other sees: an ECS "change" is an OCSF Update, a "deletion" a Delete, a "creation" a Create (or, for
    an export, which reads the entities it writes out, a Read)."""
    activity = {"change": 3, "deletion": 4}
    for kind in known_kinds():
        mapping = mapping_for(kind)
        if mapping.class_uid != 3004:
            continue
        for ecs, ocsf in activity.items():
            if ecs in mapping.type:
                assert mapping.activity_id == ocsf, kind
        if "creation" in mapping.type:
            assert mapping.activity_id == (2 if kind.startswith("export.") else 1), kind


def _reconciled(**counts: object) -> StoredEvent:
    details = {"target": "app1", "checked": 3, "unknown": 0, "missing": 0, "differing": 0, "beyond": 0,
               "repairable": 0, "repaired": False, **counts}  # fmt: skip
    return StoredEvent(
        1, datetime.now(UTC).isoformat(), "target.reconciled", "operator:dpo", "success", None, details, "h", "p"
    )


def test_a_reconcile_that_leaves_drift_reads_as_such_in_the_siem() -> None:
    assert describe(_reconciled()).severity == 3
    assert describe(_reconciled(repairable=2, repaired=True)).severity == 3  # the repair was queued
    drift = describe(_reconciled(missing=1, repairable=1))
    assert (drift.signature, drift.name, drift.severity) == ("provision.reconcile", "Target differs from Custos", 5)
    assert (
        describe(_reconciled(unknown=1, repaired=True)).severity == 5
    )  # accounts unknown to Custos are never repaired
    cef = to_cef(_reconciled(missing=1, repairable=1))
    assert "provision.reconcile" in cef and "cs2=app1" in cef

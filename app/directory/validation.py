"""scim2-models validation, with its errors turned into SCIM errors that never echo input values."""

from __future__ import annotations

import re
from functools import cache
from typing import Any, get_args

from pydantic import BaseModel, ValidationError
from scim2_models import Context, EnterpriseUser, Group, PatchOp, SCIMException, User

from app.directory.booleans import refuse_loose_booleans, refuse_loose_patch_booleans
from app.directory.duplicates import without_duplicates
from app.directory.empty_elements import without_empty_elements
from app.directory.errors import ScimError
from app.directory.schema import model_for, schema_for
from app.directory.simple_patch import simple_patch

_STORED_EXCLUDE = ("id", "meta", "password", "groups", "members")
_PLAIN_MEMBER_KEYS = frozenset({"value", "display", "type"})
# Library messages quote the client's text: a PATCH path with its value filter ('emails[value eq "a@x.example"]
# .nope' is not an attribute), a filter literal in double quotes, and e-mail reasons quoting part of the address
# (an IDNA label in single quotes). Each may be personal data; the detail keeps the words and drops those runs.
_VALUE_FILTER = re.compile(r'\[(?:"(?:[^"\\]|\\.)*"?|[^\]"])*\]?')
_DOUBLE_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"?')
_SINGLE_QUOTED = re.compile(r"'[^']*'?")
# An attribute name the client wrote is shown only when it is SCIM syntax (RFC 7643 §2.1: ATTRNAME, ``$ref``, a
# schema URN, dotted, with a value filter already shown as '[…]'): a body key or a PATCH name such as
# 'jane.doe@example.test' is a value, not a name, and was quoted back as sent. Such a name is shown as '…'.
_ATTRIBUTE_PATH = re.compile(
    r"(?:urn:[A-Za-z0-9._:-]+:)?\$?[A-Za-z][A-Za-z0-9_-]*(?:\[…\])?(?:\.\$?[A-Za-z][A-Za-z0-9_-]*)?"
)
_SCHEMA_URN = re.compile(r"urn:[A-Za-z0-9._:-]+")


def _field_aliases(model: Any, into: dict[str, str]) -> dict[str, str]:
    """Each pydantic field name of ``model`` and of the models it holds, with its SCIM name where they differ: a
    PATCH's re-validation names the field (``display_name``), which no SCIM client knows."""
    for name, field in getattr(model, "model_fields", {}).items():
        alias = field.serialization_alias or field.alias
        if alias and alias != name:
            into.setdefault(name, alias)
        for inner in _model_types(field.annotation):
            if inner is not model:
                _field_aliases(inner, into)
    return into


def _model_types(annotation: Any) -> list[Any]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [found for argument in get_args(annotation) for found in _model_types(argument)]


_SCIM_NAMES = _field_aliases(Group, _field_aliases(User[EnterpriseUser], {}))


def scim_error_from(exc: Exception) -> ScimError:
    if isinstance(exc, SCIMException) and isinstance(exc.__cause__, ValidationError):
        # A PATCH value that fails validation comes wrapped, its detail pydantic's whole report ("1 validation
        # error for GroupMember" on the first line): the cause says which attribute and why.
        named = scim_error_from(exc.__cause__)
        return ScimError(exc.status, named.detail, exc.scim_type or named.scim_type)
    if isinstance(exc, SCIMException):
        return ScimError(exc.status, _safe(exc.detail or "", None), exc.scim_type or None)
    if isinstance(exc, ValidationError):
        first = exc.errors(include_url=False)[0]
        kind = str(first.get("type", ""))
        scim_type = kind[len("scim_") :] if kind.startswith("scim_") else "invalidValue"
        location = _location(first.get("loc", ()))
        if kind == "extra_forbidden":  # pydantic's "Extra inputs are not permitted": the name, not the value, is wrong
            return ScimError(400, f"'{location}' is not an attribute of the schema; nothing was stored.", scim_type)
        message = _safe(str(first.get("msg", "invalid value")), first.get("input"), quotes_input=kind == "value_error")
        where = f"'{location}': " if location else ""
        return ScimError(400, f"{where}{message}", scim_type)
    return ScimError(400, "The request could not be understood.", "invalidSyntax")


def _safe(message: str, untrusted_input: Any, *, quotes_input: bool = False) -> str:
    """Drop a message that would echo the submitted value, and the parts of one that quote it (it may be personal
    data). ``quotes_input``: a validator's own reason (``value_error``), whose single quotes hold part of the value
    rather than an attribute's name."""
    if untrusted_input is not None and not isinstance(untrusted_input, (dict, list)):
        text = str(untrusted_input)
        if text and text in message:
            return "the value is not valid for this attribute"
    first_line = message.splitlines()[0] if message else ""
    redacted = _DOUBLE_QUOTED.sub('"…"', _VALUE_FILTER.sub("[…]", first_line))
    return _SINGLE_QUOTED.sub(lambda quoted: "'…'" if quotes_input else _quoted_name(quoted[0]), redacted)[:300]


def _quoted_name(quoted: str) -> str:
    """A single-quoted run of a library message (an attribute path) as it may be shown."""
    inner = quoted.strip("'")
    return quoted if _ATTRIBUTE_PATH.fullmatch(inner) or _SCHEMA_URN.fullmatch(inner) else "'…'"


def _location(loc: tuple[Any, ...] | list[Any]) -> str:
    """pydantic's location as a SCIM path: the attributes' SCIM names (``displayName``, not the model's
    ``display_name``), an extension's attribute after a colon, list positions left out, and a name that is not SCIM
    syntax as '…'."""
    shown = ""
    for part in loc:
        if isinstance(part, int):
            continue
        name = _SCIM_NAMES.get(str(part), str(part))
        if not (_ATTRIBUTE_PATH.fullmatch(name) or _SCHEMA_URN.fullmatch(name)):
            name = "…"
        separator = ":" if _SCHEMA_URN.fullmatch(shown) else "."
        shown = f"{shown}{separator}{name}" if shown else name
    return shown


def require_declared_schema(resource_type: str, body: dict[str, Any]) -> None:
    """RFC 7643 §3: ``schemas`` lists the resource's core schema URI; without it the body is not that resource.

    Checked before the tolerances run, which drop unknown URIs that carry no data (Entra, docs/idp-tolerances.md
    row 29): a body declaring only unknown URIs would otherwise lose them all and pass as a resource.
    """
    core = schema_for(resource_type).core
    declared = next((value for key, value in body.items() if key.lower() == "schemas"), None)
    if not (isinstance(declared, list) and any(isinstance(u, str) and u.lower() == core.lower() for u in declared)):
        raise ScimError(400, f"'schemas' must list '{core}' (RFC 7643 §3); nothing was stored.", "invalidValue")
    if not all(isinstance(urn, str) for urn in declared):
        raise ScimError(400, "'schemas' must be a list of URIs; nothing was stored.", "invalidValue")


def validate_resource(resource_type: str, body: dict[str, Any], context: Context) -> Any:
    """The body as a model (400 with a SCIM error if it is not one). A Group's ``members`` in the model are a
    sample (see :func:`_sampled_members`): they are never stored from it, the service reads the ids from the body."""
    refuse_loose_booleans(resource_type, body)  # pydantic's lax mode would read "no" and 1 as booleans
    try:
        return model_for(resource_type).model_validate(_sampled_members(resource_type, body), scim_ctx=context)
    except (ValidationError, SCIMException) as exc:
        raise scim_error_from(exc) from exc


def _sampled_members(resource_type: str, body: dict[str, Any]) -> dict[str, Any]:
    """The body with one member of each shape in place of all of them, when every member is plain.

    A plain member is an object holding only ``value``, ``display`` and ``type``, each a string (what Entra ID and
    Okta send): scim2-models judges such an element by its keys alone (three optional strings), so one of each set
    of keys decides for the rest. Validating 10,000 of them cost 2.9 s of the single request; anything else
    (``$ref``, another spelling, a non-string) is validated in full, as before."""
    members = body.get("members") if resource_type == "Group" else None
    if not isinstance(members, list) or len(members) <= 1:
        return body
    shapes: dict[frozenset[str], dict[str, Any]] = {}
    for member in members:
        if not isinstance(member, dict) or not member.keys() <= _PLAIN_MEMBER_KEYS:
            return body
        if not all(isinstance(value, str) for value in member.values()):
            return body
        shapes.setdefault(frozenset(member), member)
    return {**body, "members": list(shapes.values())}


def stored_document(resource_type: str, model: Any) -> dict[str, Any]:
    """What the mirror keeps: the resource without server-computed parts and without the password, each value of
    a multi-valued attribute once (app/directory/duplicates.py) and only elements that hold a value
    (app/directory/empty_elements.py)."""
    document: dict[str, Any] = model.model_dump()
    for key in _STORED_EXCLUDE:
        document.pop(key, None)
    return without_duplicates(resource_type, without_empty_elements(resource_type, document))


@cache
def _patch_model(resource_type: str) -> Any:
    """The PatchOp model for the class :func:`model_for` gives (pydantic caches parametrised generics)."""
    return PatchOp[User[EnterpriseUser]] if resource_type == "User" else PatchOp[Group]


def apply_patch(resource_type: str, current: dict[str, Any], body: dict[str, Any]) -> tuple[Any, bool]:
    """The resource ``body`` (a normalised PatchOp) makes of ``current``, as a validated model, and whether it
    changed (the model is None when it did not: nothing is written)."""
    refuse_loose_patch_booleans(resource_type, body)
    simple = simple_patch(resource_type, current, body) if body.get("schemas") == [PatchOp.__schema__] else None
    if simple is None:
        return patched_by_model(resource_type, current, body)
    if simple == current:  # e.g. the value it holds already
        return None, False
    try:  # the common single-attribute PATCH, without the PatchOp machinery (see that module)
        return model_for(resource_type).model_validate(simple, scim_ctx=Context.RESOURCE_REPLACEMENT_REQUEST), True
    except (ValidationError, SCIMException) as exc:
        raise scim_error_from(exc) from exc


def patched_by_model(resource_type: str, current: dict[str, Any], body: dict[str, Any]) -> tuple[Any, bool]:
    """The general PATCH, through scim2-models' PatchOp (filters, multi-valued and complex targets, every error)."""
    model_type = model_for(resource_type)
    patch_type = _patch_model(resource_type)
    try:
        resource = model_type.model_validate(current)
        patch = patch_type.model_validate(body, scim_ctx=Context.RESOURCE_PATCH_REQUEST)
        changed = patch.patch(resource)
        if not changed:  # the stored resource as it was: validated when stored, and nothing is written
            return None, False
        # Re-validate so that a patch cannot leave the resource in a shape a POST would refuse.
        resource = model_type.model_validate(resource.model_dump(), scim_ctx=Context.RESOURCE_REPLACEMENT_REQUEST)
    except (ValidationError, SCIMException) as exc:
        raise scim_error_from(exc) from exc
    return resource, bool(changed)

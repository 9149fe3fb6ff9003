"""Editing a policy file from the program (``custos target add``, the app's policy editor) with tomlkit, so that
the operator's comments, ordering and layout survive: the file stays theirs, diffable in git.

Each function takes the policy text and returns the edited text; none checks the result (the loader does, with
line numbers, and the editor shows its messages live). An entry is changed *in place*, key by key: a key whose
value is unchanged keeps its line, its trailing comment and its neighbours, and a comment inside a table is never
lost because the table is rebuilt. Values are plain Python: text, lists of text, booleans, and dicts written as
inline tables (``{ period = "P30D", justification = "…" }``); ``None`` removes a key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import tomlkit
from tomlkit.container import Container
from tomlkit.items import AoT, Array, Comment, Item, Key, Null, Table, Whitespace

CONTACT_ROLES = ("controller", "joint_controller", "representative", "dpo")
CONTACT_FIELDS = ("name", "address", "email", "telephone")
# The loader's defaults: writing one of these where the key is absent would add a line that changes nothing.
_DEFAULTS: dict[str, object] = {"scope": "all", "resource": "User", "special_category": False}

Values = Mapping[str, Any]


# -- values -----------------------------------------------------------------------------------------------------
def _scalar(value: Any) -> Item:
    """Text holding double quotes is written as a literal string (``'title eq "Engineer"'``), as a person would,
    rather than with backslashes."""
    if isinstance(value, str) and '"' in value and "'" not in value and "\n" not in value:
        return tomlkit.string(value, literal=True)
    return tomlkit.item(value)


def _inline(values: Mapping[str, Any]) -> Item:
    """An inline table in the file's own style, ``{ key = value, … }`` (tomlkit's own omits the inner spaces)."""
    parts = ", ".join(f"{key} = {_scalar(value).as_string()}" for key, value in values.items())
    return tomlkit.parse(f"v = {{ {parts} }}\n" if parts else "v = {}\n")["v"]


def _item(value: Any, existing: Any = None) -> Item:
    if isinstance(value, Mapping):
        return _inline({k: v for k, v in value.items() if v not in ("", [], None)})
    if isinstance(value, list | tuple):
        if isinstance(existing, Array) and "\n" in existing.as_string():
            return _one_a_line(list(value), existing)  # a list written one item a line stays so
        array = tomlkit.array()
        array.extend(list(value))
        return array
    return _scalar(value)


def _one_a_line(values: list[Any], existing: Array | None = None) -> Item:
    """A multi-line array with the indentation the operator used (tomlkit's own indents by four)."""
    found = re.search(r"\n([ \t]+)\S", existing.as_string()) if existing is not None else None
    indent = found.group(1) if found else "  "
    lines = "".join(f"{indent}{tomlkit.item(value).as_string()},\n" for value in values)
    return tomlkit.parse(f"v = [\n{lines}]\n")["v"]


def _empty(value: Any) -> bool:
    if isinstance(value, Mapping):
        return all(_empty(v) for v in value.values())
    return value in ("", None) or (isinstance(value, list | tuple) and not value)


def _same(existing: Any, value: Any) -> bool:
    if isinstance(value, Mapping) and isinstance(existing, str):  # retention = "P30D" is { period = "P30D" }
        return {k: v for k, v in value.items() if not _empty(v)} == {"period": str(existing)}
    if isinstance(value, Mapping):
        return isinstance(existing, Mapping) and {k: v for k, v in existing.items() if not _empty(v)} == {
            k: v for k, v in value.items() if not _empty(v)
        }
    if isinstance(value, tuple):
        value = list(value)
    return bool(existing == value)


def update_table(table: Table | Container, values: Values) -> None:
    """Set each key of ``values`` in ``table``, touching only the keys whose value changes.

    An empty value (or a loader default) for a key the table does not hold adds nothing; ``None`` removes the key.
    """
    for key, value in values.items():
        present = key in table
        if value is None:
            if present:
                del table[key]
            continue
        if not present and (_empty(value) or _DEFAULTS.get(key, object()) == value):
            continue
        if present and _same(table[key], value):
            continue
        if present or not isinstance(table, Table):
            table[key] = _item(value, table[key] if present else None)
        else:
            _add_key(table, key, _item(value))


# A key added to an entry goes next to the key it qualifies, as a person would write it.
_NEXT_TO = {"types": "path"}


def _add_key(table: Table, key: str, item: Item) -> None:
    """Add ``key`` to an existing table: after its anchor (``types`` after ``path``), else after the last key but
    before the comments that end the table (tomlkit files the comments introducing the next table under this
    one: appended after them, the key would read as part of what they describe)."""
    anchor = _NEXT_TO.get(key)
    if anchor is not None and anchor in table:
        _insert_at(table.value, _position(table.value, anchor) + 1, key, item)
        return
    tail = _tail(table)
    table.add(key, item)
    for kept in tail:
        table.add(kept)


# -- finding entries --------------------------------------------------------------------------------------------
def _entries(document: Container, section: str) -> AoT:
    entries = document.get(section)
    if not isinstance(entries, AoT):
        entries = tomlkit.aot()
        document.append(section, entries)
    return entries


def _append_entry(entries: AoT, table: Table) -> None:
    """Append after the last entry, but before the comments that end it: those introduce what follows in the
    file (tomlkit reads a comment above ``[[attributes]]`` as the tail of the table before)."""
    tail: list[Comment | Whitespace] = []
    if len(entries):
        tail = _tail(entries[-1])
        while tail and isinstance(tail[0], Whitespace):
            entries[-1].add(tail.pop(0))  # the blank line that separated it from the next stays with it
        if not entries[-1].value.body or not isinstance(entries[-1].value.body[-1][1], Whitespace):
            entries[-1].add(tomlkit.nl())
    entries.append(table)
    entries[-1].add(tomlkit.nl())
    for item in tail:
        entries[-1].add(item)


def _index(entries: AoT, match: Mapping[str, Any]) -> int | None:
    for index, entry in enumerate(entries):
        if all(_key_value(entry, key) == value for key, value in match.items()):
            return index
    return None


def _key_value(entry: Table, key: str) -> Any:
    value = entry.get(key, _DEFAULTS.get(key, ""))
    return str(value).casefold() if key == "path" else value  # paths are case-insensitive, as the loader reads them


def _upsert(text: str, section: str, values: Values, match: Mapping[str, Any] | None) -> str:
    """Change the entry ``match`` selects in place (or append a new one when it selects none)."""
    document = tomlkit.parse(text)
    entries = _entries(document, section)
    index = _index(entries, match) if match else None
    if index is None:
        table = tomlkit.table()
        update_table(table, values)
        _append_entry(entries, table)
    else:
        update_table(entries[index], values)
    return tomlkit.dumps(document)


def _remove(text: str, section: str, match: Mapping[str, Any]) -> tuple[Container, bool]:
    """Remove one entry; the comments after its last key introduce what follows, so they move up, not out."""
    document = tomlkit.parse(text)
    entries = document.get(section)
    index = _index(entries, match) if isinstance(entries, AoT) else None
    if not isinstance(entries, AoT) or index is None:
        return document, False
    tail = _tail(entries[index])
    del entries[index]
    keeper = _previous_table(document, section, entries, index)
    if keeper is not None and any(isinstance(item, Comment) for item in tail):
        if not keeper.value.body or not isinstance(keeper.value.body[-1][1], Whitespace):
            keeper.add(tomlkit.nl())
        for item in tail:
            keeper.add(item)
    return document, True


def _tail(table: Table) -> list[Comment | Whitespace]:
    """The comments and blank lines after a table's last key (tomlkit files them under that table)."""
    body, tail = table.value.body, list[Comment | Whitespace]()
    while body and body[-1][0] is None and isinstance(item := body[-1][1], Comment | Whitespace):
        body.pop()  # tomlkit has no public way to move a comment
        tail.insert(0, item)
    return tail


def _previous_table(document: Container, section: str, entries: AoT, index: int) -> Table | None:
    """The table written just before entry ``index`` of ``section``, once that entry is gone."""
    if index > 0:
        return entries[index - 1]
    if len(entries):
        return None  # its comments sat between it and the next entry: they described it
    keys = list(document.keys())
    before = keys[: keys.index(section)]
    for key in reversed(before):
        value = document[key]
        if isinstance(value, Table):
            return value
        if isinstance(value, AoT) and len(value):
            return value[-1]
    return None


def _rename_references(document: Container, sections: Sequence[str], key: str, old: str, new: str | None) -> None:
    """Follow a renamed id into the lists (``purposes = [...]``) or values (``category = …``) that name it;
    ``new`` None drops it from lists (an entry left naming nothing is then the loader's to report)."""
    for section in sections:
        entries = document.get(section)
        if not isinstance(entries, AoT):
            continue
        for entry in entries:
            current = entry.get(key)
            if isinstance(current, list) and old in current:
                names = [new if name == old else name for name in current if new is not None or name != old]
                update_table(entry, {key: list(dict.fromkeys(names))})
            elif current == old and new is not None:
                update_table(entry, {key: new})


def entry_ids(text: str, section: str) -> list[str]:
    entries = tomlkit.parse(text).get(section)
    return [str(e.get("id", "")) for e in entries] if isinstance(entries, AoT) else []


def new_id(text: str, section: str, stem: str) -> str:
    """An id no entry of ``section`` uses yet: ``stem``, ``stem-2``, ``stem-3``…"""
    taken = set(entry_ids(text, section))
    number = 1
    while (candidate := stem if number == 1 else f"{stem}-{number}") in taken:
        number += 1
    return candidate


# -- the top of the file ----------------------------------------------------------------------------------------
def set_outside_schema(text: str, mode: str) -> str:
    document = tomlkit.parse(text)
    update_table(document, {"outside_schema": mode})
    return tomlkit.dumps(document)


def set_organisational_measures(text: str, measures: Sequence[str]) -> str:
    """The measures, one a line when there are several (as the shipped file writes them); blanks dropped."""
    document = tomlkit.parse(text)
    kept = [m.strip() for m in measures if m.strip()]
    existing = document.get("organisational_measures")
    if _same(existing, kept) or (existing is None and not kept):
        return text
    if len(kept) > 1:
        document["organisational_measures"] = _one_a_line(kept, existing if isinstance(existing, Array) else None)
    else:
        update_table(document, {"organisational_measures": kept})
    return tomlkit.dumps(document)


def set_contact(text: str, role: str, contact: Mapping[str, str]) -> str:
    """``[controller]``, ``[dpo]``, ``[representative]`` or ``[joint_controller]``. An optional role left wholly
    empty is removed rather than written as a table of empty strings; the controller and DPO tables stay, empty,
    for the Art. 30 record to ask for them."""
    if role not in CONTACT_ROLES:
        raise ValueError(f"not a contact role: {role}")
    document = tomlkit.parse(text)
    values = {field: contact.get(field, "").strip() for field in CONTACT_FIELDS}
    table = document.get(role)
    if _empty(values) and role not in ("controller", "dpo"):
        if table is not None:
            del document[role]
        return tomlkit.dumps(document)
    if not isinstance(table, Table):
        table = tomlkit.table()
        update_table(table, values)
        table.add(tomlkit.nl())
        _insert_table(document, role, table)
        return tomlkit.dumps(document)
        table = document[role]
    update_table(table, values)
    return tomlkit.dumps(document)


def _insert_table(document: Container, key: str, table: Table) -> None:
    """A new contact table goes after the other contacts (read together, as the Art. 30 record lists them),
    else before the first array of tables; appended only when the file has neither."""
    anchor = next((role for role in reversed(CONTACT_ROLES) if role in document and role != key), None)
    if anchor is not None:
        _insert_at(document, _position(document, anchor) + 1, key, table)
        return
    first_aot = next((k for k, v in document.items() if isinstance(v, AoT)), None)
    if first_aot is not None:
        _insert_at(document, _position(document, first_aot), key, table)
        return
    document.append(key, table)


def _position(container: Container, key: str) -> int:
    """Where ``key`` stands in the container's lines (comments and blank lines counted, unlike its keys)."""
    return next(i for i, (k, _item) in enumerate(container.body) if k is not None and k.key == key)


def _insert_at(container: Container, start: int, key: str, item: Item) -> None:
    """Put ``key`` at line ``start`` with tomlkit's public calls only (it has no public positional insert, and
    0.15.3 removed the private one this used): what stands from there on is taken out, by key where it has one,
    and added back after the new key, comments and blank lines included, so the text around it is unchanged."""
    body = container.body
    following = [(k, it) for k, it in body[start:] if not isinstance(it, Null)]
    for k, _it in following:
        if k is not None:
            container.remove(k)
    del body[start:]  # only placeholders and unkeyed lines are left there: no key points past ``start`` now
    container.add(key, item)
    for k, it in following:
        _add_back(container, k, it)


def _add_back(container: Container, key: Key | None, item: Item) -> None:
    """Add a line that was in the file back as it was: tomlkit's ``add`` puts a blank line before a table it finds
    glued to the line above, which a comment introducing that table is (it is filed under the table before)."""
    if key is None:
        container.add(item)
        return
    first = item[0] if isinstance(item, AoT) and len(item) else item
    indent = first.trivia.indent
    container.add(key, item)
    first.trivia.indent = indent


# -- purposes, categories, attributes, recipients ------------------------------------------------------------------
def set_purpose(text: str, values: Values, original_id: str | None = None) -> str:
    """Add or change one purpose; a changed id is followed into the attributes and recipients that name it."""
    text = _upsert(text, "purposes", values, {"id": original_id} if original_id else None)
    return _follow_rename(text, ("attributes", "recipients"), "purposes", original_id, values.get("id"))


def remove_purpose(text: str, purpose_id: str) -> str:
    document, removed = _remove(text, "purposes", {"id": purpose_id})
    if removed:
        _rename_references(document, ("attributes", "recipients"), "purposes", purpose_id, None)
    return tomlkit.dumps(document)


def set_category(text: str, values: Values, original_id: str | None = None) -> str:
    text = _upsert(text, "categories", values, {"id": original_id} if original_id else None)
    return _follow_rename(text, ("attributes",), "category", original_id, values.get("id"))


def remove_category(text: str, category_id: str) -> str:
    """The attributes in the category keep naming it: the loader then says which ones need another category."""
    document, _removed = _remove(text, "categories", {"id": category_id})
    return tomlkit.dumps(document)


def set_attribute(text: str, values: Values, original: tuple[str, str] | None = None) -> str:
    """Add or change one catalogue entry, found by (resource, path) as it was before the edit."""
    match = {"resource": original[0], "path": original[1].casefold()} if original else None
    return _upsert(text, "attributes", values, match)


def remove_attribute(text: str, resource: str, path: str) -> str:
    document, _removed = _remove(text, "attributes", {"resource": resource, "path": path.casefold()})
    return tomlkit.dumps(document)


def set_recipient(text: str, values: Values, original_id: str | None = None) -> str:
    """Add or change one recipient in place. ``scope`` is "all" or ``{ groups = [...], filter = "..." }``."""
    return _upsert(text, "recipients", values, {"id": original_id} if original_id else None)


def add_recipient(text: str, recipient: dict[str, Any]) -> str:
    """The policy text with ``recipient`` appended to ``[[recipients]]`` (replacing one with the same id)."""
    document = tomlkit.parse(text)
    recipients = _entries(document, "recipients")
    index = _index(recipients, {"id": recipient.get("id")})
    if index is not None:
        del recipients[index]
    table = tomlkit.table()
    for key, value in recipient.items():
        table.add(key, value)
    recipients.append(table)
    return tomlkit.dumps(document)


def remove_recipient(text: str, recipient_id: str) -> str:
    document, _removed = _remove(text, "recipients", {"id": recipient_id})
    return tomlkit.dumps(document)


def _follow_rename(text: str, sections: Sequence[str], key: str, old: str | None, new: object) -> str:
    if not old or not isinstance(new, str) or not new or new == old:
        return text
    document = tomlkit.parse(text)
    _rename_references(document, sections, key, old, new)
    return tomlkit.dumps(document)


def add_attribute(
    text: str,
    resource_type: str,
    path: str,
    category: str,
    purposes: list[str],
    justification: str,
    types: Sequence[str] = (),
) -> str:
    """The policy text with one more ``[[attributes]]`` entry, the operator's justification as a comment above its
    keys (the catalogue has no field for it; the comment keeps it next to the entry, in git and in the history).
    ``types``: hold only elements of these types (``types = ["work"]``); empty: every type."""
    document = tomlkit.parse(text)
    attributes = document.get("attributes")
    if not isinstance(attributes, AoT):
        attributes = tomlkit.aot()
        document.append("attributes", attributes)
    table = tomlkit.table()
    reason = " ".join(justification.split())  # one line: a newline would end the comment
    if reason:
        table.add(tomlkit.comment(f"Why: {reason}"))
    if resource_type != "User":
        table.add("resource", resource_type)
    table.add("path", path)
    if types:
        table.add("types", list(types))
    table.add("category", category)
    table.add("purposes", purposes)
    _append_entry(attributes, table)  # after the last entry, before the comments introducing the next section
    return tomlkit.dumps(document)


def change_attribute_with_reason(
    text: str, resource_type: str, path: str, values: Values, justification: str
) -> str:
    """Change an existing entry (``set_attribute``) and keep the operator's reason as a comment at its top, as
    ``add_attribute`` does for a new one: widening ``types = ["work"]`` to mobile says why, next to the entry."""
    text = set_attribute(text, values, (resource_type, path))
    reason = " ".join(justification.split())
    if not reason:
        return text
    document = tomlkit.parse(text)
    entries = document.get("attributes")
    index = _index(entries, {"resource": resource_type, "path": str(values.get("path", path)).casefold()}) if (
        isinstance(entries, AoT)
    ) else None
    if index is None or not isinstance(entries, AoT):
        return text
    body = entries[index].value.body
    first_key = next((n for n, (key, _item) in enumerate(body) if key is not None), 0)
    body.insert(first_key, (None, tomlkit.comment(f"Why: {reason}")))  # after earlier reasons; no public insert
    return tomlkit.dumps(document)

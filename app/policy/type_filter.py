"""Type filters: a catalogue entry that holds only some types of a multi-valued attribute (``phoneNumbers`` of
type ``work``, not ``mobile`` or ``fax``: where the data differs, the policy can tell them apart).

Only the schema's canonical types (RFC 7643 §4.1.2: work, home, mobile, fax…) can be named. ``type`` is text the
client chose; the audit trail records an element's type only when it is canonical (``[type not canonical]``
otherwise), so a filter on any other word could never be matched to what the trail shows, nor checked.

Paths carry the type as a SCIM value path, the notation the audit trail and the IdPs' consoles use:
``phoneNumbers[type eq "mobile"].value``. This module reads that notation back; it never sees a value.
"""

from __future__ import annotations

import re

from app.directory.schema import schema_for

NOT_CANONICAL = "[type not canonical]"
# An element with no type at all, of an attribute that has canonical types: with a type filter in the catalogue
# it is refused for that reason, and named so — as the bare attribute it read as if the attribute were not held,
# and an IdP instruction would have told to remove the very mapping the policy allows.
NO_TYPE = "[type missing]"
_QUALIFIER = re.compile(r'\[type eq "([^"]*)"\]|\[type not canonical\]|\[type missing\]')
# Group members carry a type (User or Group) too, but membership is held whole or not at all (the member table).
_NOT_FILTERABLE = frozenset({"members", "groups"})


def split_typed(path: str) -> tuple[str, str | None, bool]:
    """``phoneNumbers[type eq "mobile"].value`` → ("phoneNumbers.value", "mobile", True).

    The last item says whether the path carried a type qualifier at all: ``[type not canonical]`` and
    ``[type missing]`` give (…, None, True), a plain path (…, None, False).
    """
    found = _QUALIFIER.search(path)
    if found is None:
        return path, None, False
    return path[: found.start()] + path[found.end() :], found.group(1), True


def canonical_types(resource_type: str, attribute: str) -> tuple[str, ...]:
    """The types an entry for ``attribute`` (a top-level name, any case) may filter by; () when it has none."""
    if attribute.lower() in _NOT_FILTERABLE or attribute.lower().startswith("urn:"):
        return ()
    resolved = schema_for(resource_type).resolve(None, attribute, None)
    if resolved is None or not resolved.top.multi_valued:
        return ()
    type_def = resolved.top.sub.get("type")
    return tuple(type_def.canonical_values) if type_def is not None else ()


def filterable_attributes(resource_type: str) -> list[str]:
    """The attributes of ``resource_type`` a type filter applies to, for the loader's message."""
    schema = schema_for(resource_type)
    return [
        definition.name
        for definition in schema.attributes[schema.core].values()
        if canonical_types(resource_type, definition.name)
    ]

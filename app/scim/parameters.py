"""A request's query parameters, each one SCIM gives a meaning given at most once (decision 0048).

RFC 7644 does not say what a repeated parameter means, and each layer in front of the server (a proxy, a WAF, a
log) may read a different copy: ``?filter=…&filter=…`` was served with the last filter (Starlette's choice), which
need not be the one a WAF approved or a log recorded; ``?count=5&count=500`` silently gave 500. A repeat is
refused, as two ``Authorization`` headers are (app/scim/http.py).

``attributes`` and ``excludedAttributes`` are refused too rather than joined, although their value is a list:
RFC 7644 §3.9 gives each one comma-separated value, no IdP sends them twice, and one rule for every parameter
leaves nothing for a client, a proxy or this server to guess.

The error names the parameter, never its values (they may hold personal data).
"""

from __future__ import annotations

from collections.abc import Iterable

from app.directory.errors import ScimError, invalid_filter, invalid_value

# RFC 7644 §3.4.2 (filter, sortBy, sortOrder, startIndex, count), §3.9 (attributes), RFC 9865 (cursor).
SCIM_PARAMETERS = frozenset(
    ("filter", "sortBy", "sortOrder", "startIndex", "count", "cursor", "attributes", "excludedAttributes")
)


# A SCIM parameter's name in any case, to the spelling RFC 7644 writes it in.
_CANONICAL = {name.lower(): name for name in SCIM_PARAMETERS}


def single_parameters(items: Iterable[tuple[str, str]]) -> dict[str, str]:
    """The query parameters as a mapping, SCIM ones under their RFC spelling; 400 when one is given more than once.

    SCIM parameter names are matched case-insensitively, as the keys of a ``.search`` body are: an ignored
    ``?Filter=…`` would have answered with every resource instead of the filtered few, and ``?COUNT=6`` with the
    default page. So ``filter=…&Filter=…`` is a repeat. Other names are kept as sent.
    """
    found: dict[str, str] = {}
    for sent, value in items:
        name = _CANONICAL.get(sent.lower(), sent)
        if name in found and name in SCIM_PARAMETERS:
            raise _repeated(name)
        found[name] = value
    return found


def _repeated(name: str) -> ScimError:
    detail = f"The query parameter '{name}' is given more than once; give it once."
    return invalid_filter(detail) if name == "filter" else invalid_value(detail)

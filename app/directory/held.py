"""What a search asks of the agreed schema, and how the answer is worded.

The directory sits below the policy, so it names the question (``HeldSchema``) and the policy's Minimiser
(app/policy/minimise.py) answers it. A filter on something the mirror never stores can match nothing, and an
empty answer would read as "nobody has that": such a filter is refused with the reason instead (decision 0032 for
attributes, 0034 for types). The reason names schema paths and canonical types only, never a compared value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class Unheld:
    """The first thing a filter names that the agreed schema does not hold.

    ``path`` is an attribute path (``nickName``) or a typed one (``emails[type eq "home"]``; a type outside the
    schema's canonical types is ``emails[type not canonical]``, never the client's word). For a type,
    ``attribute`` and ``held_types`` say which types of the attribute are held.
    """

    path: str
    attribute: str | None = None
    held_types: tuple[str, ...] = ()

    @property
    def because(self) -> str:
        """`` (only emails of type work are held)`` for a type not held; empty for an attribute not held."""
        if not self.held_types:
            return ""
        return f" (only {self.attribute} of type {' or '.join(self.held_types)} are held)"

    def __str__(self) -> str:
        return self.path


class HeldSchema(Protocol):
    """What a search asks of the agreed schema: the first attribute (or type of one) a filter names that is not
    held. The policy's Minimiser is one."""

    def unheld_in_filter(self, resource_types: tuple[str, ...], node: Any) -> Unheld | None: ...

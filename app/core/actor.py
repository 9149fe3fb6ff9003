"""Who is acting, for the audit trail, carried through a request without threading it through every call.

The HTTP layer sets ``token:<name>`` per request; the command line and the app set ``operator:<name>``; jobs
use ``system:<job>``. Work handed to another thread must be run in a copied context (contextvars.copy_context).
"""

from __future__ import annotations

import getpass
import os
from contextvars import ContextVar

from app.core.errors import ConfigError

current_actor: ContextVar[str] = ContextVar("current_actor", default="system")


def operator_login(given: str | None = None) -> str:
    """Who is acting at this computer, for the audit trail: ``given`` (--operator), $CUSTOS_OPERATOR, or the login
    name. One rule for the command line and the app."""
    given = given or os.environ.get("CUSTOS_OPERATOR")
    if given:
        name = str(given)[:120]
        if not name.isprintable():
            # The name is the actor of every entry the command writes: a newline or an ESC in it went into the
            # trail and from there to `audit tail`, `policy list`, the SIEM lines and the XLSX timeline.
            raise ConfigError(
                "The operator name (--operator or $CUSTOS_OPERATOR) must be one line of printable characters: "
                "no line breaks, tabs or other control characters. Nothing was done."
            )
        return name
    try:
        return getpass.getuser()[:120]
    except (KeyError, OSError):
        return "unknown"

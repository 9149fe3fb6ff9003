"""Who is acting, for the audit trail, carried through a request without threading it through every call.

The HTTP layer sets ``token:<name>`` per request; the command line and the app set ``operator:<name>``; jobs
use ``system:<job>``. Work handed to another thread must be run in a copied context (contextvars.copy_context).
"""

from __future__ import annotations

import getpass
import os
from contextvars import ContextVar

current_actor: ContextVar[str] = ContextVar("current_actor", default="system")


def operator_login(given: str | None = None) -> str:
    """Who is acting at this computer, for the audit trail: ``given`` (--operator), $CUSTOS_OPERATOR, or the login
    name. One rule for the command line and the app."""
    given = given or os.environ.get("CUSTOS_OPERATOR")
    if given:
        return str(given)[:120]
    try:
        return getpass.getuser()[:120]
    except (KeyError, OSError):
        return "unknown"

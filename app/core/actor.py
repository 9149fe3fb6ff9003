"""Who is acting, for the audit trail, carried through a request without threading it through every call.

The HTTP layer sets ``token:<name>`` per request; the command line and the app set ``operator:<name>``; jobs
use ``system:<job>``. Work handed to another thread must be run in a copied context (contextvars.copy_context).
"""

from __future__ import annotations

from contextvars import ContextVar

current_actor: ContextVar[str] = ContextVar("current_actor", default="system")

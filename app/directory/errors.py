"""SCIM error responses (RFC 7644 §3.12). Details name attributes, never their values."""

from __future__ import annotations

from typing import Any

ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"


class ScimError(Exception):
    def __init__(
        self, status: int, detail: str, scim_type: str | None = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.scim_type = scim_type
        self.headers = headers or {}  # sent with the error response (Allow on 405, Retry-After on 507)

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"schemas": [ERROR_SCHEMA], "status": str(self.status), "detail": self.detail}
        if self.scim_type:
            body["scimType"] = self.scim_type
        return body


def invalid_filter(detail: str) -> ScimError:
    return ScimError(400, detail, "invalidFilter")


def invalid_value(detail: str) -> ScimError:
    return ScimError(400, detail, "invalidValue")


def invalid_syntax(detail: str) -> ScimError:
    return ScimError(400, detail, "invalidSyntax")


def invalid_cursor() -> ScimError:
    """RFC 9865 invalidCursor. A cursor issued before the server restarted is refused too (its key died with the
    process, app/directory/cursor_seal.py): "not valid for this query" alone sent an IdP's administrator looking
    for a fault in a walk that only had to start again."""
    return ScimError(
        400,
        "The cursor is not valid for this query: not one this server issued for it, or issued before the server "
        "restarted (cursors do not outlive it). Start the listing again without a cursor.",
        "invalidCursor",
    )


def not_found(resource_type: str) -> ScimError:
    return ScimError(404, f"{resource_type} not found")


STORAGE_RETRY_AFTER_SECONDS = 60


def storage_full() -> ScimError:
    """507 (RFC 4918 §11.5) with a hint when to retry: the write was not kept, and a retry will be once there is
    space again; the server needs no restart for that."""
    return ScimError(
        507,
        "The server's disk is full; nothing was stored. Retry later.",
        headers={"Retry-After": str(STORAGE_RETRY_AFTER_SECONDS)},
    )


def method_not_allowed(method: str, allowed: str) -> ScimError:
    """405 with the Allow header RFC 9110 §15.5.6 requires."""
    return ScimError(405, f"{method} is not supported here; use {allowed}.", headers={"Allow": allowed})

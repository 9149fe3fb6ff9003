"""Bulk operations (RFC 7644 §3.7): bulkId references, failOnErrors, and enforced limits."""

from __future__ import annotations

import re
from typing import Any

from app.scim.discovery import MAX_BULK_OPERATIONS
from app.scim.errors import ScimError
from app.scim.service import Preconditions, ScimService

BULK_REQUEST = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
BULK_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:BulkResponse"
_PATH = re.compile(r"^/(Users|Groups)(?:/([^/?#]+))?$")
_TYPES = {"Users": "User", "Groups": "Group"}
_BULK_REF = re.compile(r"^bulkId:(.+)$")


class _Unresolved(Exception):
    """The operation refers to a bulkId whose resource is not created yet."""


def _resolve_refs(value: Any, created: dict[str, str]) -> Any:
    if isinstance(value, str):
        match = _BULK_REF.match(value)
        if match:
            if match.group(1) not in created:
                raise _Unresolved(match.group(1))
            return created[match.group(1)]
        return value
    if isinstance(value, dict):
        return {k: _resolve_refs(v, created) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve_refs(v, created) for v in value]
    return value


def _resolve_path(path: str, created: dict[str, str]) -> str:
    """``/Users/bulkId:u1`` names the resource created by the operation with bulkId u1."""
    head, _, last = path.rpartition("/")
    return f"{head}/{_resolve_refs(last, created)}" if last.startswith("bulkId:") else path


def run_bulk(service: ScimService, body: Any) -> dict[str, Any]:
    if not isinstance(body, dict) or not isinstance(body.get("Operations"), list):
        raise ScimError(400, "A bulk request is a JSON object with an 'Operations' list.", "invalidSyntax")
    operations = body["Operations"]
    if len(operations) > MAX_BULK_OPERATIONS:
        raise ScimError(413, f"A bulk request holds at most {MAX_BULK_OPERATIONS} operations.", "tooMany")
    fail_on_errors = body.get("failOnErrors")
    if fail_on_errors is not None and (isinstance(fail_on_errors, bool) or not isinstance(fail_on_errors, int)):
        raise ScimError(400, "'failOnErrors' must be an integer.", "invalidValue")

    # All operations share one durable transaction; each runs in its own savepoint (RFC 7644 bulk is not atomic).
    return service.in_one_transaction(lambda: _run_all(service, operations, fail_on_errors))


def _run_all(service: ScimService, operations: list[Any], fail_on_errors: int | None) -> dict[str, Any]:
    created: dict[str, str] = {}
    results: list[dict[str, Any] | None] = [None] * len(operations)
    pending = list(range(len(operations)))
    errors = 0
    # Operations that refer to a bulkId created later are retried until no progress is made (RFC 7644 §3.7.2).
    while pending and (fail_on_errors is None or errors < fail_on_errors):
        deferred: list[int] = []
        for index in pending:
            if fail_on_errors is not None and errors >= fail_on_errors:
                break
            try:
                results[index] = _run_one(service, operations[index], created)
            except _Unresolved:
                deferred.append(index)
                continue
            if int(results[index]["status"]) >= 400:  # type: ignore[index]
                errors += 1
        if len(deferred) == len(pending):
            for index in deferred:
                results[index] = _failure(
                    operations[index], ScimError(409, "Unresolvable or circular bulkId reference.", "invalidValue")
                )
                errors += 1
            break
        pending = deferred
    return {"schemas": [BULK_RESPONSE], "Operations": [r for r in results if r is not None]}


def _failure(operation: Any, error: ScimError) -> dict[str, Any]:
    result: dict[str, Any] = {"status": str(error.status), "response": error.body()}
    if isinstance(operation, dict):
        result["method"] = str(operation.get("method", "")).upper()
        if operation.get("bulkId"):
            result["bulkId"] = operation["bulkId"]
    return result


def _run_one(service: ScimService, operation: Any, created: dict[str, str]) -> dict[str, Any]:
    try:
        if not isinstance(operation, dict):
            raise ScimError(400, "Each bulk operation is a JSON object.", "invalidSyntax")
        method = str(operation.get("method", "")).upper()
        bulk_id = operation.get("bulkId")
        match = _PATH.match(_resolve_path(str(operation.get("path", "")), created))
        if match is None:
            raise ScimError(400, "A bulk operation's path is /Users, /Groups or one of their resources.", "invalidPath")
        resource_type, resource_id = _TYPES[match.group(1)], match.group(2)
        data = _resolve_refs(operation.get("data"), created)
        preconditions = Preconditions(if_match=operation.get("version"))
        if method == "POST" and resource_id is None:
            if not bulk_id:
                raise ScimError(400, "A bulk POST needs a 'bulkId'.", "invalidValue")
            response = service.create(resource_type, data if isinstance(data, dict) else {})
            created[str(bulk_id)] = response.body["id"]  # type: ignore[index]
        elif method in ("PUT", "PATCH", "DELETE") and resource_id is not None:
            if method == "PUT":
                response = service.replace(
                    resource_type, resource_id, data if isinstance(data, dict) else {}, preconditions
                )
            elif method == "PATCH":
                response = service.patch(
                    resource_type, resource_id, data if isinstance(data, dict) else {}, preconditions
                )
            else:
                response = service.delete(resource_type, resource_id, preconditions)
        else:
            raise ScimError(400, f"Method {method or '(none)'} is not valid for this bulk path.", "invalidValue")
    except _Unresolved:
        raise
    except ScimError as error:
        return _failure(operation, error)
    result: dict[str, Any] = {"method": method, "status": str(response.status)}
    if bulk_id:
        result["bulkId"] = bulk_id
    if response.body is not None:
        result["location"] = response.body["meta"]["location"]
        result["version"] = response.body["meta"]["version"]
    elif resource_id is not None:
        result["location"] = f"{service.base_url}/{match.group(1)}/{resource_id}"
    return result

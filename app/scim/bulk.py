"""Bulk operations (RFC 7644 §3.7): bulkId references, failOnErrors, and enforced limits.

A Bulk is planned before it takes the single writer, and the writer then runs each operation once:

* every operation is checked on its own (shape, path, method, bulkId, Unicode text): a bad one fails alone;
* every ``POST`` with a ``bulkId`` is given its resource id up front, so references (``"bulkId:u1"`` in data or
  in the path) are replaced by ids before anything is written;
* the operations are ordered so that each runs after the operations whose resources it refers to, in the
  order the former pass-by-pass resolution produced (by pass, then by position); references to a bulkId that
  no operation creates, and cycles, fail with 409 without being attempted.

Resolving by re-running passes inside the transaction made a chain of 1,000 reversed references cost half a
million attempts while every other write waited (benchmarks/bench_bulk_chain.py). All operations still share
one durable transaction, each in its own savepoint, so a crash never leaves a Bulk half-done.
"""

from __future__ import annotations

import heapq
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from app.core.ids import new_resource_id
from app.directory.errors import ScimError
from app.directory.input_guard import has_unpaired_surrogate, patch_operations, refuse_too_many_patch_operations
from app.scim.discovery import MAX_BULK_OPERATIONS
from app.scim.service import Preconditions, ScimResponse, ScimService

BULK_REQUEST = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
BULK_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:BulkResponse"
_PATH = re.compile(r"^/(Users|Groups)(?:/([^/?#]+))?$")
_TYPES = {"Users": "User", "Groups": "Group"}
_BULK_REF = re.compile(r"^bulkId:(.+)$")
_METHODS = ("POST", "PUT", "PATCH", "DELETE")


@dataclass
class _Operation:
    """One operation as planned: what to run, what it refers to, or why it fails without running."""

    index: int
    method: str = ""
    bulk_id: str | None = None
    endpoint: str = ""
    resource_type: str = ""
    resource_id: str | None = None
    data: Any = None
    version: Any = None
    needs: set[str] = field(default_factory=set)  # bulkIds whose creation must come first
    created_id: str | None = None  # a POST's resource id, chosen before the writer is taken
    write: Callable[[], ScimResponse] | None = None  # a POST checked and validated before the writer is taken
    error: ScimError | None = None


def run_bulk(service: ScimService, body: Any) -> dict[str, Any]:
    if not isinstance(body, dict) or not isinstance(body.get("Operations"), list):
        raise ScimError(400, "A bulk request is a JSON object with an 'Operations' list.", "invalidSyntax")
    operations = body["Operations"]
    if len(operations) > MAX_BULK_OPERATIONS:
        raise ScimError(413, f"A bulk request holds at most {MAX_BULK_OPERATIONS} operations.")
    # Every PATCH of a Bulk runs in its one write transaction: their operations are bounded together.
    refuse_too_many_patch_operations(
        sum(len(patch_operations(op.get("data"))) for op in operations if isinstance(op, dict)
            and str(op.get("method", "")).upper() == "PATCH")
    )  # fmt: skip
    fail_on_errors = body.get("failOnErrors")
    if fail_on_errors is not None and (isinstance(fail_on_errors, bool) or not isinstance(fail_on_errors, int)):
        raise ScimError(400, "'failOnErrors' must be an integer.", "invalidValue")
    if fail_on_errors is not None and fail_on_errors < 1:  # 0 ran nothing and answered 200: an IdP took it as done
        raise ScimError(400, "'failOnErrors' must be 1 or more (the errors accepted before the rest is skipped).",
                        "invalidValue")  # fmt: skip

    planned = [_plan(index, operation) for index, operation in enumerate(operations)]
    creates = _assign_ids(planned)
    order = _order(planned, creates)
    for operation in planned:
        if operation.error is None:
            _substitute(operation, creates)
            _prepare(service, operation)
    # All operations share one durable transaction; each runs in its own savepoint (RFC 7644 bulk is not atomic).
    return service.in_one_transaction(lambda: _run_all(service, planned, order, creates, fail_on_errors))


# -- planning (before the writer is taken) -----------------------------------------------------------------
def _method_error(given: str, known: str) -> ScimError:
    """Why an operation's method does not fit. Before, GET, a missing and an unknown method all read "Method (none
    or unknown) is not valid for this bulk path"; an IdP trying a read in a Bulk was not told that Bulk has none.
    The method is named only when it is one of HTTP's (the text a client sent is never echoed)."""
    if given in ("GET", "HEAD"):
        return ScimError(
            400,
            f"Bulk does not support {given} (RFC 7644 §3.7): an operation's method is POST, PUT, PATCH or DELETE. "
            "Read resources with GET on /Users or /Groups.",
            "invalidValue",
        )
    if not known:
        return ScimError(400, "A bulk operation's 'method' is POST, PUT, PATCH or DELETE.", "invalidValue")
    return ScimError(
        400,
        f"Method {known} is not valid for this bulk path: POST goes to /Users or /Groups, PUT, PATCH and DELETE to "
        "one resource (/Users/{id} or /Groups/{id}).",
        "invalidValue",
    )


def _plan(index: int, raw: Any) -> _Operation:
    operation = _Operation(index)
    if not isinstance(raw, dict):
        operation.error = ScimError(400, "Each bulk operation is a JSON object.", "invalidSyntax")
        return operation
    bulk_id = raw.get("bulkId")
    if bulk_id is not None and (not isinstance(bulk_id, str) or not bulk_id or has_unpaired_surrogate(bulk_id)):
        operation.error = ScimError(400, "'bulkId' must be a non-empty string.", "invalidValue")
        return operation
    operation.bulk_id = bulk_id
    method = given.upper() if isinstance(given := raw.get("method"), str) else ""
    operation.method = method if method in _METHODS else ""  # echoed in the result: only a method we know
    if has_unpaired_surrogate(raw):
        operation.error = ScimError(
            400, "The operation holds an unpaired UTF-16 surrogate, which is not Unicode text.", "invalidValue"
        )
        return operation
    path = raw.get("path")
    match = _PATH.match(path) if isinstance(path, str) else None
    if match is None:
        operation.error = ScimError(
            400, "A bulk operation's path is /Users, /Groups or one of their resources.", "invalidPath"
        )
        return operation
    operation.endpoint, operation.resource_type = match.group(1), _TYPES[match.group(1)]
    operation.resource_id, operation.data, operation.version = match.group(2), raw.get("data"), raw.get("version")
    if operation.method not in _METHODS or (operation.method == "POST") != (operation.resource_id is None):
        operation.error = _method_error(method, operation.method)
        return operation
    if operation.method == "POST" and not bulk_id:
        operation.error = ScimError(400, "A bulk POST needs a 'bulkId'.", "invalidValue")
        return operation
    if operation.version is not None and not isinstance(operation.version, str):
        # An ETag the client meant as a precondition must not be dropped and the write done unguarded.
        operation.error = ScimError(400, "'version' must be an ETag string such as W/\"3\".", "invalidValue")
        return operation
    operation.needs = _references(operation.data)
    path_ref = _BULK_REF.match(operation.resource_id or "")
    if path_ref:
        operation.needs.add(path_ref.group(1))
    return operation


def _references(value: Any) -> set[str]:
    found: set[str] = set()
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            match = _BULK_REF.match(item)
            if match:
                found.add(match.group(1))
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def _assign_ids(planned: list[_Operation]) -> dict[str, tuple[int, str]]:
    """bulkId → (index of the POST that creates it, the id it will have). A bulkId is unique in a request."""
    creates: dict[str, tuple[int, str]] = {}
    for operation in planned:
        if operation.error is None and operation.method == "POST" and operation.bulk_id:
            if operation.bulk_id in creates:
                operation.error = ScimError(400, "This 'bulkId' is used by an earlier operation.", "invalidValue")
                continue
            operation.created_id = new_resource_id()
            creates[operation.bulk_id] = (operation.index, operation.created_id)
    return creates


def _order(planned: list[_Operation], creates: dict[str, tuple[int, str]]) -> list[int]:
    """Every index, creators before the operations that refer to them; unresolvable ones get their error.

    The order is the one pass-by-pass resolution gave: an operation runs in the first pass in which everything it
    refers to exists (a malformed one fails in the first), within a pass by position, and the unresolvable ones
    fail last. Kahn's algorithm finds the passes in one walk over the reference graph.
    """
    passes = {op.index: 1 for op in planned if op.error is not None}
    runnable = [op for op in planned if op.error is None]
    waiting: dict[int, int] = {}
    dependants: dict[int, list[int]] = defaultdict(list)
    for operation in runnable:
        if any(name not in creates for name in operation.needs):
            operation.error = _unresolvable()
            continue
        creators = {creates[name][0] for name in operation.needs}
        waiting[operation.index] = len(creators)
        for creator in creators:
            dependants[creator].append(operation.index)
    ready = [index for index, count in waiting.items() if count == 0]
    for index in ready:
        passes[index] = 1
    heap = [(1, index) for index in ready]
    heapq.heapify(heap)
    while heap:
        current_pass, index = heapq.heappop(heap)
        for dependant in dependants.get(index, []):
            if dependant not in waiting:
                continue  # refused for another reason
            # Created earlier in the same pass (smaller position) → same pass; otherwise the next one.
            needed = current_pass if index < dependant else current_pass + 1
            passes[dependant] = max(passes.get(dependant, 1), needed)
            waiting[dependant] -= 1
            if waiting[dependant] == 0:
                heapq.heappush(heap, (passes[dependant], dependant))
    for index, count in waiting.items():
        if count > 0:  # part of, or behind, a cycle
            planned[index].error = _unresolvable()
            passes.pop(index, None)
    resolved = sorted(passes, key=lambda index: (passes[index], index))
    return resolved + sorted(set(range(len(planned))) - set(passes))


def _unresolvable() -> ScimError:
    return ScimError(409, "Unresolvable or circular bulkId reference.", "invalidValue")


def _substitute(operation: _Operation, creates: dict[str, tuple[int, str]]) -> None:
    """Every ``bulkId:x`` becomes the id its POST will create; the POST itself learns its id."""

    def resolve(value: Any) -> Any:
        if isinstance(value, str):
            match = _BULK_REF.match(value)
            return creates[match.group(1)][1] if match else value
        if isinstance(value, dict):
            return {key: resolve(item) for key, item in value.items()}
        if isinstance(value, list):
            return [resolve(item) for item in value]
        return value

    if operation.needs:
        operation.data = resolve(operation.data)
        if operation.resource_id is not None:
            operation.resource_id = resolve(operation.resource_id)


def _prepare(service: ScimService, operation: _Operation) -> None:
    """Validate a POST or PUT body now, outside the writer; PATCH and DELETE need the stored resource first."""
    data = operation.data if isinstance(operation.data, dict) else {}
    try:
        if operation.method == "POST":
            operation.write = service.prepare_create(operation.resource_type, data, operation.created_id)
        elif operation.method == "PUT" and operation.resource_id is not None:
            guard = Preconditions(if_match=operation.version)
            operation.write = service.prepare_replace(operation.resource_type, operation.resource_id, data, guard)
    except ScimError as error:
        operation.error = error  # reported in its place in the run order; what refers to it then fails


# -- running (inside the writer) ---------------------------------------------------------------------------
def _run_all(
    service: ScimService,
    planned: list[_Operation],
    order: list[int],
    creates: dict[str, tuple[int, str]],
    fail_on_errors: int | None,
) -> dict[str, Any]:
    results: dict[int, dict[str, Any]] = {}
    failed: set[int] = set()
    errors = 0
    for index in order:
        if fail_on_errors is not None and errors >= fail_on_errors:
            break
        operation = planned[index]
        if operation.error is None and any(creates[name][0] in failed for name in operation.needs):
            operation.error = _unresolvable()  # what it refers to was not created
        results[index] = _failure(operation, operation.error) if operation.error else _run_one(service, operation)
        if int(results[index]["status"]) >= 400:
            errors += 1
            failed.add(index)
    return {"schemas": [BULK_RESPONSE], "Operations": [results[index] for index in sorted(results)]}


def _failure(operation: _Operation, error: ScimError) -> dict[str, Any]:
    result: dict[str, Any] = {"status": str(error.status), "response": error.body()}
    if operation.method:
        result["method"] = operation.method
    if operation.bulk_id:
        result["bulkId"] = operation.bulk_id
    return result


def _run_one(service: ScimService, operation: _Operation) -> dict[str, Any]:
    data = operation.data if isinstance(operation.data, dict) else {}
    preconditions = Preconditions(if_match=operation.version)
    try:
        response = _dispatch(service, operation, data, preconditions)
    except ScimError as error:
        return _failure(operation, error)
    result: dict[str, Any] = {"method": operation.method, "status": str(response.status)}
    if operation.bulk_id:
        result["bulkId"] = operation.bulk_id
    if response.body is not None:
        result["location"] = response.body["meta"]["location"]
        result["version"] = response.body["meta"]["version"]
    elif operation.resource_id is not None:
        result["location"] = f"{service.base_url}/{operation.endpoint}/{operation.resource_id}"
    return result


def _dispatch(
    service: ScimService, operation: _Operation, data: dict[str, Any], preconditions: Preconditions
) -> ScimResponse:
    kind, resource_id = operation.resource_type, operation.resource_id
    if operation.write is not None:
        return operation.write()
    assert resource_id is not None
    if operation.method == "PATCH":
        return service.patch(kind, resource_id, data, preconditions)
    return service.delete(kind, resource_id, preconditions)

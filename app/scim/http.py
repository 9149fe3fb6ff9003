"""The SCIM HTTP surface as an ASGI application (served by uvicorn, see docs/decisions/0001).

Handlers call the synchronous service directly on the event loop: SQLite allows one writer at a time
anyway, and avoiding a thread hop per request is what keeps the server fast on two cores.
Nothing here logs a query string or a body: both can carry personal data.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import json
import logging
import re
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, TypeVar

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from app.audit.recorder import AuditRecorder
from app.audit.trail import MEMBERS_READ, Event
from app.core.actor import current_actor
from app.core.errors import StorageFull, VaultError, VaultLocked
from app.core.events import EventBus, RequestServed
from app.directory.errors import ScimError, method_not_allowed, storage_full
from app.directory.input_guard import refuse_json_constant, refuse_repeated_names
from app.directory.projection import Projection, parse_list, wants_related
from app.directory.query import Listing, QueryParams
from app.scim import discovery
from app.scim.auth import Authenticator, Challenge, challenge
from app.scim.bulk import run_bulk
from app.scim.damage import UNAVAILABLE, DamageAlarm
from app.scim.failures import FailureTally
from app.scim.parameters import single_parameters
from app.scim.request_audit import KNOWN_METHODS, UNKNOWN_ROUTE, matched_route, throttled_event
from app.scim.service import Preconditions, ScimResponse, ScimService
from app.store.integrity import is_corruption

log = logging.getLogger(__name__)

SCIM_MEDIA_TYPE = "application/scim+json"
ACCEPTED_MEDIA_TYPES = ("application/scim+json", "application/json")
MAX_JSON_DEPTH = 32
BODY_TIMEOUT_SECONDS = 30.0
WRITE_WORKERS = 64  # writes in flight at once; they block on the group commit, not on CPU
T = TypeVar("T")
_RESOURCE_PATH = re.compile(r"^/(Users|Groups)(?:/([^/]+))?$")
_TYPES = {"Users": "User", "Groups": "Group"}
# RFC 7644 §3.11: a service provider without /Me answers 501 to it (every method); a token here names an IdP's
# provisioning client, not a person, so there is no "me" to serve. A 404 told clients the base URL was wrong.
_ME_NOT_IMPLEMENTED = "/Me is not implemented: a token here belongs to a provisioning client, not a person."


def _listed(request: Request, page: Listing) -> Response:
    """A ListResponse already encoded; the request notes how many resources it holds and matched, and which ones
    it returned (ids, turned into pseudonyms on the trail; never the data)."""
    request.state.results = (page.returned, page.total)
    request.state.returned_ids = page.ids
    request.state.members_read = page.members_read
    return Response(page.content, media_type=SCIM_MEDIA_TYPE)


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return _encoded(_encode(body), status, headers)


def _lists_members(request: Request, resource_type: str) -> bool:
    """Whether a read answers with groups' member lists: 50,000 members take about a second to read and encode, so
    such a read runs on a worker thread; on the event loop it held every other request for that long. Other reads
    stay on the loop (a thread hop would cost a user GET more than the read itself)."""
    query = _query(request)
    include, exclude = parse_list(query.get("attributes")), parse_list(query.get("excludedAttributes"))
    return resource_type == "Group" and wants_related("Group", include, exclude)


def _encode(body: Any) -> bytes:
    return b"" if body is None else json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def _encoded(content: bytes, status: int, headers: dict[str, str] | None) -> Response:
    return Response(content, status_code=status, headers=headers, media_type=SCIM_MEDIA_TYPE if content else None)


def _encoding(write: Callable[..., ScimResponse]) -> Callable[..., tuple[ScimResponse, bytes]]:
    """A write whose answer is also encoded on the worker thread: the answer to a PATCH of a group of 50,000
    members is 5 MB of JSON, and encoded on the event loop it stalled every other request for its duration."""

    def run(*args: Any) -> tuple[ScimResponse, bytes]:
        result = write(*args)
        return result, _encode(result.body)

    return run


def _error(error: ScimError, headers: dict[str, str] | None = None) -> Response:
    return _json(error.body(), error.status, {**error.headers, **(headers or {})} or None)


def _one_authorization(values: list[str]) -> str | None:
    """The request's one ``Authorization`` header, or ``None`` when it has none or several.

    Two headers are not two chances: each layer in front of the server (a proxy, a WAF, a log) may read a different
    one, and a request naming a wrong credential beside a right one is not one the IdP sends. Refused as malformed.
    """
    return values[0] if len(values) == 1 else None


def _depth(value: Any) -> int:
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        if isinstance(item, dict):
            stack.extend((child, level + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, level + 1) for child in item)
    return deepest


class ScimApp:
    def __init__(
        self,
        service: ScimService,
        authenticator: Authenticator,
        bus: EventBus,
        base_path: str = "/scim/v2",
        recorder: AuditRecorder | None = None,
        failures: FailureTally | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.service = service
        # Times a request's entry when it was answered: the recorder writes it later, in a batch (decision 0034).
        self.clock = clock or (lambda: datetime.now(UTC))
        self.authenticator = authenticator
        self.bus = bus
        self.recorder = recorder
        self.damage = DamageAlarm(bus)
        self.unavailable = DamageAlarm(bus, rule=UNAVAILABLE, met="vault unavailable: a request could not use it")
        self.failures = failures or FailureTally()  # written per minute by the recorder, if it polls this tally
        self.base_path = base_path.rstrip("/")
        self._writers = ThreadPoolExecutor(max_workers=WRITE_WORKERS, thread_name_prefix="custos-scim-write")
        # Reads that answer with groups' member lists (decision 0040): CPU-bound under one interpreter lock, so two.
        self._member_readers = ThreadPoolExecutor(max_workers=2, thread_name_prefix="custos-scim-members")

    async def __call__(self, scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        if scope["type"] != "http":
            return
        started = time.perf_counter()
        request = Request(scope, receive)
        try:
            response = await self._handle(request)
        except ScimError as error:
            response = _error(error)
        except VaultLocked:
            response = _error(ScimError(503, "The Custos vault is closed; try again later."), {"Retry-After": "60"})
        except StorageFull:
            response = _error(storage_full())
        except VaultError as exc:  # the vault file moved or deleted under serve (VaultGone), or no longer writable
            response = _error(*self._vault_unavailable(exc))
        except ClientDisconnect:
            return
        except Exception as exc:  # never a traceback in a response; log the frames but not the message
            if is_corruption(exc):  # a damaged vault page: 503 and an operator alert (app/scim/damage.py)
                response = _error(*self.damage.error())
            else:
                frames = "".join(traceback.format_tb(exc.__traceback__))
                log.error("internal error %s while serving %s\n%s", type(exc).__name__, request.method, frames)
                response = _error(ScimError(500, "Internal server error."))
        # Only authenticated requests get an entry of their own; failures are tallied per source and minute. The
        # entry is timed when the answer is complete and queued at once, before the await that sends it: no other
        # request's entry can come between its time and its place in the queue, so the recorder writes request
        # entries in the order of their times (decision 0034).
        if self.recorder is not None and getattr(request.state, "authenticated", False):
            answered, ready_ms = self.clock(), (time.perf_counter() - started) * 1000
            self.recorder.record(self._request_event(request, response.status_code, ready_ms, answered))
        await response(scope, receive, send)
        self.bus.publish(RequestServed(request.method, response.status_code, (time.perf_counter() - started) * 1000))

    def _vault_unavailable(self, exc: VaultError) -> tuple[ScimError, dict[str, str]]:
        """503, as for a damaged page: the IdP retries and keeps what it sent; the operator is told what to do
        (the message names files, never a person). Before: 500 and a traceback for every request."""
        return self.unavailable.error(exc.user_message)

    def _request_event(self, request: Request, status: int, duration_ms: float, answered: datetime) -> Event:
        """Who did what to which route, and how it ended, timed when the answer was ready to send (``duration_ms``:
        from receipt to then). Never the raw path, the query string or the body."""
        path = request.scope["path"]
        inside = path == self.base_path or path.startswith(self.base_path + "/")
        endpoint, resource_id = matched_route(path[len(self.base_path) :]) if inside else (UNKNOWN_ROUTE, None)
        details = {
            "method": request.method if request.method in KNOWN_METHODS else "other",
            "endpoint": endpoint,
            "status": status,
            "duration_ms": round(duration_ms, 2),
            "source": request.client.host if request.client else "unknown",
        }
        results = getattr(request.state, "results", None)
        if results is not None:  # a list or search: how many identities left, for the bulk-read alert
            details["results"], details["total_results"] = results
        # A HEAD is answered without its body (uvicorn drops it): nobody's data left, so it names no one it returned
        # and no member list; `breach scope` would otherwise count the people of every HEAD as read.
        sent_body = request.method != "HEAD"
        if sent_body and getattr(request.state, "members_read", False):  # the groups named went with their members
            details[MEMBERS_READ] = True
        outcome = "success" if status < 400 else "failure"
        returned = getattr(request.state, "returned_ids", ()) if sent_body else ()
        return Event(
            "scim.request", current_actor.get(), outcome, subject=resource_id, details=details, at=answered,
            subject_if_held=True, read_subjects=returned,
        )  # fmt: skip

    async def _handle(self, request: Request) -> Response:
        source = request.client.host if request.client else "unknown"
        values = request.headers.getlist("authorization")
        authorization = _one_authorization(values)
        client = self.authenticator.authenticate(authorization, source)
        if client is None:
            return self._unauthenticated(source, challenge(values), self.authenticator.refused_token(authorization))
        request.state.authenticated = True
        current_actor.set(f"token:{client.name}")
        path = request.scope["path"]
        if not path.startswith(self.base_path + "/") and path != self.base_path:
            raise ScimError(404, "Unknown endpoint.")
        return await self._route(request, path[len(self.base_path) :] or "/")

    def _unauthenticated(self, source: str, answer: Challenge, token: str | None = None) -> Response:
        """401 (400 when malformed), or 429 once the source (or everyone) failed too often; tallied, never written
        per request.

        The throttle is consulted only here, after the token failed: a valid token is never refused by it. The
        connection is closed after the answer: a client without a valid token gets no idle keep-alive (30 s) to hold
        a connection slot with, only the header deadline.
        """
        current_actor.set("anonymous")
        throttle = self.authenticator.throttle
        retry_after = throttle.retry_after(source)
        if self.recorder is not None:  # without a recorder nobody would take the tally out: keep none
            self.failures.note(source, throttled=retry_after is not None, token=token)
            self.recorder.start()  # the recorder writes the tally each minute
        if retry_after is not None:
            return _error(
                ScimError(429, "Too many failed authentications; slow down."),
                {"Retry-After": str(retry_after), "Connection": "close"},
            )
        for engaged in throttle.record_failure(source):
            log.warning("authentication failures throttled (%s): %d within %d s", engaged.scope, engaged.failures,
                        engaged.window_seconds)  # fmt: skip
            if self.recorder is not None:
                self.recorder.record(throttled_event(engaged, self.clock()))
        return _error(
            ScimError(answer.status, answer.detail),
            {"WWW-Authenticate": answer.www_authenticate, "Connection": "close"},
        )

    async def _route(self, request: Request, path: str) -> Response:
        method = "GET" if request.method == "HEAD" else request.method  # uvicorn sends HEAD without the body
        base = self.service.base_url
        if path in ("/ServiceProviderConfig", "/ResourceTypes", "/Schemas") or path.startswith(
            ("/ResourceTypes/", "/Schemas/")
        ):
            if method != "GET":
                raise method_not_allowed(request.method, "GET, HEAD")
            return _json(self._discovery(path, base))
        if path == "/Me" or path.startswith("/Me/"):
            raise ScimError(501, _ME_NOT_IMPLEMENTED)
        if path == "/Bulk":
            if request.method != "POST":
                raise _bulk_takes_post(request.method)
            return _json(await self._offload(run_bulk, self.service, await self._body(request)))
        if path == "/.search":
            self._require(request.method, "POST")
            params = QueryParams.from_search_body(await self._body(request))
            return _listed(request, self.service.search_listing(("User", "Group"), params))
        match = _RESOURCE_PATH.match(path)
        if match is None:
            raise ScimError(404, "Unknown endpoint.")
        resource_type, resource_id = _TYPES[match.group(1)], match.group(2)
        preconditions = Preconditions(request.headers.get("if-match"), request.headers.get("if-none-match"))
        if resource_id == ".search":
            self._require(request.method, "POST")
            params = QueryParams.from_search_body(await self._body(request))
            return _listed(request, self.service.search_listing((resource_type,), params))
        if resource_id is None:
            if method == "GET":
                params = QueryParams.from_query_string(_query(request))
                search = functools.partial(self.service.search_listing, (resource_type,), params)
                return _listed(
                    request, await self._off_the_loop(search) if _lists_members(request, resource_type) else search()
                )
            self._require(request.method, "POST", "GET, HEAD, POST")
            projection = _projection(request)
            body = await self._object_body(request)
            result = await self._offload(_encoding(self.service.create), resource_type, body, projection)
        elif method == "GET":
            query = _query(request)
            read = functools.partial(
                self.service.get_json,
                resource_type, resource_id, query.get("attributes"), query.get("excludedAttributes"), preconditions,
            )  # fmt: skip
            encoded = await self._off_the_loop(read) if _lists_members(request, resource_type) else read()
            request.state.members_read = encoded.members_read
            return Response(encoded.body, encoded.status, encoded.headers, SCIM_MEDIA_TYPE if encoded.body else None)
        elif method in ("PUT", "PATCH"):
            projection = _projection(request)
            body = await self._object_body(request)
            write = self.service.replace if method == "PUT" else self.service.patch
            result = await self._offload(_encoding(write), resource_type, resource_id, body, preconditions, projection)
            # The answer is the group with its whole member list unless the client left it out: a PATCH adding one
            # member shows every other one, a read as much as a GET. (A create's entry names no group, and its
            # answer lists whom the client sent.)
            request.state.members_read = result[0].status == 200 and _lists_members(request, resource_type)
        elif method == "DELETE":
            result = await self._offload(_encoding(self.service.delete), resource_type, resource_id, preconditions)
        else:
            raise method_not_allowed(request.method, "GET, HEAD, PUT, PATCH, DELETE")
        answer, content = result
        return _encoded(content, answer.status, answer.headers)

    async def _offload(self, function: Callable[..., T], *args: Any) -> T:
        """Writes wait for their group commit on a worker thread, so the loop keeps accepting requests and
        concurrent writes share one fsync (app/store/group_commit.py)."""
        context = contextvars.copy_context()  # carries the acting client to the audit trail
        writer = self.service.writer

        def call() -> T:
            with writer.arriving():  # a commit being gathered waits for this write while it is validated
                return context.run(function, *args)

        return await asyncio.get_running_loop().run_in_executor(self._writers, call)

    async def _off_the_loop(self, read: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._member_readers, read)

    def close(self) -> None:
        self._writers.shutdown(wait=True)
        self._member_readers.shutdown(wait=True)

    @staticmethod
    def _require(method: str, expected: str, allowed: str | None = None) -> None:
        if method != expected:
            raise method_not_allowed(method, allowed or expected)

    def _discovery(self, path: str, base: str) -> dict[str, Any]:
        if path == "/ServiceProviderConfig":
            return discovery.service_provider_config(base)
        if path == "/ResourceTypes":
            return discovery.list_response(discovery.resource_types(base))
        held = self.service.policy.get().minimiser
        if path == "/Schemas":
            return discovery.list_response(discovery.schemas(base, held))
        kind, _, identifier = path[1:].partition("/")
        documents = discovery.resource_types(base) if kind == "ResourceTypes" else discovery.schemas(base, held)
        return discovery.one(documents, identifier, kind[:-1])

    async def _object_body(self, request: Request) -> dict[str, Any]:
        body = await self._body(request)
        if not isinstance(body, dict):
            raise ScimError(400, "The request body must be a JSON object.", "invalidSyntax")
        return body

    async def _body(self, request: Request) -> Any:
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type and content_type not in ACCEPTED_MEDIA_TYPES:
            raise ScimError(415, f"Send the body as {SCIM_MEDIA_TYPE}.", "invalidSyntax")
        declared = request.headers.get("content-length")
        # ASCII digits only: str.isdigit() is true of "²", which int() refuses. httptools refuses such a header
        # before it gets here; this check does not rely on it.
        if declared and declared.isascii() and declared.isdigit() and int(declared) > discovery.MAX_PAYLOAD_BYTES:
            raise ScimError(413, f"The body exceeds {discovery.MAX_PAYLOAD_BYTES} bytes.")
        try:
            raw = await asyncio.wait_for(self._read_limited(request), BODY_TIMEOUT_SECONDS)
        except TimeoutError as exc:
            raise ScimError(408, "The request body was not received in time.") from exc
        if not raw:
            raise ScimError(400, "A JSON body is required.", "invalidSyntax")
        try:
            # UTF-8 only (RFC 8259 §8.1; a leading BOM is ignored, as §8.1 allows): json.loads() of bytes guesses
            # UTF-16 and UTF-32 too, so such a body was stored as if it had been sent in UTF-8. "surrogatepass"
            # lets an encoded lone surrogate reach input_guard, which names it.
            text = raw.decode("utf-8-sig", errors="surrogatepass")
        except UnicodeDecodeError as exc:
            raise ScimError(400, "The body is not UTF-8 text (RFC 8259 §8.1).", "invalidSyntax") from exc
        try:
            body = json.loads(text, parse_constant=refuse_json_constant, object_pairs_hook=refuse_repeated_names)
        except (ValueError, RecursionError) as exc:
            raise ScimError(400, "The body is not valid JSON.", "invalidSyntax") from exc
        if _depth(body) > MAX_JSON_DEPTH:
            raise ScimError(400, f"The body nests deeper than {MAX_JSON_DEPTH} levels.", "invalidSyntax")
        return body

    @staticmethod
    async def _read_limited(request: Request) -> bytes:
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > discovery.MAX_PAYLOAD_BYTES:
                raise ScimError(413, f"The body exceeds {discovery.MAX_PAYLOAD_BYTES} bytes.")
            chunks.append(chunk)
        return b"".join(chunks)


def _bulk_takes_post(method: str) -> ScimError:
    """405 with Allow, saying what Bulk is: before, "GET is not supported here; use POST." left a client that
    tried to read through /Bulk to guess why."""
    detail = f"Bulk does not support {method} (RFC 7644 §3.7): send a BulkRequest with POST."
    return ScimError(405, detail, headers={"Allow": "POST"})  # as method_not_allowed, RFC 9110 §15.5.6


def _projection(request: Request) -> Projection:
    """``attributes`` / ``excludedAttributes`` of a write (RFC 7644 §3.9), refused before the body is read when
    both are given."""
    query = _query(request)
    return Projection.of(query.get("attributes"), query.get("excludedAttributes"))


def _query(request: Request) -> dict[str, str]:
    """The query parameters; a SCIM parameter given twice is refused (app/scim/parameters.py)."""
    return single_parameters(request.query_params.multi_items())

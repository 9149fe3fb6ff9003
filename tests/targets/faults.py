"""A fault-injecting reverse proxy on loopback in front of a real SCIM target (scim2-server): what real downstream
applications do to a client. It forwards every request unless told otherwise, and can

- answer scripted errors instead of forwarding (``fail``: 500, 503 with Retry-After, 429, 401…), or a 204 that
  carried nothing out (a DELETE "done" while the account stays),
- add attributes to every User it returns (``extra``, sub-attributes merged into complex ones: an application
  holding more than it was sent),
- answer late, after the target carried the request out (``slow``: longer than the client waits),
- stop and start again on the same port (``stop``/``start``: connection refused meanwhile),
- ignore query parameters (``ignore``: a ``filter`` it does not support, a ``startIndex`` it does not page by) and
  leave fields out of its list answers (``omit``: a ``totalResults`` it does not give),
- treat a PUT of a User as a merge (``merge_put``: what the PUT leaves out stays, as some real applications do),
- answer every filtered GET with 501 Not Implemented (``cannot_filter``: a target without filtering).

It records each request's method and path (``log``); it never prints what it forwards."""

from __future__ import annotations

import asyncio
import json
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.loopback_app import LoopbackApp

_HOP = {"host", "content-length", "transfer-encoding", "connection", "content-encoding"}
_ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"


@dataclass
class Fault:
    method: str | None  # None: any method
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    scim_type: str | None = None
    html: str | None = None  # answered as an HTML page instead of a SCIM error (a proxy's or a load balancer's)
    path: str | None = None  # only a request whose path ends so ("/Schemas"); None: any path


class FaultProxy:
    def __init__(self, upstream: str, port: int | None = None, tls: tuple[Path, Path] | None = None) -> None:
        self.upstream = upstream.rstrip("/")
        self.tls = tls  # (certificate, key): served over HTTPS
        self.faults: deque[Fault] = deque()  # answered in order, each once, to the first request it matches
        self.extra: dict[str, Any] = {}  # merged into every User the target returns
        self.slow: dict[str, float] = {}  # method -> seconds its answer waits (carried out at the target first)
        self.ignore: set[str] = set()  # query parameters dropped before forwarding ("filter", "startIndex")
        self.omit: set[str] = set()  # fields taken out of every list answer ("totalResults")
        self.merge_put = False  # a PUT of a User keeps every attribute it does not name (sub-attributes too)
        self.cannot_filter = False  # a GET with a filter answers 501 Not Implemented (django-scim2 as installed)
        self.log: list[tuple[str, str]] = []
        methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
        app = Starlette(routes=[Route("/{path:path}", self._forward, methods=methods)])
        self._served = LoopbackApp(app, port or 0, tls)  # its port held from now on, across stop/start
        self.port = self._served.port

    @property
    def base_url(self) -> str:
        """The SCIM base URL (…/v2) through the proxy."""
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}/v2"

    def fail(self, method: str | None, status: int, times: int = 1, **options: Any) -> None:
        self.faults.extend(Fault(method, status, **options) for _ in range(times))

    def count(self, method: str) -> int:
        return sum(1 for m, _ in self.log if m == method)

    def start(self) -> FaultProxy:
        self._served.start()
        return self

    def stop(self) -> None:
        """Close the port: requests are refused until ``start``."""
        self._served.stop()

    def _scripted(self, method: str, path: str) -> Response | None:
        if not self.faults or self.faults[0].method not in (None, method):
            return None
        if self.faults[0].path is not None and not path.endswith(self.faults[0].path):
            return None
        fault = self.faults.popleft()
        if fault.status == 204:  # "deleted", though nothing was forwarded: a target that says so and keeps serving
            return Response(status_code=204, headers=fault.headers)
        if fault.html is not None:
            return Response(fault.html, fault.status, headers=fault.headers, media_type="text/html")
        body: dict[str, Any] = {"schemas": [_ERROR], "status": str(fault.status)}
        if fault.scim_type:
            body["scimType"] = fault.scim_type
        return Response(json.dumps(body), fault.status, headers=fault.headers, media_type="application/scim+json")

    async def _forward(self, request: Request) -> Response:
        self.log.append((request.method, request.url.path))
        scripted = self._scripted(request.method, request.url.path)
        if scripted is not None:
            return scripted
        if self.cannot_filter and "filter" in request.query_params:
            return Response(json.dumps({"schemas": [_ERROR], "status": "501"}), 501, media_type="application/scim+json")
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP}
        url = f"{self.upstream}/{request.path_params['path']}"
        content = await request.body()
        async with httpx.AsyncClient(timeout=10) as http:
            if self.merge_put and request.method == "PUT" and "/Users/" in url:
                content = await _merged(http, url, headers, content)
            params = {k: v for k, v in request.query_params.items() if k not in self.ignore}
            answer = await http.request(request.method, url, params=params, headers=headers, content=content)
        await asyncio.sleep(self.slow.get(request.method, 0.0))
        content = self._rewritten(answer) if request.method == "GET" else answer.content
        kept = {k: v for k, v in answer.headers.items() if k.lower() not in _HOP}
        return Response(content, answer.status_code, headers=kept)

    def _rewritten(self, answer: httpx.Response) -> bytes:
        if answer.status_code != 200 or not (self.extra or self.omit):
            return answer.content
        body = answer.json()
        for name in self.omit:
            body.pop(name, None)
        resources = body.get("Resources") if "Resources" in body else [body]
        for resource in resources or []:
            if "userName" in resource and self.extra:
                _merge(resource, json.loads(json.dumps(self.extra)))
        return json.dumps(body).encode()


async def _merged(http: httpx.AsyncClient, url: str, headers: dict[str, str], content: bytes) -> bytes:
    """A PUT's body laid over the account as held: what the PUT leaves out is kept (a merge, not a replacement)."""
    held = await http.get(url, headers=headers)
    if held.status_code != 200:
        return content
    current = {k: v for k, v in held.json().items() if k != "meta"}
    _merge(current, json.loads(content))
    return json.dumps(current).encode()


def _merge(resource: dict[str, Any], extra: dict[str, Any]) -> None:
    """Add ``extra`` to a resource, sub-attributes into the complex attributes it already holds."""
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(resource.get(key), dict):
            _merge(resource[key], value)
        else:
            resource[key] = value

"""A counting reverse proxy on loopback in front of a real SCIM target: it forwards every request, counts what the
target received per method, and can hold the answers to DELETEs or to other methods (already carried out at the
target): a test then kills the erasure worker between "the target deleted" and "the worker recorded it", or
requests an erasure between "the target created the account" and "the dispatcher recorded that push". It can also
hold requests before sending them on: a push that reaches the target only after an erasure deleted the account."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.loopback_app import LoopbackApp

_HOP = {"host", "content-length", "transfer-encoding", "connection"}


class CountingProxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.received: Counter[str] = Counter()  # carried out by the target (counted on its answer), by method
        self.hold_deletes = threading.Event()  # set: DELETE answers wait until released
        self.hold_methods: set[str] = set()  # answers to these methods wait until released too
        self.hold_before: set[str] = set()  # requests of these methods wait until released, before they are sent on
        self.waiting: Counter[str] = Counter()  # requests held before forwarding, by method
        self._released = threading.Event()
        methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
        app = Starlette(routes=[Route("/{path:path}", self._forward, methods=methods)])
        self._served = LoopbackApp(app)  # its port held from now on, across stop/start
        self.port = self._served.port

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> CountingProxy:
        self._served.start()
        return self

    def release(self) -> None:
        self.hold_deletes.clear()
        self._released.set()

    def stop(self) -> None:
        self.release()
        self._served.stop()

    async def _forward(self, request: Request) -> Response:
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP}
        url = f"{self.upstream}/{request.path_params['path']}"
        if request.method in self.hold_before:  # e.g. a push on its way while an erasure deletes the account first
            self.waiting[request.method] += 1
            while not self._released.is_set():
                await asyncio.sleep(0.02)
        async with httpx.AsyncClient(timeout=10) as http:
            answer = await http.request(
                request.method, url, params=request.query_params, headers=headers, content=await request.body()
            )
        self.received[request.method] += 1
        held = request.method == "DELETE" and self.hold_deletes.is_set()
        if held or request.method in self.hold_methods:
            while not self._released.is_set():  # e.g. the worker is killed meanwhile; this answer reaches nobody
                await asyncio.sleep(0.02)
        kept = {k: v for k, v in answer.headers.items() if k.lower() not in _HOP | {"content-encoding"}}
        return Response(answer.content, answer.status_code, headers=kept)

"""A tiny SCIM target on loopback whose answers a test scripts: a target that keeps the user after DELETE,
answers 429 with Retry-After, or fails with 500. It records every request it gets (method and path)."""

from __future__ import annotations

import json
import uuid
from collections import deque
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.loopback_app import LoopbackApp

SCIM = "application/scim+json"


class StubTarget:
    def __init__(self, name: str = "stub", keeps_deleted: bool = False) -> None:
        self.name = name
        self.token = f"token-{name}"
        self.keeps_deleted = keeps_deleted  # answers DELETE 204 yet still serves the account
        self.users: dict[str, dict[str, Any]] = {}
        # Answers to give before behaving normally: (method or None for any, status, headers), in order.
        self.script: deque[tuple[str | None, int, dict[str, str]]] = deque()
        self.log: list[tuple[str, str]] = []
        app = Starlette(
            routes=[
                Route("/v2/Users", self._collection, methods=["GET", "POST"]),
                Route("/v2/Users/{rid}", self._item, methods=["GET", "PUT", "PATCH", "DELETE"]),
            ]
        )
        self._served = LoopbackApp(app)  # its port held from now on, across stop/start
        self.port = self._served.port

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v2"

    def start(self) -> StubTarget:
        self._served.start()
        return self

    def stop(self) -> None:
        self._served.stop()

    def add_user(self, user_name: str) -> str:
        rid = uuid.uuid4().hex
        self.users[rid] = {"id": rid, "userName": user_name, "active": True}
        return rid

    def count(self, method: str) -> int:
        return sum(1 for m, _ in self.log if m == method)

    def _scripted(self, method: str) -> Response | None:
        if not self.script or self.script[0][0] not in (None, method):
            return None
        _, status, headers = self.script.popleft()
        body = json.dumps({"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": str(status)})
        return Response(body, status, headers=headers, media_type=SCIM)

    async def _collection(self, request: Request) -> Response:
        self.log.append((request.method, request.url.path))
        scripted = self._scripted(request.method)
        if scripted is not None:
            return scripted
        if request.method == "POST":
            body = await request.json()
            rid = self.add_user(str(body.get("userName")))
            return Response(json.dumps(self.users[rid]), 201, media_type=SCIM)
        listing = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], "totalResults": 0}
        return Response(json.dumps({**listing, "Resources": []}), 200, media_type=SCIM)

    async def _item(self, request: Request) -> Response:
        self.log.append((request.method, request.url.path))
        scripted = self._scripted(request.method)
        if scripted is not None:
            return scripted
        rid = request.path_params["rid"]
        user = self.users.get(rid)
        if user is None:
            return Response(json.dumps({"status": "404"}), 404, media_type=SCIM)
        if request.method == "DELETE":
            if not self.keeps_deleted:
                del self.users[rid]
            return Response(status_code=204)
        if request.method == "PATCH":
            user["active"] = False
        return Response(json.dumps(user), 200, media_type=SCIM)

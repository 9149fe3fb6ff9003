"""Talking SCIM 2.0 to one downstream target with httpx: authentication, TLS, and errors sorted by what to do.

``Retryable`` (connection trouble, timeouts, 5xx, 429 with its Retry-After) is tried again later;
``Rejected`` (other 4xx) needs an operator. Messages carry status codes and SCIM error types, never bodies:
a target's error detail may quote the personal data we sent.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import ssl
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from app.targets.config import TargetConfig

SCIM_JSON = "application/scim+json"
CONNECT_TIMEOUT = 5.0  # seconds to connect, whatever the target's timeout (a shorter timeout caps it)


def timeout_for(config: TargetConfig) -> httpx.Timeout:
    """The target's own timeout (``target add/edit --timeout``, 15 s unless set) for each read, write and wait
    for a connection from the pool; connecting takes at most 5 s of it. It was one constant for every target: a
    slow one on a bad link could not be given longer, nor a hung one held for less."""
    return httpx.Timeout(config.timeout, connect=min(CONNECT_TIMEOUT, config.timeout))


class TargetError(Exception):
    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class Retryable(TargetError):
    def __init__(
        self, message: str, status: int | None = None, retry_after: float | None = None, *, sent: bool = True
    ) -> None:
        super().__init__(message, status)
        self.retry_after = retry_after
        # False: no connection was made (refused, unreachable, TLS handshake failed), so the request cannot have
        # changed anything at the target. An erasure retry then need not read first: nothing may have deleted.
        self.sent = sent


class Rejected(TargetError):
    pass


# What an operator reads in a target's "Last error" (the Targets page, `target list`): Python class names such as
# "ConnectError" said nothing to a DPO. Names not listed here stay as they are; no message carries a URL or a body.
_TROUBLE = {
    httpx.ConnectError: "cannot connect to the target (is it running, and is the address right?)",
    httpx.RemoteProtocolError: "the target closed the connection without answering",
    httpx.ReadError: "the connection broke while reading the answer",
    httpx.WriteError: "the connection broke while sending",
    httpx.ProxyError: "the proxy refused the connection",
    httpx.UnsupportedProtocol: "the URL's scheme is not HTTP or HTTPS",
}


def trouble(exc: BaseException) -> str:
    """Connection trouble in words; the exception's class name where no words are known."""
    for kind, words in _TROUBLE.items():
        if isinstance(exc, kind):
            return words
    return type(exc).__name__


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any] | None
    digest: str  # SHA-256 of the response body: evidence of what the target answered, without keeping it


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date; the backoff schedule applies instead


def _ssl_context(config: TargetConfig) -> ssl.SSLContext | bool:
    if not config.base_url.startswith("https://"):
        return True
    context = ssl.create_default_context(cafile=config.ca_file) if config.ca_file else ssl.create_default_context()
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if config.pinned_sha256:
        # A pinned self-signed certificate: the pin replaces CA validation, checked on every connection.
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


class TargetClient:
    def __init__(self, config: TargetConfig, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.config = config
        self._http = httpx.AsyncClient(
            base_url=config.base_url,
            verify=_ssl_context(config),
            timeout=timeout_for(config),
            transport=transport,
            limits=httpx.Limits(max_connections=config.max_concurrency),
            headers={"Accept": SCIM_JSON},
        )
        self._oauth_token: tuple[str, float] | None = None
        self._pin_checked = False

    async def close(self) -> None:
        await self._http.aclose()

    # -- authentication --------------------------------------------------------------------------------
    async def _verify_pin_once(self) -> None:
        """Check a pinned certificate on a bare TLS connection before any credential is sent over one."""
        if self._pin_checked or not self.config.pinned_sha256:
            return
        parts = urlsplit(self.config.base_url)
        context = _ssl_context(self.config)
        assert isinstance(context, ssl.SSLContext)
        try:
            _reader, writer = await asyncio.wait_for(
                asyncio.open_connection(parts.hostname, parts.port or 443, ssl=context),
                timeout=min(CONNECT_TIMEOUT, self.config.timeout),
            )
        except (OSError, TimeoutError) as exc:
            raise Retryable(f"TLS connection failed ({exc.strerror or type(exc).__name__})", sent=False) from exc
        der = writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
        writer.close()
        if hashlib.sha256(der or b"").hexdigest() != self.config.pinned_sha256.replace(":", "").lower():
            raise Rejected("the target's certificate does not match the pinned fingerprint")
        self._pin_checked = True

    async def _auth_header(self) -> dict[str, str]:
        await self._verify_pin_once()
        if self.config.auth_kind == "bearer":
            return {"Authorization": f"Bearer {self.config.secret}"}
        if self.config.auth_kind == "oauth2":
            if self._oauth_token is None or self._oauth_token[1] <= time.monotonic():
                self._oauth_token = await self._fetch_oauth_token()
            return {"Authorization": f"Bearer {self._oauth_token[0]}"}
        return {}

    async def _fetch_oauth_token(self) -> tuple[str, float]:
        credentials = f"{self.config.oauth_client_id}:{self.config.secret}".encode()
        data = {"grant_type": "client_credentials"}
        if self.config.oauth_scope:
            data["scope"] = self.config.oauth_scope
        try:
            response = await self._http.post(
                str(self.config.oauth_token_url),
                data=data,
                headers={"Authorization": "Basic " + base64.b64encode(credentials).decode()},
            )
        except httpx.HTTPError as exc:
            raise Retryable(f"token endpoint unreachable ({trouble(exc)})") from exc
        if response.status_code != 200:
            raise Rejected(f"token endpoint answered {response.status_code}", response.status_code)
        body = response.json()
        lifetime = float(body.get("expires_in", 300))
        return str(body["access_token"]), time.monotonic() + max(30.0, lifetime - 30.0)

    # -- requests --------------------------------------------------------------------------------------
    async def request(self, method: str, path: str, body: dict[str, Any] | None = None, **params: str) -> Answer:
        headers = await self._auth_header()
        if body is not None:
            headers["Content-Type"] = SCIM_JSON
        try:
            response = await self._http.request(method, path, json=body, params=params or None, headers=headers)
        except httpx.TimeoutException as exc:
            connecting = isinstance(exc, httpx.ConnectTimeout)
            waited = min(CONNECT_TIMEOUT, self.config.timeout) if connecting else self.config.timeout
            # how long it waited: the target's own timeout (target edit --timeout), so the operator can weigh it
            raise Retryable(
                f"{method} timed out (no {'connection' if connecting else 'answer'} within {waited:g} s)",
                sent=not connecting,
            ) from exc
        except httpx.HTTPError as exc:
            sent = not isinstance(exc, httpx.ConnectError)  # raised only while connecting: nothing was sent
            raise Retryable(f"{method} failed: {_failure(exc)}", sent=sent) from exc
        self._check_pin(response)
        status = response.status_code
        digest = hashlib.sha256(response.content).hexdigest()
        if status == 429 or status >= 500:
            raise Retryable(f"{method} answered {status}", status, _retry_after(response.headers.get("Retry-After")))
        if 300 <= status < 400:
            # Never followed: the credential would go wherever it points. A PUT answered so changed nothing, and
            # was recorded as "replaced"; the test connection said "Connected" to a target it had not read.
            raise Rejected(f"{method} answered {status} (a redirect, not followed: is the URL right?)", status)
        if status >= 400 and status != 404:
            raise Rejected(f"{method} answered {status}{_why(status, response)}", status)
        parsed = response.json() if response.content and "json" in response.headers.get("content-type", "") else None
        return Answer(status, parsed if isinstance(parsed, dict) else None, digest)

    def _check_pin(self, response: httpx.Response) -> None:
        if not self.config.pinned_sha256:
            return
        stream = response.extensions.get("network_stream")
        ssl_object = stream.get_extra_info("ssl_object") if stream is not None else None
        der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
        expected = self.config.pinned_sha256.replace(":", "").lower()
        if der is None or hashlib.sha256(der).hexdigest() != expected:
            raise Rejected("the target's certificate does not match the pinned fingerprint")

    # -- SCIM operations -------------------------------------------------------------------------------
    async def find(self, resource_type: str, attribute: str, value: str) -> str | None:
        """The id at the target of the resource whose ``attribute`` equals ``value``, if any."""
        found = await self.lookup(resource_type, attribute, value)
        return None if found is None else str(found["id"])

    async def lookup(self, resource_type: str, attribute: str, value: str) -> dict[str, Any] | None:
        """The resource at the target whose ``attribute`` equals ``value``, if any (as the target answered it).

        Only an account that holds the value is a match: a target that ignores the filter (it does not support
        filtering, or a gateway drops the query) answers with its whole list, whose first account was taken for
        the subject's, adopted, and overwritten with the subject's data."""
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        try:
            answer = await self.request("GET", f"/{resource_type}s", filter=f'{attribute} eq "{escaped}"')
        except Retryable as exc:
            if exc.status == 501:  # it cannot filter (RFC 7644 §3.12; django-scim2 unless configured): nothing found
                return None  # here. Retried, the push never reached its create: no group and no retry ever did.
            raise
        resources = (answer.body or {}).get("Resources") or []
        if answer.status != 200 or not isinstance(resources, list):
            return None
        for resource in resources:
            if isinstance(resource, dict) and resource.get("id") and _same(attribute, resource.get(attribute), value):
                return resource
        return None

    async def create(self, resource_type: str, payload: dict[str, Any]) -> Answer:
        return await self.request("POST", f"/{resource_type}s", payload)

    async def replace(self, resource_type: str, remote_id: str, payload: dict[str, Any]) -> Answer:
        return await self.request("PUT", f"/{resource_type}s/{remote_id}", payload)

    async def delete(self, resource_type: str, remote_id: str) -> Answer:
        return await self.request("DELETE", f"/{resource_type}s/{remote_id}")

    async def get(self, resource_type: str, remote_id: str) -> Answer:
        return await self.request("GET", f"/{resource_type}s/{remote_id}")

    async def discovery(self) -> dict[str, Any]:
        """The target's ServiceProviderConfig and Schemas. An answer that is not SCIM is refused: a 404 from a
        wrong base path, or a sign-in page answered 200, read as an empty configuration, was called "Connected"
        with every mapped attribute "NOT SUPPORTED", sending the operator after the mapping instead of the URL."""
        config = await self._discovery_read("/ServiceProviderConfig")
        if config.status != 200 or config.body is None:
            what = f"answered {config.status}" if config.status != 200 else "answered 200 with no SCIM JSON"
            raise Rejected(f"GET /ServiceProviderConfig {what} (is the URL the SCIM base, e.g. …/scim/v2?)",
                           config.status)  # fmt: skip
        schemas = await self._discovery_read("/Schemas")
        return {"config": config.body, "schemas": (schemas.body or {}).get("Resources") or []}

    async def _discovery_read(self, path: str) -> Answer:
        """A discovery GET; a refused credential is said with the request refused (method and path on the target,
        never the credential) and what to check: "GET answered 403" left the operator guessing which request, and
        whether the token was wrong or only not allowed there. Only discovery paths are named: a push's path holds
        the account's id at the target, which its error (stored, shown) must not carry."""
        try:
            return await self.request("GET", path)
        except Rejected as exc:
            if exc.status not in CREDENTIAL_ADVICE:
                raise
            said = str(exc).removeprefix("GET ")
            on_target = urlsplit(self.config.base_url).path.rstrip("/") + path
            advice = NO_CREDENTIAL_ADVICE if self.config.auth_kind == "none" else CREDENTIAL_ADVICE[exc.status]
            raise Rejected(f"GET {on_target} {said}: {advice}", exc.status) from None


# What a refused credential asks the operator to check, in no front end's words (each shows the same text).
CREDENTIAL_ADVICE = {
    401: "check the token or client secret set for this target, and that the target has not revoked it or let it "
    "expire",
    403: "check that its account at the target may read the SCIM configuration and manage Users and Groups (its "
    "role or scope), and that it is the credential meant for this target",
}
NO_CREDENTIAL_ADVICE = "the target asks for a credential and none is set for this target (authentication: none)"


def _same(attribute: str, held: object, value: str) -> bool:
    """``held`` equals ``value`` as the target compares them: externalId exactly, userName and displayName without
    regard to case (RFC 7643 §4.1.1: caseExact false)."""
    if not isinstance(held, str):
        return False
    return held == value if attribute == "externalId" else held.casefold() == value.casefold()


def _failure(exc: BaseException) -> str:
    """Why a request failed, in words an operator can act on: a certificate the target presented that is not
    trusted (another certificate, a name it is not valid for, expired) said so, not "ConnectError" — which the
    Targets page and ``target test`` showed as "Cannot reach", sending the operator after the network."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return f"the target's TLS certificate is not trusted ({str(cause.verify_message)[:80]})"
        cause = cause.__cause__ or cause.__context__
    return trouble(exc)


def _why(status: int, response: httpx.Response) -> str:
    """What a refusal means, in brackets: the SCIM error type, or what a 401/403 says about the credential."""
    scim_type = _scim_type(response)
    if scim_type:
        return f" ({scim_type})"
    return " (the target refused the credential)" if status in (401, 403) else ""


# The error types RFC 7644 §3.12 defines, and those of cursor pagination (RFC 9865 §3.2). The word goes on the
# trail, the SIEM feed and the Targets page: a target's own text in its place (a value it echoes from the
# request, a name) would put what the target chose there, so only a defined type is repeated.
SCIM_ERROR_TYPES = frozenset({
    "invalidFilter", "tooMany", "uniqueness", "mutability", "invalidSyntax", "invalidPath", "noTarget",
    "invalidValue", "invalidVers", "sensitive", "invalidCursor", "expiredCursor", "invalidCount",
})  # fmt: skip


def _scim_type(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    value = body.get("scimType") if isinstance(body, dict) else None
    return value if isinstance(value, str) and value in SCIM_ERROR_TYPES else None

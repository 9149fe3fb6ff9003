"""Issue 11 §6-§7 and beyond, tried from outside: every hostile input against the real headless server.

Starts ``main.py serve --port 0`` on loopback (HTTPS, self-signed) on a throwaway data folder, creates a token
with the CLI, sends each case of the table below once (bounded: a few hundred requests in all), and prints per
case the status, the scimType and whether the store changed when the request was refused. At the end: the
number of cases, the 5xx seen, the cases whose answer was not the expected one, and whether the server's stderr
or the audit trail (`audit tail`) holds a traceback, a token or one of the personal values sent.
The §1-§5 figures (trail blinding, revocation, throttle, flood, slowloris, big header) are printed by
``bench_hostile_auth.py``; this script covers the inputs. It is a script, not a test.

    .venv/bin/python benchmarks/probe_issue11.py            # about 30 s
    .venv/bin/python benchmarks/probe_issue11.py --verbose  # one line per case
"""

# ruff: noqa: UP031, E501  (JSON texts kept as sent, escapes included; one case a line where it fits)
from __future__ import annotations

import argparse
import base64
import contextlib
import json
import socket
import ssl
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_hostile_auth import Server, cli, create_token

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
BULK = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
SEARCH = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
JSON = {"Content-Type": "application/scim+json"}
MARKER = "probe-secret-value"  # a personal value that must never reach a log line or an event


@dataclass
class Case:
    name: str
    method: str
    path: str  # relative to /scim/v2, may contain {id}
    body: bytes | None = None
    headers: dict[str, str] | None = None
    expect: tuple[int, ...] = (400,)
    scim_type: str | None = None
    writes: bool = False  # True when the request is expected to store something (status 2xx)


def raw(text: str) -> bytes:
    """A JSON text as bytes, kept exactly (json.dumps would escape or refuse what the case is about)."""
    return text.encode("utf-8")


def body(value: Any) -> bytes:
    return json.dumps(value).encode()


def user(name: str, **extra: Any) -> dict[str, Any]:
    return {"schemas": [USER], "userName": name, **extra}


def cursor(values: Any, fingerprint: str) -> str:
    text = json.dumps({"k": values, "q": fingerprint, "t": int(time.time())}, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def cases(fingerprint: str) -> list[Case]:
    surrogate_user = raw('{"schemas":["%s"],"userName":"a\\ud800"}' % USER)
    bulk_ops = [{"method": "POST", "path": "/Users", "bulkId": f"b{i}", "data": user(f"bulk-{i}")} for i in range(49)]
    bad_bulk = json.dumps({"schemas": [BULK], "Operations": bulk_ops}).encode()
    bad_bulk = bad_bulk[:-2] + (
        ',{"method":"POST","path":"/Users","bulkId":"bad","data":{"schemas":["%s"],"userName":"b\\ud800"}}]}' % USER
    ).encode()
    deep = "[" * 100_000 + "]" * 100_000
    many_ops = {"schemas": [PATCH_OP], "Operations": [{"op": "add", "path": "title", "value": "n"}] * 10_000}
    nested_filter = "(" * 500 + 'userName eq "x"' + ")" * 500
    table = [
        # §6 lone surrogates
        Case("surrogate POST", "POST", "/Users", surrogate_user, scim_type="invalidValue"),
        Case("surrogate PUT", "PUT", "/Users/{id}", surrogate_user, scim_type="invalidValue"),
        Case("surrogate PATCH", "PATCH", "/Users/{id}",
             raw('{"schemas":["%s"],"Operations":[{"op":"replace","path":"title","value":"a\\udfff"}]}' % PATCH_OP),
             scim_type="invalidValue"),
        Case("surrogate PATCH path", "PATCH", "/Users/{id}",
             raw('{"schemas":["%s"],"Operations":[{"op":"replace","path":"nick\\ud800","value":"a"}]}' % PATCH_OP)),
        Case("surrogate .search filter", "POST", "/Users/.search",
             raw('{"schemas":["%s"],"filter":"userName eq \\"a\\ud800\\""}' % SEARCH), scim_type="invalidFilter"),
        # bytes that are not UTF-8 in a URL decode to U+FFFD (not a surrogate): a filter that matches nothing
        Case("surrogate query filter (UTF-8 of D800)", "GET", "/Users?filter=userName%20eq%20%22a%ED%A0%80%22",
             expect=(200, 400)),
        Case("surrogate cursor", "GET", "/Users?cursor=" + cursor(["a\ud800", "x"], fingerprint),
             scim_type="invalidCursor"),
        Case("surrogate key in body", "POST", "/Users", raw('{"schemas":["%s"],"userName":"k1","\\ud800":1}' % USER)),
        Case("surrogate Bulk 49 good + 1 bad", "POST", "/Bulk", bad_bulk, expect=(200,), writes=True),
        # §6 numbers, cursors, .search types
        Case("startIndex 10^20", "GET", "/Users?startIndex=99999999999999999999", expect=(200, 400)),
        Case("startIndex -10^20", "GET", "/Users?startIndex=-99999999999999999999", expect=(200, 400)),
        Case("count 10^20", "GET", "/Users?count=99999999999999999999", expect=(200, 400)),
        Case("count abc", "GET", "/Users?count=abc", expect=(400,)),
        *[Case(f"cursor key {label}", "GET", "/Users?cursor=" + cursor([value, "x"], fingerprint),
               scim_type="invalidCursor")
          for label, value in (("null", None), ("bool", True), ("list", [1]), ("bigint", 10**30), ("dict", {}))],
        Case("cursor not base64", "GET", "/Users?cursor=%%%%", scim_type="invalidCursor"),
        Case("cursor other query", "GET", "/Users?cursor=" + cursor(["a", "x"], "0" * 8), scim_type="invalidCursor"),
        Case("cursor + startIndex", "GET", "/Users?cursor=&startIndex=2", expect=(400,)),
        *[Case(f".search {key} wrong type", "POST", "/Users/.search", body({"schemas": [SEARCH], key: value}))
          for key, value in (("filter", 1), ("sortOrder", ["x"]), ("excludedAttributes", 5), ("count", "10"),
                             ("startIndex", {}), ("cursor", 3))],
        # a string is read as the query string's comma list; null is an absent member (RFC 7643 §2.5)
        Case(".search attributes a string", "POST", "/Users/.search",
             body({"schemas": [SEARCH], "attributes": "userName"}), expect=(200,)),
        Case(".search sortBy null", "POST", "/Users/.search", body({"schemas": [SEARCH], "sortBy": None}),
             expect=(200,)),
        Case(".search body a list", "POST", "/Users/.search", body([1, 2])),
        Case(".search body a string", "POST", "/Users/.search", body("x")),
        Case("schemas urn:bogus", "POST", "/Users", body({"schemas": ["urn:bogus"], "userName": "bogus1"}),
             scim_type="invalidValue"),
        # an unknown URI beside the core one, carrying no data, is Entra's group create (docs/idp-tolerances.md #29)
        Case("schemas core + urn:bogus", "POST", "/Users", body({"schemas": [USER, "urn:bogus"], "userName": "bogus2"}),
             expect=(201,), writes=True),
        Case("schemas core + urn:bogus with data", "POST", "/Users",
             body({"schemas": [USER, "urn:bogus"], "userName": "bogus3", "urn:bogus": {"x": 1}})),
        Case("schemas missing", "POST", "/Users", body({"userName": "bogus3"})),
        Case("schemas a string", "POST", "/Users", body({"schemas": USER, "userName": "bogus4"})),
        Case("If-None-Match * on PATCH", "PATCH", "/Users/{id}",
             body({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "title", "value": "m"}]}),
             headers={"If-None-Match": "*"}, expect=(412,)),
        Case("HEAD /Users/{id}", "HEAD", "/Users/{id}", expect=(200,)),
        Case("HEAD /Users", "HEAD", "/Users", expect=(200,)),
        # §7 identity strings (each against the seeded "josé", "ab", "σοφος", "paypal")
        Case("NFD jose\u0301", "POST", "/Users", body(user("jose\u0301")), expect=(409,), scim_type="uniqueness"),
        Case("fullwidth ａｂ", "POST", "/Users", body(user("ａｂ")), expect=(409,), scim_type="uniqueness"),
        Case("final sigma σοφοσ", "POST", "/Users", body(user("ΣΟΦΟΣ")), expect=(409,), scim_type="uniqueness"),
        Case("Cyrillic раураl", "POST", "/Users", body(user("раураl")), expect=(201,), writes=True),
        Case("zero-width only", "POST", "/Users", body(user("\u200b")), scim_type="invalidValue"),
        Case("RTL override", "POST", "/Users", body(user("ab\u202ecd")), scim_type="invalidValue"),
        Case("NUL", "POST", "/Users", body(user("ab\u0000cd")), scim_type="invalidValue"),
        Case("empty userName", "POST", "/Users", body(user(""))),
        Case("spaces-only userName", "POST", "/Users", body(user("   "))),
        Case("userName 1,025 chars", "POST", "/Users", body(user("x" * 1025))),
        Case("userName a number", "POST", "/Users", body({"schemas": [USER], "userName": 5})),
        # beyond the issue
        Case("JSON nested 100,000 deep", "POST", "/Users", raw(deep), scim_type="invalidSyntax"),
        Case("JSON nested 33 deep in a value", "POST", "/Users",
             body(user("deep1", title=json.loads("[" * 33 + "]" * 33)))),
        Case("10 MB body", "POST", "/Users", body(user("big", title="x" * 10_000_000)), expect=(413,)),
        Case("duplicate JSON keys", "POST", "/Users",
             raw('{"schemas":["%s"],"userName":"dup-a","userName":"dup-b"}' % USER), scim_type="invalidSyntax"),
        Case("duplicate JSON keys, other case", "POST", "/Users",
             raw('{"schemas":["%s"],"userName":"dup-c","USERNAME":"dup-d"}' % USER), scim_type="invalidSyntax"),
        Case("PATCH Operations + operations", "PATCH", "/Users/{id}",
             body({"schemas": [PATCH_OP], "Operations": many_ops["Operations"][:1], "operations": many_ops["Operations"]}),
             scim_type="invalidSyntax"),
        Case("PATCH 8,000 filtered operations", "PATCH", "/Users/{id}",
             body({"schemas": [PATCH_OP], "Operations": [{"op": "add", "path": 'emails[value eq "x"].value',
                                                           "value": "n@x.example"}] * 8000}), expect=(413,)),
        Case("POST 20,000 e-mail addresses", "POST", "/Users",
             body(user("many", emails=[{"value": f"u{i}@x.example"} for i in range(20_000)]))),
        Case("Bulk 2 PATCHes of 600 operations", "POST", "/Bulk",
             body({"schemas": [BULK], "Operations": [{"method": "PATCH", "path": "/Users/x",
                   "data": {"schemas": [PATCH_OP], "Operations": many_ops["Operations"][:600]}}] * 2}), expect=(413,)),
        Case("PATCH 10,000 operations", "PATCH", "/Users/{id}", body(many_ops), expect=(400, 413)),
        Case("filter 500 nested parentheses", "GET", "/Users?filter=" + quote(nested_filter), expect=(200, 400)),
        Case("filter 800 nested not()", "GET", "/Users?filter=" + quote("not(" * 800 + 'userName eq "x"' + ")" * 800),
             scim_type="invalidFilter"),
        Case("filter 5,000 chars", "GET", "/Users?filter=" + quote('userName eq "' + "x" * 5000 + '"'),
             scim_type="invalidFilter"),
        Case("filter 65 terms", "GET", "/Users?filter=" + quote(" or ".join(['userName eq "x"'] * 65)),
             scim_type="invalidFilter"),
        Case("filter unknown attribute", "GET", "/Users?filter=" + quote('bogus eq "x"'), expect=(400,)),
        Case("filter CRLF", "GET", "/Users?filter=" + quote('userName eq "x"\r\nX-Injected: 1'), expect=(400,)),
        Case("id with CRLF", "GET", "/Users/a%0d%0aX-Injected:%201", expect=(404,)),
        Case("id e-mail shaped", "GET", "/Users/" + quote(MARKER + "@evil.example"), expect=(404,)),
        Case("sortBy with CRLF", "GET", "/Users?sortBy=" + quote("userName\r\nX-Injected: 1"), expect=(200, 400)),
        Case("attributes CRLF", "GET", "/Users?attributes=" + quote("userName\r\nX-Injected: 1"), expect=(200, 400)),
        Case("Content-Type text/plain", "POST", "/Users", body(user("ct1")), headers={"Content-Type": "text/plain"},
             expect=(415, 400)),
        Case("Content-Type missing", "POST", "/Users", body(user("ct2")), headers={"Content-Type": ""},
             expect=(201, 415, 400), writes=True),
        Case("Content-Type utf-16", "POST", "/Users", user("ct3").__repr__().encode("utf-16"),
             headers={"Content-Type": "application/scim+json; charset=utf-16"}, expect=(400, 415)),
        Case("Content-Type multipart", "POST", "/Users", b"--x\r\n\r\n--x--",
             headers={"Content-Type": "multipart/form-data; boundary=x"}, expect=(400, 415)),
        Case("Content-Type form", "POST", "/Users", b"userName=x", headers={"Content-Type": "application/x-www-form-urlencoded"},
             expect=(400, 415)),
        Case("body not UTF-8", "POST", "/Users", b'{"schemas":["' + USER.encode() + b'"],"userName":"\xff"}'),
        Case("body BOM", "POST", "/Users", b"\xef\xbb\xbf" + body(user("bom1")), expect=(201, 400), writes=True),
        Case("body empty", "POST", "/Users", b"", scim_type="invalidSyntax"),
        Case("body NaN", "POST", "/Users", raw('{"schemas":["%s"],"userName":"n","title":NaN}' % USER),
             scim_type="invalidSyntax"),
        Case("body huge number", "POST", "/Users", raw('{"schemas":["%s"],"userName":"n2","x":1%s}' % (USER, "0" * 5000))),
        Case("Bulk 1,001 ops", "POST", "/Bulk",
             body({"schemas": [BULK], "Operations": [{"method": "DELETE", "path": "/Users/x"}] * 1001}),
             expect=(413,)),
        Case("Bulk ops not a list", "POST", "/Bulk", body({"schemas": [BULK], "Operations": {"a": 1}})),
        Case("Bulk op a string", "POST", "/Bulk", body({"schemas": [BULK], "Operations": ["x"]}), expect=(200, 400)),
        Case("Bulk failOnErrors -1", "POST", "/Bulk",
             body({"schemas": [BULK], "failOnErrors": -1, "Operations": []}), expect=(200, 400)),
        Case("Bulk path traversal", "POST", "/Bulk",
             body({"schemas": [BULK], "Operations": [{"method": "GET", "path": "/../../ServiceProviderConfig"}]}),
             expect=(200, 400)),
        Case("Bulk self-referencing bulkId", "POST", "/Bulk",
             body({"schemas": [BULK], "Operations": [{"method": "POST", "path": "/Groups", "bulkId": "s",
                   "data": {"schemas": [GROUP], "displayName": "self", "members": [{"value": "bulkId:s"}]}}]}),
             expect=(200,)),
        Case("PATCH op unknown", "PATCH", "/Users/{id}", body({"schemas": [PATCH_OP], "Operations": [{"op": "x"}]})),
        Case("PATCH path filter surrogate", "PATCH", "/Users/{id}",
             raw('{"schemas":["%s"],"Operations":[{"op":"remove","path":"emails[value eq \\"\\udc00\\"]"}]}'
                 % PATCH_OP)),
        Case("PATCH value deep", "PATCH", "/Users/{id}",
             body({"schemas": [PATCH_OP], "Operations": [{"op": "add", "value": json.loads("{\"a\":" * 30 + "1"
                   + "}" * 30)}]})),
        Case("PUT id mismatch / other user's userName", "PUT", "/Users/{id}", body(user("paypal")), expect=(409,)),
        Case("manager.value unknown id", "POST", "/Users",
             body({"schemas": [USER, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"], "userName": "m1",
                   "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"manager": {"value": "nobody"}}}),
             expect=(201, 400, 404), writes=True),
        Case("method TRACE", "TRACE", "/Users", expect=(405,)),
        Case("method OPTIONS", "OPTIONS", "/Users", expect=(200, 204, 405)),
        Case("path /Users/{id}/x", "GET", "/Users/{id}/x", expect=(404,)),
        Case("path ..%2f", "GET", "/Users/..%2f..%2fServiceProviderConfig", expect=(404,)),
        Case("unknown endpoint", "GET", "/Nope", expect=(404,)),
        Case("attributes 10,000", "GET", "/Users?attributes=" + ",".join(["a"] * 10_000), expect=(200, 400)),
    ]
    return table


def counts(http: httpx.Client) -> tuple[int, int]:
    users = http.get("/Users", params={"count": 0}).json()["totalResults"]
    groups = http.get("/Groups", params={"count": 0}).json()["totalResults"]
    return users, groups


def run_case(http: httpx.Client, case: Case, user_id: str) -> dict[str, Any]:
    before = counts(http)
    version_before = http.get(f"/Users/{user_id}").headers.get("etag")
    headers = {**JSON, **(case.headers or {})}
    headers = {k: v for k, v in headers.items() if v != ""}
    started = time.monotonic()
    try:
        answer = http.request(case.method, case.path.format(id=user_id), content=case.body, headers=headers)
        seconds = time.monotonic() - started
        status = answer.status_code
        text = answer.text
    except httpx.HTTPError as exc:
        return {"status": f"error {type(exc).__name__}", "ok": False, "changed": None, "scim_type": None}
    scim_type = None
    with contextlib.suppress(ValueError, AttributeError):
        scim_type = answer.json().get("scimType")
    changed = (counts(http), http.get(f"/Users/{user_id}").headers.get("etag")) != (before, version_before)
    ok = status in case.expect and (case.scim_type is None or scim_type == case.scim_type)
    if status >= 400 and changed:
        ok = False
    if "Traceback" in text or "X-Injected" in "".join(f"{k}: {v}" for k, v in answer.headers.items()):
        ok = False
    return {"status": status, "scim_type": scim_type, "changed": changed, "ok": ok, "bytes": len(text),
            "seconds": round(seconds, 3)}  # fmt: skip


def raw_request(port: int, payload: bytes) -> str:
    """One request over a raw TLS socket, for what httpx will not send (bad header bytes)."""
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as sock,
        context.wrap_socket(sock, server_hostname="localhost") as tls,
    ):
        tls.sendall(payload)
        try:
            return tls.recv(300).split(b"\r\n", 1)[0].decode(errors="replace") or "closed"
        except OSError:
            return "closed"


def raw_cases(port: int, token: str) -> list[tuple[str, str, Callable[[str], bool]]]:
    auth = f"Authorization: Bearer {token}\r\n".encode()
    host = b"Host: localhost\r\n"
    tries = [
        ("request line with NUL", b"GET /scim/v2/Users\x00 HTTP/1.1\r\n" + host + auth + b"\r\n"),
        ("header value with NUL", b"GET /scim/v2/Users HTTP/1.1\r\n" + host + auth + b"X-a: b\x00c\r\n\r\n"),
        ("two Content-Length", b"POST /scim/v2/Users HTTP/1.1\r\n" + host + auth
         + b"Content-Length: 2\r\nContent-Length: 40\r\n\r\n{}"),
        ("CL + chunked", b"POST /scim/v2/Users HTTP/1.1\r\n" + host + auth
         + b"Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
        ("bad chunk size", b"POST /scim/v2/Users HTTP/1.1\r\n" + host + auth
         + b"Transfer-Encoding: chunked\r\n\r\nzz\r\n"),
        ("Authorization twice", b"GET /scim/v2/Users HTTP/1.1\r\n" + host + auth + b"Authorization: Bearer x\r\n\r\n"),
        ("Bearer with unicode", "GET /scim/v2/Users HTTP/1.1\r\nHost: l\r\nAuthorization: Bearer é\r\n\r\n".encode()),
        ("HTTP/0.9", b"GET /scim/v2/Users\r\n\r\n"),
        ("absolute URI", b"GET https://evil.example/scim/v2/Users HTTP/1.1\r\n" + host + auth + b"\r\n"),
    ]
    results = []
    for name, payload in tries:
        line = raw_request(port, payload)
        results.append((name, line, lambda got: not got.startswith("HTTP/1.1 5")))
    return results


def seed(http: httpx.Client) -> tuple[str, str]:
    ids = []
    for name in ("josé", "ab", "σοφος", "paypal", "target"):
        answer = http.post("/Users", json=user(name, title=MARKER), headers=JSON)
        assert answer.status_code == 201, answer.text
        ids.append(answer.json()["id"])
    first = http.get("/Users", params={"cursor": "", "count": 1})
    fingerprint = "0"
    if first.status_code == 200 and first.json().get("nextCursor"):
        token = first.json()["nextCursor"]
        fingerprint = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))["q"]
    return ids[-1], fingerprint


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="custos-probe-") as work:
        data_dir = Path(work)
        token = create_token(data_dir, "idp")
        server = Server(data_dir)
        try:
            transport = httpx.HTTPTransport(verify=False)
            with httpx.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {token}"},
                              transport=transport, timeout=30) as http:  # fmt: skip
                user_id, fingerprint = seed(http)
                table = cases(fingerprint)
                results = [(case, run_case(http, case, user_id)) for case in table]
            raw_results = raw_cases(server.port, token)
        finally:
            server.stop()
        server.log.seek(0)
        stderr = server.log.read().decode(errors="replace")
        trail = cli(data_dir, "audit", "tail", "-n", "100000")
    fives = [c.name for c, r in results if isinstance(r["status"], int) and r["status"] >= 500]
    fives += [n for n, line, _ in raw_results if line.startswith("HTTP/1.1 5")]
    unexpected = [(c.name, r) for c, r in results if not r["ok"]]
    for case, result in results:
        if args.verbose or not result["ok"]:
            mark = "ok " if result["ok"] else "BAD"
            print(f"{mark} {case.name:<40} {result['status']} {result.get('seconds', '')}s {result['scim_type'] or ''} "
                  f"changed={result['changed']} expected={case.expect} {case.scim_type or ''}")  # fmt: skip
    for name, line, _ in raw_results:
        print(f"raw {name:<40} {line}")
    leaks = {
        "traceback in stderr": "Traceback" in stderr,
        "token in stderr": token in stderr,
        "token in trail": token in trail,
        "personal value in stderr": MARKER in stderr or "paypal" in stderr or "josé" in stderr,
        "personal value in trail": MARKER in trail or "paypal" in trail or "josé" in trail,
    }
    slowest = sorted(results, key=lambda cr: -cr[1].get("seconds", 0))[:3]
    print("slowest " + "; ".join(f"{c.name} {r['status']} {r['seconds']} s" for c, r in slowest))
    print(f"cases {len(results) + len(raw_results)}  5xx {len(fives)} {fives}  unexpected {len(unexpected)}")
    print(f"leaks {leaks}")
    print(f"stderr lines {len(stderr.splitlines())}")
    if args.verbose:
        print(stderr[-3000:])
    return 1 if fives or unexpected or any(leaks.values()) else 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Issue 11 §1, §3, §4 over the real HTTPS server: a client without a token can neither blind the trail, lock
the IdP out nor grow the vault by the request."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.audit.trail import read
from app.scim.auth import FailureThrottle
from app.siem.alerts import AlertEngine
from tests.scim.hardening_support import ATTACKER, Hardened, hardened_server, wait_for


@pytest.fixture
def hardened(tmp_path: Path) -> Iterator[Hardened]:
    with hardened_server(tmp_path) as server:
        yield server


def trail_text(h: Hardened) -> str:
    with h.vault.read_connection() as conn:
        return json.dumps([event.content() for event in read(conn)])


# -- §1 -------------------------------------------------------------------------------------------------
def test_an_email_shaped_path_cannot_blind_the_trail(hardened: Hardened) -> None:
    h = hardened
    with h.client(h.token) as idp, h.client("cst_wrong") as wrong, h.client(local=ATTACKER) as probe:
        for _ in range(3):
            assert probe.get("/x@evil.example").status_code == 401  # the probe, interleaved
            assert idp.get("/Users").status_code == 200
            assert wrong.get("/Users").status_code == 401
        assert idp.get("/x@evil.example/more").status_code == 404  # authenticated, on a path that is no route
        assert idp.get("/Users/x@evil.example").status_code == 404
    h.flush()

    requests = [e for e in h.events("scim.request") if e.actor == "token:idp"]
    assert len(requests) == 5  # nothing dropped (before the fix: 0, the whole batch was refused)
    assert sorted(e.details["endpoint"] for e in requests) == ["Users", "Users", "Users", "Users", "unknown"]
    failed = h.events("scim.auth.failed")
    assert sum(e.details["count"] for e in failed) == 6  # the 3 probes and the 3 wrong tokens, as evidence
    assert {e.details["source"] for e in failed} == {"127.0.0.1", ATTACKER}
    assert "evil" not in trail_text(h)
    assert h.server.recorder is not None and not h.server.recorder.refused


def test_the_challenge_names_an_error_only_when_a_token_was_tried(hardened: Hardened) -> None:
    """RFC 6750 §3.1. Before: every refusal said error="invalid_token", also to a request with no credentials."""
    h, plain = hardened, 'Bearer realm="Custos SCIM"'
    with h.client() as anonymous, h.client("cst_wrong") as wrong:
        cases = [
            (anonymous.get("/Users"), 401, plain),
            (anonymous.get("/Users", headers={"Authorization": "Basic aWRwOnNlY3JldA=="}), 401, plain),
            (wrong.get("/Users"), 401, plain + ', error="invalid_token"'),
            (anonymous.get("/Users", headers={"Authorization": "Bearer"}), 400, plain + ', error="invalid_request"'),
        ]
        for answer, status, header in cases:
            assert (answer.status_code, answer.headers["WWW-Authenticate"]) == (status, header)
            assert answer.json()["status"] == str(status) and "scimType" not in answer.json()
    h.flush()
    assert sum(e.details["count"] for e in h.events("scim.auth.failed")) == 4  # each still a failure, tallied


# -- §3 -------------------------------------------------------------------------------------------------
def test_a_valid_token_is_served_from_a_throttled_address(hardened: Hardened) -> None:
    h = hardened
    with h.client("cst_wrong") as wrong, h.client(h.token) as idp:
        statuses = [wrong.get("/Users").status_code for _ in range(11)]
        assert statuses == [401] * 10 + [429]
        assert idp.get("/Users").status_code == 200  # same address, valid token: never refused by the throttle
        assert idp.get("/ServiceProviderConfig").status_code == 200
        assert wrong.get("/Users").status_code == 429  # the failures stay throttled


def test_failures_are_throttled_per_source_and_in_total_and_the_operator_is_told(tmp_path: Path) -> None:
    throttle = FailureThrottle(max_failures=3, max_global=5)
    with hardened_server(tmp_path, throttle=throttle) as h:
        with h.client("cst_guess-1") as here, h.client("cst_guess-2", local=ATTACKER) as there:
            assert [here.get("/Users").status_code for _ in range(4)] == [401, 401, 401, 429]
            assert [there.get("/Users").status_code for _ in range(3)] == [401, 401, 429]  # 5 in total: global
        with h.client(h.token) as idp, h.client(h.token, local=ATTACKER) as idp_elsewhere:
            assert idp.get("/Users").status_code == 200 and idp_elsewhere.get("/Users").status_code == 200
        h.flush()
        engaged = sorted((e.details["scope"], e.details["failures"], e.details["limit"]) for e in
                         h.events("scim.auth.throttled"))  # fmt: skip
        assert engaged == [("global", 5, 5), ("source", 3, 3)]
        raised = [a for a in AlertEngine(h.vault).process_new() if a.rule == "auth_throttled"]
        assert sorted(a.observed for a in raised) == [3, 5]  # one alert per scope, with the counts
        assert all("failures within 1 min" in a.summary for a in raised)
        text = trail_text(h)
        assert "cst_guess" not in text and h.token not in text


# -- §4 -------------------------------------------------------------------------------------------------
def test_unauthenticated_requests_write_nothing_per_request(hardened: Hardened) -> None:
    h = hardened
    h.flush()
    events_before, keys_before = h.counts()
    with h.client() as anonymous, h.client("cst_wrong") as wrong:
        for i in range(200):
            (anonymous if i % 2 else wrong).get(f"/Users/{uuid.uuid4()}")
    h.flush()
    events_after, keys_after = h.counts()
    assert keys_after == keys_before  # before the fix: +200 pseudonym keys holding raw ids
    assert events_after - events_before == 2  # one tally for the minute, one notice that the throttle engaged
    (tally,) = h.events("scim.auth.failed")
    assert tally.details["count"] == 200 and tally.details["throttled"] == 190
    assert tally.details["source"] == "127.0.0.1" and tally.subject is None
    assert tally.details["first"] <= tally.details["last"]


def test_the_tally_is_written_once_its_minute_is_over(hardened: Hardened) -> None:
    h = hardened
    with h.client("cst_wrong") as wrong:
        for _ in range(3):
            wrong.get("/Users")
        h.clock.advance(60)  # the next minute: the recorder writes the last one by itself, without a flush
        assert wait_for(lambda: len(h.events("scim.auth.failed")) == 1, 3.0) is not None
        wrong.get("/Users")
    h.flush()
    assert [e.details["count"] for e in h.events("scim.auth.failed")] == [1, 3]  # newest first


def test_a_404_on_an_id_creates_no_pseudonym_key(hardened: Hardened) -> None:
    h = hardened
    h.flush()
    _, keys_before = h.counts()
    with h.client(h.token) as idp:
        assert idp.get(f"/Users/{uuid.uuid4()}").status_code == 404
        assert idp.delete(f"/Users/{uuid.uuid4()}").status_code == 404
        created = idp.post("/Users", json={"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                                           "userName": "hardening-subject"})  # fmt: skip
        user_id = created.json()["id"]
        assert idp.get(f"/Users/{user_id}").status_code == 200
    h.flush()
    _, keys_after = h.counts()
    assert keys_after == keys_before + 1  # the user created; not the two ids that do not exist
    by_subject = [e for e in h.events("scim.request") if e.details["method"] in ("GET", "DELETE")]
    assert sum(1 for e in by_subject if e.subject is None) == 2 and sum(1 for e in by_subject if e.subject) == 1


def test_a_revoked_token_tried_again_is_named_in_the_tally(hardened: Hardened) -> None:
    """The tally said 'count: 9' for eight guesses and one try of the revoked, leaked token: the trail could not say
    whether the leaked token was used after its revocation. It now names the token (never its secret)."""
    h = hardened
    store = h.server.tokens
    _, leaked = store.create("okta-leaked")
    store.revoke("okta-leaked")
    with h.client(leaked) as attacker, h.client("cst_a-guess") as guesser:
        assert attacker.get("/Users").status_code == 401
        assert attacker.get("/Groups").status_code == 401
        assert guesser.get("/Users").status_code == 401
    h.flush()
    (tally,) = h.events("scim.auth.failed")
    assert tally.details["count"] == 3 and tally.details["known_tokens"] == {"okta-leaked": 2}
    assert leaked not in str(tally.details)


def test_a_tally_of_guesses_names_no_token(hardened: Hardened) -> None:
    h = hardened
    with h.client("cst_a-guess") as guesser:
        assert guesser.get("/Users").status_code == 401
    h.flush()
    (tally,) = h.events("scim.auth.failed")
    assert "known_tokens" not in tally.details

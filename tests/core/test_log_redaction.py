"""Log lines lose e-mail addresses, tokens, credentials, client IPs and secrets, and keep everything else."""

from __future__ import annotations

import io
import logging
import sys
from collections.abc import Iterator

import pytest

from app.core.log_redaction import RedactingFilter, exception_outline, redact

TOKEN = "cst_" + "Qx3-vB_9" * 5 + "abc"  # the shape of secrets.token_urlsafe(32) behind the prefix


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("created alice.smith+ops@example.org", "created <email>"),
        ('userName eq "Ana.O\'Neil@sub.example.co.uk" matched', 'userName eq "<email>" matched'),
        ("filter=userName%20eq%20%22bob%40example.org%22", "filter=userName%20eq%20<email>%22"),
        ("ünïcode: jörg@bücher.example", "ünïcode: <email>"),
        (f"token {TOKEN} used", "token <token> used"),
        (f"url ?t={TOKEN}&x=1", "url ?t=<token>&x=1"),
        ("Authorization: Bearer eyJhbGciOi.J9.sig", "Authorization: <token>"),
        ("headers {'authorization': 'Basic dXNlcjpwYXNz'}", "headers {'authorization': '<token>'}"),
        ("sent Bearer abc123 to target", "sent Bearer <token> to target"),
        ("client 203.0.113.7:51234 connected", "client <ip>:51234 connected"),
        ("from 10.0.0.1.", "from <ip>."),
        ("peer 2001:db8:85a3::8a2e:370:7334 port 443", "peer <ip> port 443"),
        ("peer [2001:db8::1]:8443", "peer [<ip>]:8443"),
        ("link fe80::1%eth0 up", "link <ip> up"),
        ("mapped ::ffff:192.0.2.1", "mapped <ip>"),
        ("password=hunter2 next", "password=<redacted> next"),
        ("passphrase='correct horse battery' ok", "passphrase=<redacted> ok"),
        ("client_secret=s3cr3t&grant=x", "client_secret=<redacted>&grant=x"),
        ('{"password": "p4ss", "user": 1}', '{"password": <redacted>, "user": 1}'),
        ("SECRET = abc", "SECRET = <redacted>"),
        # httpx logs every request's URL: a target look-up's filter names the person, e-mail address or not
        (
            'HTTP Request: GET https://app.example/scim/v2/Users?filter=externalId+eq+%22E1234%22 "HTTP/1.1 200 OK"',
            'HTTP Request: GET https://app.example/scim/v2/Users?<query> "HTTP/1.1 200 OK"',
        ),
        (
            "GET http://127.0.0.1:8080/v2/Groups?filter=displayName%20eq%20%22Finance%22&count=1 answered",
            "GET http://127.0.0.1:8080/v2/Groups?<query> answered",
        ),
        ("no query in https://app.example/Users/42? here", "no query in https://app.example/Users/42? here"),
    ],
)
def test_personal_data_and_secrets_are_replaced(line: str, expected: str) -> None:
    assert redact(line) == expected
    assert redact(expected) == expected  # idempotent: a second pass (filter, then buffer) changes nothing


@pytest.mark.parametrize(
    "line",
    [
        "user 3f2a9c4e-1b2d-4e5f-8a9b-0c1d2e3f4a5b created",
        "user 0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b (UUIDv7) modified",
        "POST /scim/v2/Users 201 Created in 12.5 ms",
        "PATCH /scim/v2/Groups/0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b 204",
        "PySide6 6.11.0, SQLCipher 4.6.1, Python 3.11.9",
        "schema urn:ietf:params:scim:schemas:core:2.0:User",
        "at 2024-01-01T12:34:56.789+00:00 the checkpoint was signed",
        "took 0.25 s; next run 12:30:00",
        "listening on 127.0.0.1:8443 and [::1]:8443",
        "listening on 0.0.0.0:8443",
        "loopback 127.1.2.3 kept",
        "Vault::open and std::vector",
        "MAC 00:1a:2b:3c:4d:5e is not an IP",
        "the passphrase was wrong",
        "wrong passphrase: try again",
        "1.2.3.400 is not an address",
        "retrying target okta-prod (attempt 3 of 5)",
        "",
    ],
)
def test_ordinary_text_is_kept(line: str) -> None:
    assert redact(line) == line


@pytest.fixture
def captured() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A logger writing through a RedactingFilter'd handler into a string, with a traceback-aware format."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger("tests.log_redaction")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    yield logger, stream
    logger.removeHandler(handler)
    logger.filters.clear()
    logger.propagate = True


def test_a_record_with_arguments_is_rendered_once_and_redacted(
    captured: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = captured
    records: list[logging.LogRecord] = []
    logger.addFilter(lambda record: records.append(record) or True)
    logger.info("provisioned %s from %s with %d attributes", "carol@example.org", "198.51.100.4", 7)
    assert stream.getvalue() == "INFO tests.log_redaction: provisioned <email> from <ip> with 7 attributes\n"
    assert records[0].args == ()
    assert records[0].getMessage() == "provisioned <email> from <ip> with 7 attributes"


def test_a_bad_format_keeps_the_line_and_still_redacts(captured: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = captured
    logger.warning("two placeholders %s %s", "dave@example.org")
    assert "dave@example.org" not in stream.getvalue()
    assert "two placeholders" in stream.getvalue()


def _fail_for(address: str) -> None:
    raise ValueError(f"no such user {address}")


def test_exception_text_does_not_leak_the_message(captured: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = captured
    name = "Erin " + "Example"
    try:
        try:
            _fail_for("erin@example.org")
        except ValueError as error:
            raise RuntimeError(f"while provisioning {name}") from error
    except RuntimeError:
        logger.exception("provisioning failed")
    text = stream.getvalue()
    assert "erin@example.org" not in text
    assert "Erin Example" not in text  # a name no pattern can spot: exception messages are dropped entirely
    assert text.startswith("ERROR tests.log_redaction: provisioning failed\nTraceback (most recent call last):")
    assert "in _fail_for" in text  # the frames are kept: they are code, and what a bug report needs
    assert "\nValueError\n" in text
    assert "direct cause" in text
    assert text.rstrip().endswith("RuntimeError")


def test_the_filtered_record_cannot_be_rendered_again_with_the_exception() -> None:
    try:
        _fail_for("frank@example.org")
    except ValueError:
        record = logging.getLogger("x").makeRecord("x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    assert RedactingFilter().filter(record) is True
    assert record.exc_info is None
    assert record.exc_text is not None and "frank" not in record.exc_text
    assert "frank" not in logging.Formatter().format(record)


def test_outline_of_an_exception_chain_with_context() -> None:
    try:
        try:
            raise KeyError("grace@example.org")
        except KeyError:
            raise OSError("disk full for 192.0.2.9") from None
    except OSError as error:
        outline = exception_outline(error)
    assert "grace" not in outline and "192.0.2.9" not in outline
    assert "KeyError" not in outline  # suppressed context stays suppressed
    assert outline.endswith("OSError")

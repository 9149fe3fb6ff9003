"""Take personal data and secrets out of log lines before anyone can read them.

Logs are copied into bug reports and shown in the app; under the GDPR an e-mail address or a client's IP
address in a log line is personal data like any other. The patterns here are a safety net for what the code
might log by accident: e-mail addresses, Custos tokens, Authorization/Bearer credentials, IP addresses,
``password=``-style pairs and URLs' query strings (a SCIM filter there names a person). Names and other free
text cannot be recognised, so code still must not log them.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import traceback
from types import TracebackType

EMAIL = "<email>"
TOKEN = "<token>"
IP = "<ip>"
REDACTED = "<redacted>"
QUERY = "<query>"

_SECRET_KEYS = r"[\w-]*(?:passphrase|password|passwd|secret)"
_VALUE = r"""(?:"[^"]*"|'[^']*'|[^\s,;&)}\]]+)"""

# password=hunter2, client_secret="x", and in dict/JSON form {"password": "x"}; the key is kept.
_KEY_VALUE = re.compile(
    rf"""(?ix)
    (?<![\w-])
    (?: ({_SECRET_KEYS}) (\s*=\s*)              # key=value
      | (["']{_SECRET_KEYS}["']) (\s*:\s*)      # "key": value
    )
    {_VALUE}
    """
)
# The whole credential after the header name, with or without its scheme.
_SCHEMES = r"(?:Bearer|Basic|Digest|Token|Negotiate|NTLM|SSWS|ApiKey)"
_AUTHORIZATION = re.compile(rf"""(?i)\b((?:proxy-)?authorization["']?\s*[:=]\s*["']?)(?:{_SCHEMES}\s+)?[^\s,;'"}}]+""")
_BEARER = re.compile(r"(?i)\b(bearer)\s+[^\s,;'\"}]+")
_CUSTOS_TOKEN = re.compile(r"(?<![\w-])cst_[\w-]+")
# %40 is how an @ looks in a URL (a SCIM filter in a query string, for instance).
_EMAIL = re.compile(r"(?:%[0-9A-Fa-f]{2})?[\w.+'-]+(?:@|%40)[\w-]+(?:\.[\w-]+)+")
# A URL's query string: a SCIM filter names the person it looks for (``?filter=userName eq "jdoe"``), and the
# HTTP client logs every request's URL. The address up to the path stays; what follows the ``?`` goes.
_URL_QUERY = re.compile(r"""(?i)\b((?:https?|wss?)://[^\s?#"'<>]+)\?[^\s"'<>#]+""")
_IPV4 = re.compile(r"(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?!\w|\.\d)")
# A candidate only: anything with two or more colons between hex groups, checked by ipaddress afterwards,
# so that times (12:34:56), MAC addresses and "Class::method" stay as they are.
_IPV6 = re.compile(
    r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f]{0,4})(?:%[\w.-]+)?(?![\w:])"
)


def _keep_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Loopback and "any" addresses say nothing about a person (``listening on 0.0.0.0:8443``)."""
    return address.is_loopback or address.is_unspecified


def _ipv4(match: re.Match[str]) -> str:
    text = match.group(0)
    octets = [int(part) for part in text.split(".")]
    if any(octet > 255 for octet in octets):
        return text  # not an address (a four-part version number with a big part, say)
    return text if _keep_address(ipaddress.IPv4Address(bytes(octets))) else IP


def _ipv6(match: re.Match[str]) -> str:
    text = match.group(0)
    try:
        address = ipaddress.IPv6Address(text)
    except ValueError:
        return text
    return text if _keep_address(address) else IP


def _key_value(match: re.Match[str]) -> str:
    if match.group(1) is not None:
        return f"{match.group(1)}{match.group(2)}{REDACTED}"
    return f"{match.group(3)}{match.group(4)}{REDACTED}"


def has_email_address(text: str) -> bool:
    """Whether ``text`` holds something shaped like an e-mail address (the form ``redact`` hides)."""
    return ("@" in text or "%40" in text) and _EMAIL.search(text) is not None


def redact(text: str) -> str:
    """``text`` with e-mail addresses, tokens, credentials, non-loopback IPs and secret values replaced.

    Idempotent (redacting twice changes nothing more), and cheap for ordinary lines: each pattern runs only
    when a character it needs is present.
    """
    if not text:
        return text
    lowered = text.lower()
    if "=" in text or ":" in text:
        text = _KEY_VALUE.sub(_key_value, text)
    if "authorization" in lowered:
        text = _AUTHORIZATION.sub(rf"\1{TOKEN}", text)
    if "bearer" in lowered:
        text = _BEARER.sub(rf"\1 {TOKEN}", text)
    if "cst_" in text:
        text = _CUSTOS_TOKEN.sub(TOKEN, text)
    if "://" in text and "?" in text:
        text = _URL_QUERY.sub(rf"\1?{QUERY}", text)
    if "@" in text or "%40" in text:
        text = _EMAIL.sub(EMAIL, text)
    if text.count(":") >= 2:
        text = _IPV6.sub(_ipv6, text)
    if text.count(".") >= 3:
        text = _IPV4.sub(_ipv4, text)
    return text


_CAUSE = "\nThe above exception was the direct cause of the following exception:\n\n"
_CONTEXT = "\nDuring handling of the above exception, another exception occurred:\n\n"


def _type_name(exc_type: type[BaseException]) -> str:
    module = exc_type.__module__
    return exc_type.__qualname__ if module in ("builtins", "__main__") else f"{module}.{exc_type.__qualname__}"


def exception_outline(exc: BaseException) -> str:
    """A traceback with the frames but, for each exception in the chain, only its type, never its message.

    Exception messages carry data (a database error quotes the row it failed on, a validation error the
    value); the frames are code, which is what a bug report needs.
    """
    chain: list[tuple[BaseException, str | None]] = []  # newest first, with how its predecessor led to it
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        older: BaseException | None = None
        link: str | None = None
        if current.__cause__ is not None:
            older, link = current.__cause__, _CAUSE
        elif current.__context__ is not None and not current.__suppress_context__:
            older, link = current.__context__, _CONTEXT
        if older is not None and id(older) in seen:
            older, link = None, None
        chain.append((current, link))
        current = older
    parts: list[str] = []
    for item, link in reversed(chain):
        if link is not None:
            parts.append(link)
        if item.__traceback__ is not None:
            parts.append("Traceback (most recent call last):\n")
            parts.extend(traceback.format_tb(item.__traceback__))
        parts.append(_type_name(type(item)) + "\n")
    return redact("".join(parts).rstrip("\n"))


def _outline_from_exc_info(
    exc_info: tuple[type[BaseException] | None, BaseException | None, TracebackType | None],
) -> str | None:
    exc_type, exc, _ = exc_info
    if exc is not None:
        return exception_outline(exc)
    if exc_type is not None:
        return _type_name(exc_type)
    return None


def render_message(record: logging.LogRecord) -> str:
    """``record.getMessage()``, or the template and arguments side by side if they do not fit together."""
    try:
        return record.getMessage()
    except Exception:  # a bad %-format must not lose the line, nor raise inside logging
        return f"{record.msg!s} {record.args!r}"


class RedactingFilter(logging.Filter):
    """Put on a handler so that whatever it writes has been through :func:`redact`.

    The message is rendered once and stored back with no arguments, so the formatters that run after the
    filter see only redacted text. An exception is reduced to its frames and type names (see
    :func:`exception_outline`) and ``exc_info`` is dropped, so no later formatter can render its message.
    Records are changed in place: every handler after this one sees the redacted record too.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "custos_redacted", False):
            return True
        record.msg = redact(render_message(record))
        record.args = ()
        if record.exc_info:
            record.exc_text = _outline_from_exc_info(record.exc_info)
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        record.custos_redacted = True
        return True

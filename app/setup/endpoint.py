"""Where the SCIM endpoint listens and the address IdPs use, kept in ``endpoint.toml`` in the data folder.

An IdP is configured once with a tenant URL, so the address must survive restarts: a port picked at random
each launch would break provisioning silently. The file holds no secret.
"""

from __future__ import annotations

import errno
import ipaddress
import os
import re
import socket
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path

import tomlkit

from app.core.errors import ConfigError

ENDPOINT_FILENAME = "endpoint.toml"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8443
BASE_PATH = "/scim/v2"
ALL_INTERFACES = ("0.0.0.0", "::")

# RFC 1123 host names: labels of letters, digits and inner hyphens.
_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def check_host_name(name: str) -> str:
    """A DNS name or an IP literal, as an IdP would type it into its tenant URL."""
    name = name.strip()
    if not (_is_ip(name) or _HOSTNAME.match(name)):
        raise ConfigError(f"{name!r} is not a host name or an IP address.")
    return name


def is_loopback_name(name: str) -> bool:
    if name.lower() == "localhost" or name.lower().endswith(".localhost"):
        return True
    return _is_ip(name) and ipaddress.ip_address(name).is_loopback


def machine_name() -> str:
    """This computer's fully qualified name, as other machines would reach it; "" when it has none but
    "localhost" (a container, a laptop off its network): an empty field asks, "localhost" would mislead."""
    for name in (socket.getfqdn(), socket.gethostname()):
        try:
            checked = check_host_name(name)
        except ConfigError:
            continue
        if not is_loopback_name(checked):
            return checked
    return ""


def pick_free_port(host: str) -> int:
    """A port free on ``host`` now, for a request of port 0 that must be saved: an address with port 0 would tell
    the IdP nothing it can use, and the next start would listen somewhere else."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def check_port_free(host: str, port: int) -> None:
    """Refuse a port another program already listens on, now, rather than when the endpoint first starts.

    Binding is the only true test (a connect misses a listener on another interface); SO_REUSEADDR keeps a port
    in TIME_WAIT from a recent run from counting as taken, as it would not stop the server either.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise ConfigError(
                    f"Port {port} is already in use on {host} (another program, or another Custos, listens "
                    "there): choose another port."
                ) from exc
            if exc.errno == errno.EACCES:
                raise ConfigError(f"Port {port} needs administrator rights here: choose one above 1023.") from exc
            raise ConfigError(f"Custos cannot listen on {host}:{port} ({exc.strerror or exc}).") from exc


@dataclass(frozen=True)
class EndpointSettings:
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    public_host: str | None = None  # the name IdPs reach it by, when it differs from the listening address

    def checked(self) -> EndpointSettings:
        if self.host != "localhost" and not _is_ip(self.host):
            raise ConfigError(f"Listen on an IP address (e.g. 127.0.0.1 or 0.0.0.0), not {self.host!r}.")
        if not 0 <= self.port <= 65535:
            raise ConfigError("The port is a number from 1 to 65535.")
        public = check_host_name(self.public_host) if self.public_host else None
        if self.host in ALL_INTERFACES and not public:
            raise ConfigError("Listening on every interface needs the host name IdPs will use to reach Custos.")
        return replace(self, public_host=public)

    def reachable(self) -> EndpointSettings:
        """``checked``, and an address other machines can use when listening for them. Asked of a new choice
        (first run, ``init``, moving the endpoint), not of a saved file: an endpoint saved before this check
        must still start."""
        settings = self.checked()
        if settings.host in ALL_INTERFACES and settings.public_host and is_loopback_name(settings.public_host):
            raise ConfigError(
                f"Other machines cannot reach Custos as {settings.public_host!r}: that name means each machine "
                "itself. Give the DNS name (or address) other machines use for this computer."
            )
        return settings

    @property
    def reachable_host(self) -> str:
        return self.public_host or self.host

    def base_url(self, port: int | None = None, tls: bool = True) -> str:
        host = self.reachable_host
        if ":" in host:
            host = f"[{host}]"
        return f"{'https' if tls else 'http'}://{host}:{self.port if port is None else port}{BASE_PATH}"


def load(data_dir: Path) -> EndpointSettings:
    """The saved settings, or the defaults (loopback, port 8443) when none were saved."""
    path = data_dir / ENDPOINT_FILENAME
    if not path.is_file():
        return EndpointSettings()
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path} cannot be read ({exc.__class__.__name__}); fix or delete it.") from exc
    section = document.get("endpoint", {})
    try:
        settings = EndpointSettings(
            host=str(section.get("host", DEFAULT_HOST)),
            port=int(section.get("port", DEFAULT_PORT)),
            public_host=str(section["public_host"]) if section.get("public_host") else None,
        )
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{path}: the port must be a number.") from exc
    return settings.checked()


def save(data_dir: Path, settings: EndpointSettings) -> Path:
    """Write atomically: a crash leaves the old file or the new one, never half of one."""
    settings = settings.checked()
    document = tomlkit.document()
    document.add(tomlkit.comment("Where the Custos SCIM endpoint listens. Written by Custos; no secret here."))
    table = tomlkit.table()
    table.add("host", settings.host)
    table.add("port", settings.port)
    if settings.public_host:
        table.add("public_host", settings.public_host)
    document.add("endpoint", table)
    path = data_dir / ENDPOINT_FILENAME
    temporary = path.with_suffix(".toml.tmp")
    temporary.write_text(tomlkit.dumps(document), encoding="utf-8")
    os.replace(temporary, path)
    return path

"""Whether an identity provider can reach the endpoint as it is being set up, said where the choice is made.

The cloud provisioning services (Entra ID, Okta, OneLogin, JumpCloud) call in from the internet: they cannot
reach 127.0.0.1 or a private address, and they refuse a self-signed certificate. Three set-ups work: a DNS name
the internet resolves with a certificate from a public CA, a reverse proxy that has one in front of Custos, or
the IdP's on-premises agent on the operator's network (where the IdP offers one), which calls Custos locally.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from app.setup.endpoint import EndpointSettings

PUBLIC, PROXY, AGENT = "public", "proxy", "agent"


@dataclass(frozen=True)
class Reach:
    name: str
    cloud: bool
    agent: str = ""  # the IdP's on-premises agent, when it has one


REACH = {
    "entra": Reach("Microsoft Entra ID", True, "the Entra provisioning agent"),
    "okta": Reach("Okta", True, "the Okta On-Premises Provisioning agent"),
    "onelogin": Reach("OneLogin", True),
    "jumpcloud": Reach("JumpCloud", True),
    "other": Reach("Another SCIM 2.0 client", False),
}


def reach(key: str) -> Reach:
    return REACH.get(key, REACH["other"])


def private_host(host: str) -> bool:
    """Loopback, private or link-local addresses, and names only this machine or its LAN resolves: a bare host
    name ("vm", "ops-laptop") is completed by the local resolver, never by the internet's DNS."""
    if host.lower() == "localhost" or host.lower().endswith((".local", ".localhost", ".internal", ".lan")):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return "." not in host.strip(".")
    return not address.is_global  # private, loopback, link-local, shared and documentation ranges alike


def obstacles(key: str, settings: EndpointSettings, self_signed: bool) -> list[str]:
    """What the IdP's cloud service would refuse in these settings (empty for a client that is not a cloud one)."""
    idp = reach(key)
    if not idp.cloud:
        return []
    found = []
    host = settings.reachable_host
    if private_host(host):
        found.append(f"cannot reach {host} (known only to this computer or its network)")
    if self_signed:
        found.append("refuses a self-signed certificate")
    return found


def routes(key: str) -> list[tuple[str, str]]:
    """The set-ups that work for this IdP, as (route, what the operator does)."""
    idp = reach(key)
    choices = [
        (PUBLIC, "A public DNS name and a certificate from a public CA (set above)"),
        (PROXY, "A reverse proxy with a public name and certificate, forwarding here"),
    ]
    if idp.agent:
        choices.append((AGENT, f"{idp.agent[0].upper()}{idp.agent[1:]} on your network"))
    return choices


def route_problem(key: str, route: str | None, settings: EndpointSettings, self_signed: bool) -> str | None:
    """Why this set-up cannot work for the IdP (None: it can). ``route`` is how the operator says it will be
    reached; no route is needed when nothing stands in the way."""
    found = obstacles(key, settings, self_signed)
    if not found:
        return None
    idp = reach(key)
    if route is None:
        return f"{idp.name} provisions from its cloud: it {' and '.join(found)}. Choose how it will reach Custos."
    if route == AGENT and not idp.agent:
        return f"{idp.name} has no on-premises agent: choose a public name and certificate, or a reverse proxy."
    if route == PUBLIC:
        return (
            f"For {idp.name} to call Custos directly, listen for other machines under a public DNS name and use your "
            f"certificate from a public CA: as set, it {' and '.join(found)}."
        )
    return None

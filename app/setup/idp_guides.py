"""Where each identity provider wants the endpoint's address and token, in its own words.

Kept as data, not UI, so the first-run assistant, the Tokens page and the user guide say the same thing.
Menu paths follow each vendor's console as documented at the time of writing; the reachability notes are the
part operators most often miss: the cloud provisioning services call in from the internet.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.policy.type_filter import NO_TYPE, split_typed
from app.setup.idp_mappings import lists_every_default, sent_by_itself, user_mappings


@dataclass(frozen=True)
class IdpGuide:
    key: str
    name: str
    url_field: str  # the IdP's label for the base URL
    token_field: str  # the IdP's label for the bearer token
    steps: tuple[str, ...]
    reachability: str
    # Where the attribute mappings are edited, and the IdP's default user mappings as (the IdP's name for the
    # mapping, the SCIM attribute it writes), from app/setup/idp_mappings.py (the one list, with its sources).
    # Empty: Custos does not know that IdP's defaults, and says so.
    mappings_menu: str = ""
    default_mappings: tuple[tuple[str, str], ...] = ()

    def render(self, base_url: str, fingerprint: str, self_signed: bool) -> str:
        """Plain text with the values filled in; the token itself is never part of it."""
        lines = [f"{self.name}", ""]
        lines += [f"{n}. {step}" for n, step in enumerate(self.steps, start=1)]
        lines += [
            "",
            f"{self.url_field}: {base_url}",
            f"{self.token_field}: the token shown above (it is shown only once)",
            f"Certificate SHA-256: {fingerprint}",
            "",
            self.reachability,
        ]
        if self_signed:
            lines.append(
                "This certificate is self-signed: cloud IdPs refuse it. Put a certificate from a public CA in "
                "front (your own, or a reverse proxy that terminates TLS), or use the IdP's on-premises agent."
            )
        return "\n".join(lines)


_CLOUD = (
    "{name} calls the endpoint from its cloud service: the base URL must be reachable from the internet over "
    "HTTPS with a certificate from a public CA."
)

GUIDES: tuple[IdpGuide, ...] = (
    IdpGuide(
        key="entra",
        name="Microsoft Entra ID",
        url_field="Tenant URL",
        token_field="Secret Token",
        steps=(
            "Entra admin center → Enterprise applications → New application → Create your own application → "
            "'Integrate any other application you don't find in the gallery'.",
            "Open the application → Provisioning → Get started → Provisioning Mode: Automatic.",
            "Under Admin Credentials paste the Tenant URL and the Secret Token below, then Test Connection.",
            "Under Mappings keep only the attributes the Custos policy holds: Custos rejects the others "
            "(or strips them, if the policy says so) and records each refusal.",
            "Assign users and groups, then turn Provisioning Status On.",
        ),
        reachability=_CLOUD.format(name="Entra ID")
        + " For an endpoint on a private network, install Microsoft's provisioning agent on a machine that can "
        "reach it.",
        mappings_menu="Enterprise applications → your application → Provisioning → Mappings → "
        "Provision Microsoft Entra ID Users",
        default_mappings=user_mappings("entra"),
    ),
    IdpGuide(
        key="okta",
        name="Okta",
        url_field="SCIM connector base URL",
        token_field="Bearer token (Authentication Mode: HTTP Header)",
        steps=(
            "Admin Console → Applications → Create App Integration (SAML 2.0 or SWA) and finish the wizard.",
            "General → App Settings → Edit → Provisioning: SCIM → Save.",
            "Provisioning → Integration → Edit: paste the base URL, set 'Unique identifier field for users' "
            "to userName, tick Push New Users, Push Profile Updates and Push Groups, Authentication Mode "
            "HTTP Header, and paste the token.",
            "Test Connector Configuration, Save, then enable Create / Update / Deactivate Users under To App.",
        ),
        reachability=_CLOUD.format(name="Okta")
        + " For a private network, Okta's On-Premises Provisioning agent can relay.",
        mappings_menu="Applications → your application → Provisioning → To App → Attribute Mappings",
        default_mappings=user_mappings("okta"),
    ),
    IdpGuide(
        key="onelogin",
        name="OneLogin",
        url_field="SCIM Base URL",
        token_field="SCIM Bearer Token",
        steps=(
            "Applications → Add App → 'SCIM Provisioner with SAML (SCIM v2 Enterprise)' → Save.",
            "Configuration: paste the SCIM Base URL and the SCIM Bearer Token, then Enable the API connection.",
            "Provisioning: tick 'Enable provisioning' and choose what happens on deletion.",
            "Parameters: map only the attributes the Custos policy holds.",
        ),
        reachability=_CLOUD.format(name="OneLogin"),
    ),
    IdpGuide(
        key="jumpcloud",
        name="JumpCloud",
        url_field="Base URL",
        token_field="Token Key",
        steps=(
            "SSO Applications → Add New Application → Custom Application, with Identity Management ticked.",
            "Identity Management → SCIM 2.0: paste the Base URL and the Token Key, Test Connection, Activate.",
            "Bind the user groups to provision on the User Groups tab.",
        ),
        reachability=_CLOUD.format(name="JumpCloud"),
    ),
    IdpGuide(
        key="other",
        name="Another SCIM 2.0 client",
        url_field="Base URL",
        token_field="Authorization header",
        steps=(
            "Give the client the base URL; it sends 'Authorization: Bearer <token>' on every request.",
            "Check from this computer: curl --cacert tls-cert.pem -H 'Authorization: Bearer <token>' "
            "<base URL>/ServiceProviderConfig (tls-cert.pem is in the Custos data folder).",
        ),
        reachability="Any client that can reach the address and trusts the certificate can provision.",
    ),
)


def guide(key: str) -> IdpGuide:
    for item in GUIDES:
        if item.key == key:
            return item
    raise KeyError(key)


def _type_free(path: str) -> str:
    return re.sub(r"\[type [^\]]*\]", "", path).lower()


def _covers(refused: str, target: str) -> bool:
    """Does the IdP mapping that writes ``target`` send (part of) the refused path?

    ``phoneNumbers[type eq "mobile"]`` covers ``phoneNumbers[type eq "mobile"].value``; a path recorded
    without a type (``phoneNumbers``) covers every phoneNumbers mapping; ``name.formatted`` covers itself."""
    refused_l, target_l = refused.lower(), target.lower()
    if target_l == refused_l or target_l.startswith(refused_l + ".") or target_l.startswith(refused_l + "["):
        return True
    plain = _type_free(target_l)
    return "[" not in refused and (plain == refused_l or plain.startswith(refused_l + "."))


def mappings_to_remove(guide: IdpGuide, refused_paths: list[str]) -> list[str]:
    """The IdP's default mappings that send the refused paths, in the IdP's own order and words."""
    return [name for name, target in guide.default_mappings if any(_covers(path, target) for path in refused_paths)]


def removal_instruction(guide: IdpGuide, refused_paths: list[str]) -> str:
    """Plain text to paste into a ticket or follow in the IdP's console: names only, never a value.

    Elements refused for having no type (``phoneNumbers[type missing]``) are no mapping to remove: the one that
    sends them must name a type (the policy holds some types of that attribute), and the text says so."""
    untyped = [path for path in refused_paths if NO_TYPE in path]
    typed = [path for path in refused_paths if NO_TYPE not in path]
    parts = [_removal(guide, typed)] if typed else []
    return "\n".join(parts + [_typing(guide, split_typed(path)[0]) for path in untyped])


def _typing(guide: IdpGuide, attribute: str) -> str:
    where = f"{guide.name}: {guide.mappings_menu}" if guide.mappings_menu else guide.name
    return (
        f"In {where} → the mapping whose target attribute is {attribute} or {attribute}.value (with no "
        f'[type eq "…"]) sends {attribute} without a type, which the Custos policy cannot hold: change its target '
        f'to {attribute}[type eq "…"].value with a type the policy holds, or remove it.'
    )


def _removal(guide: IdpGuide, refused_paths: list[str]) -> str:
    names = mappings_to_remove(guide, refused_paths)
    itself = [p for p in refused_paths if any(_covers(p, t) for t in sent_by_itself(guide.key))]
    if guide.default_mappings and (names or itself):
        listed = "\n".join(f"  - {name}" for name in names)
        unknown = [
            p for p in refused_paths if p not in itself and not any(_covers(p, t) for _n, t in guide.default_mappings)
        ]
        kind = "custom" if lists_every_default(guide.key) else "other"
        extra = f"\nAlso remove any {kind} mapping whose target attribute is: {', '.join(unknown)}." if unknown else ""
        if itself:
            extra += (
                f"\n{guide.name} sends {', '.join(itself)} itself, whatever the mappings say: keep "
                f"{'it' if len(itself) == 1 else 'them'} in the Custos catalogue, or every push stays refused."
            )
        if not names:
            return extra.lstrip("\n")
        what = "this mapping" if len(names) == 1 else f"these {len(names)} mappings"
        return f"In {guide.name}: {guide.mappings_menu} → remove {what}:\n{listed}{extra}"
    targets = "\n".join(f"  - {path}" for path in refused_paths)
    return (
        f"In {guide.name}: remove the attribute mappings whose SCIM target attribute is one of these "
        f"(Custos has no list of {guide.name}'s default mapping names):\n{targets}"
    )


def guide_for_client(client: str) -> IdpGuide:
    """The IdP a token most likely belongs to, from its name (the first run names it after the IdP)."""
    lowered = client.lower()
    for item in GUIDES:
        if item.key != "other" and (item.key in lowered or item.name.lower() in lowered):
            return item
    if "azure" in lowered or "aad" in lowered:
        return guide("entra")
    return guide("other")

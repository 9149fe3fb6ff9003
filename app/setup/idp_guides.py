"""Where each identity provider wants the endpoint's address and token, in its own words.

Kept as data, not UI, so the first-run assistant, the Tokens page and the user guide say the same thing.
Menu paths follow each vendor's console as documented at the time of writing; the reachability notes are the
part operators most often miss: the cloud provisioning services call in from the internet.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class IdpGuide:
    key: str
    name: str
    url_field: str  # the IdP's label for the base URL
    token_field: str  # the IdP's label for the bearer token
    steps: tuple[str, ...]
    reachability: str

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

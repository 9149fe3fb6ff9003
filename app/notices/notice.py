"""One notice for the tray, and the notice for an operator or configuration alert.

A notice carries a kind (what the rate limit counts by), a title and a text for people, and the page that
clicking it opens. Its text is built from rule names, counts, ids and clocks only: an alert's free ``summary``
is not used, since a rule written later might put a token name or an address in it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from app.core.events import AlertRaised

# Kinds, each rate-limited on its own: a storm of one never hides the first of another.
OPERATOR_ALERT = "operator_alert"
CONFIGURATION_ALERT = "configuration_alert"
BREACH_CLOCK = "breach_clock"
REQUEST_DEADLINE = "request_deadline"
TOKEN_EXPIRY = "token_expiry"
CERTIFICATE_EXPIRY = "certificate_expiry"
KINDS = (OPERATOR_ALERT, CONFIGURATION_ALERT, BREACH_CLOCK, REQUEST_DEADLINE, TOKEN_EXPIRY, CERTIFICATE_EXPIRY)

# The page a click opens, by kind (names the UI maps onto its tabs).
INCIDENTS, OUTSIDE_POLICY, REQUESTS, TOKENS, OVERVIEW = "incidents", "outside_policy", "requests", "tokens", "overview"
PAGES = {OPERATOR_ALERT: INCIDENTS, CONFIGURATION_ALERT: OUTSIDE_POLICY, BREACH_CLOCK: INCIDENTS,
         REQUEST_DEADLINE: REQUESTS, TOKEN_EXPIRY: TOKENS, CERTIFICATE_EXPIRY: OVERVIEW}  # fmt: skip

PLURALS = {
    OPERATOR_ALERT: "operator alerts",
    CONFIGURATION_ALERT: "configuration alerts",
    BREACH_CLOCK: "breach clock warnings",
    REQUEST_DEADLINE: "request deadline warnings",
    TOKEN_EXPIRY: "token expiry warnings",
    CERTIFICATE_EXPIRY: "certificate expiry warnings",
}

# What each anomaly rule watches, in words (app/siem/rules.py names them); an unknown rule is named by its id.
RULE_WORDS = {
    "mass_deprovisioning": "SCIM deletes",
    "auth_failures": "authentication failures",
    "schema_rejections": "requests refused for data outside the policy",
    "bulk_exports": "subject-access exports",
    "erased_subject_returned": "re-creations of erased people refused",
    "bulk_reads": "resources read by one client",
    "auth_throttled": "failed authentications throttled",
    "audit_recorder": "audit events that could not be recorded",
    "new_token_source": "a token used from an address it had not used before",
    "after_hours": "a change outside working hours",
    "vault-damaged": "requests that met a damaged vault page",
    "vault-unavailable": "requests refused: the vault file could not be written",
}
UNCOUNTED = frozenset({"new_token_source", "after_hours"})  # their "observed" is no count of the words


@dataclass(frozen=True)
class Notice:
    kind: str
    title: str
    text: str
    reference: str = ""  # the incident ("3") or request id a click may select; "" for a page only
    urgent: bool = False  # shown with the warning icon (overdue, damage)

    @property
    def page(self) -> str:
        return PAGES[self.kind]

    def folding(self, count: int, since: str) -> Notice:
        """This notice as the latest of ``count`` of its kind held back since ``since`` (itself when 1)."""
        if count <= 1:
            return self
        text = f"{count} {PLURALS[self.kind]} since {since}; the latest: {self.text}"
        return replace(self, title=f"{self.title} ({count})", text=text, reference="")


def _rule_words(rule: str) -> str:
    words = RULE_WORDS.get(rule)
    if words is not None:
        return words
    safe = "".join(ch for ch in rule if ch.isalnum() or ch in "_-")[:40]  # an id, never free text
    return f"rule {safe or 'unnamed'}"


def _first_sentence(summary: str) -> str:
    """The vault error's first sentence (it names the file and what happened, never a person)."""
    head = summary.split(": ", 1)[0].strip()
    return f"{head}." if head else ""


def from_alert(alert: AlertRaised) -> Notice:
    """The notice for an alert on the event bus: the rule in words, its counts and window; nothing else."""
    words = _rule_words(alert.rule)
    window = f" within {alert.window_minutes} min" if alert.window_minutes else ""
    threshold = f" (threshold {alert.threshold})" if alert.threshold else ""
    if alert.configuration:
        text = (f"{alert.observed} {words}{window}{threshold}. An identity provider sends attributes the policy "
                "does not hold; nothing was stored. Click to review them.")  # fmt: skip
        return Notice(CONFIGURATION_ALERT, "Custos: data outside the policy", text)
    if alert.rule == "vault-damaged":
        text = f"{alert.observed} {words}. Run 'custos vault check'. Click to open Custos."
        return Notice(OPERATOR_ALERT, "Custos: the vault is damaged", text, urgent=True)
    if alert.rule == "vault-unavailable":  # moved, replaced or deleted under the endpoint, or no longer writable
        text = f"{alert.observed} {words}. {_first_sentence(alert.summary)} Click to open Custos."
        return Notice(OPERATOR_ALERT, "Custos: the vault is unavailable", text, urgent=True)
    counted = alert.observed and alert.rule not in UNCOUNTED
    observed = f"{alert.observed} {words}" if counted else words[0].upper() + words[1:]
    if not counted:
        window = threshold = ""
    text = f"{observed}{window}{threshold}. Click to review it in Incidents."
    return Notice(OPERATOR_ALERT, "Custos: alert", text)

"""The vocabulary of the register: rights, channels, states and their transitions, refusal grounds, outcomes."""

from __future__ import annotations

RIGHTS = {
    "access": "Access (Art. 15)",
    "rectification": "Rectification (Art. 16)",
    "erasure": "Erasure (Art. 17)",
    "restriction": "Restriction of processing (Art. 18)",
    "portability": "Data portability (Art. 20)",
    "objection": "Objection (Art. 21)",
    "not_gdpr": "Not a GDPR request (misrouted)",
}
EXPORT_RIGHTS = ("access", "portability")  # answered with the subject export
TASK_RIGHTS = ("rectification", "restriction", "objection")  # done at the IdP or a target, recorded as a task
CHANNELS = ("email", "form", "letter", "phone", "in_person")
REQUESTERS = ("subject", "representative")
# Art. 18(3): how the person was told, before a restriction is lifted (a means, not an address: it goes on the trail)
INFORMED_BY = ("email", "letter", "phone", "in_person", "form")
INFORM_BEFORE_LIFTING = (
    "Art. 18(3): the person is informed before the restriction is lifted; record when and how with --informed-at "
    "TIME and --informed-by " + "|".join(INFORMED_BY) + "."
)
VERIFICATION = {
    "not_needed": "not needed",
    "requested": "more information requested (Art. 12(6))",
    "verified": "verified",
    "failed": "could not be verified",
}
NO_CHECK_RECORDED = "no check recorded (needed only where there is reasonable doubt, Art. 12(6))"


def verification_said(verification: str, verified_at: object) -> str:
    """The identity check as recorded. A request starts as "not_needed" without anyone deciding it: said so, the
    app stated a decision nobody made; until one is recorded (``verified_at`` set) it reads as what it is."""
    if verification == "not_needed" and verified_at is None:
        return NO_CHECK_RECORDED
    return VERIFICATION[verification]


# A request moves forward only: open → in_progress → answered → closed (refusal and extension are recorded on the
# way; an answer may be sent straight from open when everything was refused or misrouted).
STATES = ("open", "in_progress", "answered", "closed")
TRANSITIONS = {
    "open": ("in_progress", "answered"),
    "in_progress": ("answered",),
    "answered": ("closed",),
    "closed": (),
}
# none_held (decision 0073): the person was identified and nothing about them is held (never held, or erased
# before the request): the Art. 15(1) confirmation "whether or not" data are processed, not an Art. 11(2) refusal.
STEP_STATES = ("pending", "started", "done", "refused", "not_applicable", "none_held")
STEP_FINAL = ("done", "refused", "not_applicable", "none_held")

REFUSAL_GROUNDS = {
    "art12-5": "Art. 12(5): the request is manifestly unfounded or excessive",
    "art17-3a": "Art. 17(3)(a): exercising the right of freedom of expression and information",
    "art17-3b": "Art. 17(3)(b): compliance with a legal obligation or a task in the public interest",
    "art17-3c": "Art. 17(3)(c): reasons of public interest in the area of public health",
    "art17-3d": "Art. 17(3)(d): archiving, scientific or historical research, or statistics",
    "art17-3e": "Art. 17(3)(e): the establishment, exercise or defence of legal claims",
    "art11": "Art. 11(2): the controller cannot identify the data subject",
}
ERASURE_ONLY_GROUNDS = ("art17-3a", "art17-3b", "art17-3c", "art17-3d", "art17-3e")

OUTCOMES = {
    "fulfilled": "Done as asked",
    "partially_refused": "Partly done, partly refused",
    "refused": "Refused",
    "not_gdpr": "Not a GDPR request",
    "none_held": "No personal data held",
}
STATE_WORDS = {"open": "open", "in_progress": "in progress", "answered": "answered", "closed": "closed"}


def outcome_of(step_states: list[str]) -> str:
    """The request's outcome from its steps' (final) states."""
    done = [s for s in step_states if s != "not_applicable"]
    if not done:
        return "not_gdpr"
    if all(s == "refused" for s in done):
        return "refused"
    if all(s == "none_held" for s in done):
        return "none_held"
    # a mix: nothing held for one right is that right answered in full, as "done" is
    return "partially_refused" if "refused" in done else "fulfilled"

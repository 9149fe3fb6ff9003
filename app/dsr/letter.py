"""The answer to a request, as a letter draft in Markdown and PDF: plain language, what was asked, what was done
for each right, the reasons of any refusal, and the right to complain and to a judicial remedy (Art. 12(4)).

The letter is addressed to the requester as recorded (sealed detail); once that detail was crypto-shredded the
letter says so instead of inventing an address. Both files are written with mode 0600: they hold personal data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import MappingProxyType

from app.documents.private import private, staged_into
from app.dsr import deadline, model
from app.dsr.register import RequestView, private_text
from app.policy.model import NEEDS_HUMAN, Policy

COMPLAINT = (
    "You have the right to lodge a complaint with a supervisory authority, in particular in the Member State of "
    "your habitual residence, place of work or of the alleged infringement (Art. 77 GDPR), and the right to an "
    "effective judicial remedy before a court (Art. 79 GDPR)."
)
_NONE: Mapping[str, bool] = MappingProxyType({})
_NOTHING_OPEN: Mapping[str, Sequence[str]] = MappingProxyType({})


@dataclass(frozen=True)
class Kept:
    """What an erasure keeps about the person (decision 0020): the identifier fields whose keyed hashes (tombstones)
    are held, and whether they still refuse the identity provider re-creating the person (not released)."""

    fields: tuple[str, ...]
    blocking: bool


_NOTHING_KEPT: Mapping[str, Kept] = MappingProxyType({})
_REACH_UNKNOWN: Mapping[str, int] = MappingProxyType({})  # an erasure not in it: how many places it reached unknown
_NOT_ERASED: Mapping[str, datetime] = MappingProxyType({})  # an earlier erasure's reference → when it closed
_IDENTIFIER_WORDS = {"userName": "user name", "externalId": "ID at our identity provider"}
REFUSAL_NOTICE = (
    "Where we have not taken the action you asked for, Art. 12(4) GDPR requires us to tell you why, and that you "
    "may complain to a supervisory authority and seek a judicial remedy."
)


def _when(view: RequestView, value: datetime) -> str:
    """The letter's date on the controller's calendar, as its "received on" day is: the UTC date dated a letter
    written just after local midnight east of UTC the day before the request it answers had arrived."""
    return deadline.today_in(view.fields["zone"], value).isoformat()


def _source(link_ref: str | None, source_held: Mapping[str, bool]) -> str:
    """What the erasure receipt says about the identity provider (the source), said to the person; nothing where
    the receipt has no source line."""
    if link_ref is None or link_ref not in source_held:
        return ""
    if source_held[link_ref]:
        return (
            f" {NEEDS_HUMAN}: our identity provider, from which these data come, was not yet seen removing "
            "or blocking your account (the receipt's 'source' line); say what was done there before sending."
        )
    return " Your account was also removed or blocked at our identity provider, from which these data come."


def _kept(link_ref: str | None, kept: Mapping[str, Kept]) -> str:
    """What "erased" leaves behind, said to the person as their receipt says it: "Your data were erased" stood
    alone while Custos keeps keyed hashes of their identifiers to refuse the identity provider re-creating them.
    Nothing where the erasure left no tombstone (a retention erasure, or no identifier held)."""
    held = kept.get(link_ref or "")
    if held is None or not held.fields:
        return ""
    names = [word for field, word in _IDENTIFIER_WORDS.items() if field in held.fields]
    names += [field for field in held.fields if field not in _IDENTIFIER_WORDS]
    one = len(names) == 1
    # subject and object pronouns apart: "We use they only…" was written whenever two identifiers were kept
    singular, plural = ("a keyed hash", "a code", "It", "it"), ("keyed hashes", "codes", "They", "them")
    hashes, codes, it, them = singular if one else plural
    what = (
        f" We keep only this, so that the erasure lasts: {hashes} of your {' and of your '.join(names)} ({codes} "
        f"computed with a secret key kept in our encrypted store). {it} cannot be turned back into your name or "
        "your identifiers."
    )
    if held.blocking:
        use = f" We use {them} only to recognise your account and refuse it if our identity provider sends it"
        return what + use + " again."
    released = "was released and no longer stops" if one else "were released and no longer stop"
    return what + f" {it} {released} your account being created again."


def _erasure(state: str, link_ref: str | None, source_held: Mapping[str, bool],
             not_erased: Mapping[str, Sequence[str]], kept: Mapping[str, Kept] = _NOTHING_KEPT,
             reached: Mapping[str, int] = _REACH_UNKNOWN) -> str:  # fmt: skip
    """What the erasure did, as its request says: "erased … from every application" and "the receipt is attached"
    were written while the erasure was still open at a recipient (no receipt attached, nothing confirmed there),
    and after it closed with a target that only deprovisioned. Each gap is marked for the DPO instead."""
    return _erasure_done(state, link_ref, source_held, not_erased, reached) + _kept(link_ref, kept)


def _erasure_done(state: str, link_ref: str | None, source_held: Mapping[str, bool],
                  not_erased: Mapping[str, Sequence[str]],
                  reached: Mapping[str, int] = _REACH_UNKNOWN) -> str:  # fmt: skip
    pending = ", ".join(not_erased.get(link_ref or "", ()))
    if state != "done":
        return (f"In progress. Your data were erased from our directory mirror (erasure request {link_ref}); the "
                "erasure is not yet confirmed at every application or recipient we had sent them to"
                + (f" (still open: {pending})" if pending else "") + f". {NEEDS_HUMAN}: answer once the erasure "
                "has closed; its signed receipt is attached then." + _source(link_ref, source_held))  # fmt: skip
    if pending:
        return (
            f"Done in part. Your data were erased from our directory mirror (erasure request {link_ref}); the "
            f"signed erasure receipt is attached. {NEEDS_HUMAN}: the receipt does not confirm the erasure at "
            f"{pending}; say what was done there before sending." + _source(link_ref, source_held)
        )
    if reached.get(link_ref or "") == 0:  # "from every application we had sent them to" was true of none
        return (
            f"Done. Your data were erased from our directory mirror (erasure request {link_ref}); we had not passed "
            "them on to any other application or recipient. The signed erasure receipt is attached."
            + _source(link_ref, source_held)
        )
    return (
        "Done. Your data were erased from our directory mirror and from every application we had sent them "
        f"to (erasure request {link_ref}); the signed erasure receipt is attached." + _source(link_ref, source_held)
    )


def _copy(view: RequestView, right: str) -> str:
    """The subject export, said as it is: made before the same request's erasure, it is what we held, not what we
    hold ("the personal data we hold about you" stood beside "your data were erased")."""
    erasure = view.step("erasure")
    if erasure is None or erasure.state not in ("started", "done"):
        return (
            "Done. A copy of the personal data we hold about you is attached: a PDF to read and a structured, "
            "machine-readable JSON file, with why we hold each item, for how long and who receives it."
        )
    step = view.step(right)
    made = f" on {_when(view, step.done_at)}" if step is not None and step.done_at is not None else ""
    return (
        f"Done. A copy of the personal data we held about you, made{made} before we erased them as you asked, is "
        "attached: a PDF to read and a structured, machine-readable JSON file, with why we held each item, for how "
        "long and who received it."
    )


_NOTHING_TO = {
    "portability": "so there are no data of yours to provide",
    "rectification": "so there is nothing to rectify",
    "erasure": "so there is nothing to erase",
    "restriction": "so there is no processing to restrict",
    "objection": "so there is no processing to object to",
}


def _none_held(view: RequestView, right: str, link_ref: str | None, erased_on: Mapping[str, datetime],
               kept: Mapping[str, Kept]) -> str:  # fmt: skip
    """Nothing about the person is held (decision 0073): Art. 15(1)'s confirmation "whether or not" their data are
    processed, said as it is. Erased earlier, the letter gives the day and the erasure's reference (the one on its
    signed receipt) and what that erasure keeps; nothing else, and no name or identifier the request lacks."""
    why = f", {_NOTHING_TO[right]}" if right in _NOTHING_TO else ""
    closed = erased_on.get(link_ref or "")
    if link_ref is None or closed is None:
        return f"We confirm that we do not process personal data about you (Art. 15(1)){why}."
    erased = (f"We erased the personal data we held about you on {_when(view, closed)} (erasure reference "
              f"{link_ref}, the reference on its signed erasure receipt).")  # fmt: skip
    tombstones = _kept(link_ref, kept)
    rest = "Beyond that, we" if tombstones else "Since then we"
    return f"{erased}{tombstones} {rest} confirm that we do not process personal data about you (Art. 15(1)){why}."


def _done(view: RequestView, right: str, state: str, link_ref: str | None,
          source_held: Mapping[str, bool] = _NONE,
          not_erased: Mapping[str, Sequence[str]] = _NOTHING_OPEN,
          kept: Mapping[str, Kept] = _NOTHING_KEPT, reached: Mapping[str, int] = _REACH_UNKNOWN,
          erased_on: Mapping[str, datetime] = _NOT_ERASED) -> str:  # fmt: skip
    if state == "refused":
        step = view.step(right)
        ground = model.REFUSAL_GROUNDS.get(step.ground or "", "") if step else ""
        reasoning = private_text(view, "refusals", right) or NEEDS_HUMAN
        return f"Refused. Ground: {ground}. Our reasons: {reasoning}"
    if state == "not_applicable":
        # Never the request's note: it is the DPO's internal note (where it was forwarded, why), and the letter
        # quoted it verbatim to the person.
        return "This is not a request under the GDPR."
    if state == "none_held":
        return _none_held(view, right, link_ref, erased_on, kept)
    step = view.step(right)
    if right in model.EXPORT_RIGHTS and state == "done" and step is not None and step.link_kind == "export":
        # No "(Art. 20)" on the JSON file: the export is an Art. 20 copy only where the person's data rest on
        # consent or a contract (app/exports/subject.py, its ``articles``); the letter said it for every access.
        return _copy(view, right)
    if right in model.EXPORT_RIGHTS and state != "done":
        # Said "Done. A copy … is attached" before any export was made (an unmatched request: `dsr act` refused),
        # above "Nothing is attached to this answer."
        return (f"In progress. {NEEDS_HUMAN}: no copy of the data has been made for this request yet; answer once "
                "it is made, and it is attached then.")  # fmt: skip
    if right == "erasure":
        return _erasure(state, link_ref, source_held, not_erased, kept, reached)
    if state == "done":
        return f"Done. {private_text(view, 'tasks', right) or NEEDS_HUMAN}"
    return "In progress."  # never in a sent answer: answering needs every right to have its outcome


def sections(
    view: RequestView,
    policy: Policy,
    source_held: Mapping[str, bool] = _NONE,
    not_erased: Mapping[str, Sequence[str]] = _NOTHING_OPEN,
    kept: Mapping[str, Kept] = _NOTHING_KEPT,
    reached: Mapping[str, int] = _REACH_UNKNOWN,
    erased_on: Mapping[str, datetime] = _NOT_ERASED,
) -> list[tuple[str, list[str]]]:
    """``source_held``: for each of the request's erasures with a source line, whether the identity provider
    still holds the person (as the erasure receipt says); ``not_erased``: for each erasure, the targets and
    recipients where it is not confirmed (open, or closed without erasing); ``kept``: for each erasure, the
    tombstones it keeps (what is kept about the person, and why); ``reached``: for each erasure, how many targets
    and recipients it had to reach; ``erased_on``: for each earlier erasure a "none held" step names, when it
    closed."""
    requester = private_text(view, "requester", "name") or ("[crypto-shredded]" if view.shredded else NEEDS_HUMAN)
    address = private_text(view, "answer", "address")
    rights = ", ".join(model.RIGHTS[r] for r in view.rights)
    intro = [
        f"To: {requester}" + (f" — {address}" if address else ""),
        f"Our reference: {view.id}",
        f"We received your request on {view.received_day.isoformat()} ({rights}).",
    ]
    if view.requester == "representative":
        intro.append("You made this request on behalf of the data subject; we checked your authority to act.")
    if view.extended_months:
        reason = private_text(view, "extension_reason") or NEEDS_HUMAN
        # What the person was told is the further months and why; the date they lead to moves when the clock later
        # stands still for identity information (Art. 12(6)), and "we told you that we needed until <that date>"
        # put words in an earlier letter that it never said.
        further = "one further month" if view.extended_months == 1 else f"{view.extended_months} further months"
        due = (view.extended_due or view.deadline).isoformat()
        intro.append(f"On {view.extension_told.isoformat()} we told you that we needed {further} to answer "
                     f"(Art. 12(3)), because: {reason.rstrip('.')}. Our answer is due by {due}.")  # fmt: skip
    done = [
        f"{model.RIGHTS[s.right]}: "
        + _done(view, s.right, s.state, s.link_ref, source_held, not_erased, kept, reached, erased_on)
        for s in view.steps
    ]
    files = [f"{a.name} (SHA-256 {a.sha256})" for a in view.attachments if not a.kind.startswith("letter.")]
    refused = any(s.state == "refused" for s in view.steps)
    rights_text = ([REFUSAL_NOTICE] if refused else []) + [COMPLAINT]
    contact = [f"Controller: {policy.controller.one_line() or NEEDS_HUMAN}"]
    if not policy.dpo.is_empty:
        contact.append(f"Data Protection Officer: {policy.dpo.one_line()}")
    return [
        ("Your request", intro),
        ("What we did", done),
        ("Attached", files or ["Nothing is attached to this answer."]),
        ("Your rights", rights_text),
        ("Who we are", contact),
    ]


def unfinished(parts: list[tuple[str, list[str]]]) -> list[str]:
    """Where a letter still holds the NEEDS_HUMAN marker, named by its place, never quoted (a paragraph may hold
    the address): a draft with parts a person must complete was recorded as the letter sent, its SHA-256 and all."""
    places = []
    for heading, paragraphs in parts:
        for paragraph in paragraphs:
            if NEEDS_HUMAN not in paragraph:
                continue
            if heading == "What we did":
                places.append(f"what we did for {paragraph.split(': ', 1)[0]}")
            elif paragraph.startswith("To: "):
                places.append("the addressee (To:)")
            elif paragraph.startswith("On ") and "(Art. 12(3))" in paragraph:
                places.append("the reason for the extension")
            else:
                places.append(f"“{heading}”")
    return list(dict.fromkeys(places))


def title(view: RequestView) -> str:
    return f"Answer to your data protection request {view.id}"


def markdown(
    view: RequestView,
    policy: Policy,
    now: datetime,
    source_held: Mapping[str, bool] = _NONE,
    not_erased: Mapping[str, Sequence[str]] = _NOTHING_OPEN,
    kept: Mapping[str, Kept] = _NOTHING_KEPT,
    reached: Mapping[str, int] = _REACH_UNKNOWN,
    erased_on: Mapping[str, datetime] = _NOT_ERASED,
) -> str:
    lines = [f"# {title(view)}", "", f"Draft of {_when(view, now)}.", ""]
    for heading, paragraphs in sections(view, policy, source_held, not_erased, kept, reached, erased_on):
        lines += [f"## {heading}", ""]
        lines += [f"- {p}" if heading in ("What we did", "Attached") else f"{p}\n" for p in paragraphs]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def write(
    view: RequestView,
    policy: Policy,
    now: datetime,
    out_dir: Path,
    source_held: Mapping[str, bool] = _NONE,
    not_erased: Mapping[str, Sequence[str]] = _NOTHING_OPEN,
    kept: Mapping[str, Kept] = _NOTHING_KEPT,
    reached: Mapping[str, int] = _REACH_UNKNOWN,
    erased_on: Mapping[str, datetime] = _NOT_ERASED,
) -> list[Path]:
    """Write ``dsr-<id>-answer.md`` and ``.pdf`` into ``out_dir``; returns their paths."""
    names = [f"{view.id}-answer.md", f"{view.id}-answer.pdf"]
    with staged_into(out_dir) as staging:  # renamed into out_dir: a link under either name is replaced
        md_path, pdf_path = (private(staging / name) for name in names)  # 0600 before anything is in them
        text = markdown(view, policy, now, source_held, not_erased, kept, reached, erased_on)
        md_path.write_text(text, encoding="utf-8")
        from app.documents.pdf import ExportPdf  # fpdf2 costs ~0.3 s to import: only when a PDF is written

        pdf = ExportPdf(title(view), [f"Reference {view.id}", f"Draft of {_when(view, now)}"], landscape=False)
        pdf.heading(title(view), 1)
        for heading, paragraphs in sections(view, policy, source_held, not_erased, kept, reached, erased_on):
            pdf.heading(heading)
            for paragraph in paragraphs:
                pdf.paragraph(paragraph)
        pdf.save(pdf_path)
    return [out_dir / name for name in names]

"""What the running Custos can state from evidence, for the records: counts, measures in force, retention, breaches.

Breaches are read from the breach register's own tables (``app/incidents``), not from audit event kinds: the
record once said "no breach" while a notified incident sat in the register under ``incident.*`` events.

Everything here is read from the open vault and the running configuration, never typed in by a person, so the
Art. 30 record says what *is* rather than what was once promised. No personal data is gathered: counts, settings,
event times and operator-chosen names (tokens, targets) only.
"""

from __future__ import annotations

import json
import os
import socket
import stat
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import ColumnElement, Connection, and_, func, or_, select

from app.audit.prune import Horizon, horizon
from app.audit.tables import AuditEvent
from app.core.wording import counted
from app.feed.tables import Target
from app.policy import versions
from app.policy.durations import Period
from app.policy.held import held_by_user
from app.policy.loader import load_policy
from app.policy.model import Policy
from app.policy.retention import Overdue, overdue
from app.store.engine import CipherSettings
from app.store.models import ApiToken, ScimResource
from app.store.vault import Vault

# What the trail holds, said plainly: a keyed pseudonym is still personal data (Art. 4(5)), and so are operator
# names and client addresses. Checked against app/audit (trail.Event, pseudonyms) and the SCIM request recorder.
TRAIL_CONTENT = (
    "It holds personal data, kept to what accountability needs: data subjects as keyed pseudonyms (HMAC-SHA256 "
    "under a key per subject, destroyed at erasure; still personal data, Art. 4(5)), forensic details encrypted "
    "under that subject's key (AES-256-GCM), operator names, SCIM client names and network addresses, event times "
    "and kinds, attribute names and counts; never attribute values in clear"
)
# The retention job runs hourly (and shortly after each start): data past its period by more than a day is not
# waiting for the next run, it is kept against the policy.
RETENTION_GRACE = timedelta(days=1)
# What holds whichever way the endpoint runs (the command line cannot see a running server's settings): TLS unless
# the operator chose plain HTTP, which the server accepts on the loopback interface only.
DEFAULT_TLS = ("TLS 1.2+ on the SCIM endpoint (self-signed or operator certificate), unless started without TLS "
               "(serve --no-tls), which is accepted on the loopback interface only")  # fmt: skip

_R = ScimResource.__table__
_A = AuditEvent.__table__
_T = ApiToken.__table__
_TG = Target.__table__


@dataclass(frozen=True)
class EventEvidence:
    """How many audit events of one kind exist, and the newest one's time (ISO 8601 UTC) and sequence number."""

    count: int = 0
    latest_at: str | None = None
    latest_seq: int | None = None


@dataclass(frozen=True)
class IncidentFact:
    """One incident of the breach register: no free text, only what the record states about it."""

    id: int
    aware_at: str | None  # ISO 8601 UTC; None: a candidate the controller is not (yet) aware of as a breach
    closed_at: str | None
    notified_at: str | None  # the first notification to the supervisory authority
    references: tuple[str, ...]  # the authority's (or the operator's) references of each notification
    categories: tuple[str, ...] = ()  # the data categories recorded as concerned (Art. 33(3)(a)); () = not recorded

    @property
    def is_breach(self) -> bool:
        """Recorded as a personal data breach: the controller became aware of it (a dismissed candidate is not)."""
        return self.aware_at is not None

    def concerns(self, category_names: set[str]) -> bool:
        """Whether the breach may concern data of these categories (casefolded names or ids): yes when its
        categories were not recorded, since nothing then rules any activity out."""
        return not self.categories or any(c.strip().casefold() in category_names for c in self.categories)


@dataclass(frozen=True)
class RequestRegisterFact:
    """The data subject request register (app/dsr): how many requests it holds and the deletion rule it applies."""

    requests: int
    closed: int  # of which closed (the ones the register's period applies to)
    retention: Period | None  # closed requests are deleted this long after closure (None: settings unreadable)
    retention_source: str  # "requests.toml", "policy" or "default"


@dataclass(frozen=True)
class TargetFact:
    name: str
    recipient_id: str
    enabled: bool
    host: str


@dataclass(frozen=True)
class LiveFacts:
    gathered_at: datetime
    host: str
    server_url: str | None
    tls: str
    cipher: CipherSettings
    vault_mode: str  # e.g. "0600"
    users: int
    deactivated_users: int
    groups: int
    subjects_per_category: dict[str, int]  # category id -> distinct Users holding any of its attributes
    active_tokens: int
    token_names: tuple[str, ...]  # operator-chosen client names, e.g. "entra-prod"
    unused_token_names: tuple[str, ...]  # of those, the ones no request has authenticated with yet
    audit_events: int
    audit_head_seq: int | None
    audit_head_hash: str | None
    retention_job_enabled: bool
    retention_runs: EventEvidence
    retention_purges: EventEvidence
    policy_purges: EventEvidence
    incidents: tuple[IncidentFact, ...] = ()
    targets: tuple[TargetFact, ...] = field(default_factory=tuple)
    recipient_subjects: dict[str, int] = field(default_factory=dict)  # scoped recipient id -> Users in its scope
    # (purpose id, category id) -> Users in a scoped purpose's scope holding any of the category's attributes: the
    # individuals of that activity, not of the category as a whole
    subjects_per_scoped_activity: dict[tuple[str, str], int] = field(default_factory=dict)
    erasure_ledger_entries: int | None = None  # lines of the ledger beside the vault (None: no ledger file)
    erased_subjects: int = 0  # subjects of the erasure requests the vault records (what the ledger should list)
    request_register: RequestRegisterFact | None = None
    # What the vault holds past its retention by more than RETENTION_GRACE (None: not checked): the ICO
    # 'retained and erased in accordance with the policy' answer rests on it, not only on the job's runs.
    overdue: Overdue | None = None
    # Where the trail begins after its retention period pruned it (the newest prune record, the first entry held);
    # None: never pruned. The newest ``audit.pruned`` entry, whatever it cut: the last prune's evidence.
    trail_horizon: Horizon | None = None
    trail_prunes: EventEvidence = field(default_factory=EventEvidence)
    backups: EventEvidence = field(default_factory=EventEvidence)  # vault.backup.created on the trail
    backup_epochs_destroyed: EventEvidence = field(default_factory=EventEvidence)  # decision 0067

    @property
    def breaches(self) -> tuple[IncidentFact, ...]:
        return tuple(incident for incident in self.incidents if incident.is_breach)

    def technical_measures(self) -> list[str]:
        """Art. 32(1) technical measures actually in force, in plain words."""
        c = self.cipher
        major = c.cipher_version.split(".", 1)[0]
        cipher = "AES-256 " if major.isdigit() and int(major) >= 4 else ""
        measures = [
            f"Encryption at rest: whole vault encrypted with {cipher}by SQLCipher {c.cipher_version} "
            f"({c.cipher_provider or 'crypto provider not reported'}); key derived with {c.kdf_algorithm} "
            f"({c.kdf_iterations:,} iterations)",
            f"Integrity: {c.hmac_algorithm} authentication of every {c.page_size}-byte page"
            if c.hmac_enabled
            else "Integrity: page HMAC is OFF",
            "Erasure reaches the file: secure_delete on (freed pages overwritten), WAL truncated after purges"
            if c.secure_delete
            else "secure_delete is OFF: freed pages are not overwritten",
            f"No plaintext temporary files (temp_store {c.temp_store}); journal mode {c.journal_mode}, "
            f"synchronous {c.synchronous}",
            f"Vault file permissions {self.vault_mode} (readable and writable by its owner only)"
            if self.vault_mode == "0600"
            else f"Vault file permissions {self.vault_mode}",
            f"Transport: {self.tls}",
            "Access control: SCIM clients authenticate with bearer tokens (256-bit random, stored only as "
            "SHA-256 hashes, revocable, optionally expiring); "
            f"{counted(self.active_tokens, 'active token', grouped=False)}",
            "Accountability: hash-chained audit trail (SHA-256, RFC 9162 leaves) holding "
            f"{counted(self.audit_events, 'event', grouped=False)}. {TRAIL_CONTENT}",
        ]
        return measures

    def measures_by_kind(self) -> dict[str, list[str]]:
        """The technical measures grouped as the CNIL's model lists security measures (its checkboxes)."""
        grouped: dict[str, list[str]] = {}
        for kind, measure in zip(_MEASURE_KINDS, self.technical_measures(), strict=True):
            grouped.setdefault(kind, []).append(measure)
        return grouped


# The kind of each entry of ``technical_measures``, in its order.
_MEASURE_KINDS = ("encryption", "other", "other", "other", "access", "encryption", "access", "traceability")


def gather_facts(
    vault: Vault, *, tls: str | None = None, server_url: str | None = None, policy: Policy | None = None
) -> LiveFacts:
    """Read the facts from ``vault`` in one consistent snapshot.

    ``policy`` defaults to the version in force (or the shipped default on a vault that has none yet); it decides
    which attributes make up each data category.
    """
    with vault.read_session() as session:
        conn = session.connection()
        if policy is None:
            record = versions.in_force(conn)
            policy = record.policy if record else load_policy(versions.default_policy_text())
        users, deactivated, groups = _resource_counts(conn)
        head = conn.execute(select(_A.c.seq, _A.c.chain_hash).order_by(_A.c.seq.desc()).limit(1)).first()
        now = datetime.now(UTC)
        return LiveFacts(
            gathered_at=now,
            host=_host(server_url),
            server_url=server_url,
            tls=tls or DEFAULT_TLS,
            cipher=vault.cipher_settings,
            vault_mode=_mode(vault),
            users=users,
            deactivated_users=deactivated,
            groups=groups,
            subjects_per_category=subjects_per_category(conn, policy),
            subjects_per_scoped_activity=subjects_per_scoped_activity(conn, policy),
            active_tokens=len(tokens := _active_tokens(conn)),
            token_names=tuple(tokens),
            unused_token_names=tuple(name for name, used in tokens.items() if not used),
            audit_events=conn.execute(select(func.count()).select_from(_A)).scalar_one(),
            audit_head_seq=head.seq if head else None,
            audit_head_hash=head.chain_hash if head else None,
            retention_job_enabled=policy.retention_job_enabled,
            retention_runs=_evidence(conn, _A.c.kind == "retention.run"),
            retention_purges=_evidence(conn, _A.c.kind == "retention.purged"),
            policy_purges=_evidence(conn, _A.c.kind == "policy.purged"),
            incidents=_incidents(conn),
            targets=_targets(conn),
            recipient_subjects=_recipient_subjects(conn, policy),
            erasure_ledger_entries=_ledger_entries(vault),
            erased_subjects=_erased_subjects(conn),
            request_register=_request_register(conn, vault, policy),
            overdue=overdue(conn, policy, now, RETENTION_GRACE),
            trail_horizon=horizon(conn),
            trail_prunes=_evidence(conn, _A.c.kind == "audit.pruned"),
            backups=_evidence(conn, _A.c.kind == "vault.backup.created"),
            backup_epochs_destroyed=_evidence(conn, _A.c.kind == "vault.backup_key.destroyed"),
        )


def _recipient_subjects(conn: Connection, policy: Policy) -> dict[str, int]:
    """How many Users each scoped recipient concerns (app/policy/recipient_scope.py): whom it receives data about. A
    recipient of every user is left out: the record's user count already says it."""
    from app.policy import recipient_scope as scope

    return {
        r.id: scope.count(conn, policy, r)
        for r in policy.recipients
        if scope.receives_users(r) and not scope.everyone(policy, r)
    }


def _host(server_url: str | None) -> str:
    if server_url:
        parsed = urlsplit(server_url)
        if parsed.hostname:
            return parsed.hostname
    return socket.gethostname() or "this computer"


def _mode(vault: Vault) -> str:
    try:
        return f"{stat.S_IMODE(os.stat(vault.path).st_mode):04o}"
    except OSError:
        return "unknown"


def _resource_counts(conn: Connection) -> tuple[int, int, int]:
    row = conn.execute(
        select(
            func.count().filter(_R.c.resource_type == "User"),
            func.count().filter(and_(_R.c.resource_type == "User", _R.c.active.is_(False))),
            func.count().filter(_R.c.resource_type == "Group"),
        )
    ).one()
    return int(row[0]), int(row[1]), int(row[2])


def subjects_per_category(conn: Connection, policy: Policy) -> dict[str, int]:
    """Distinct Users holding at least one attribute of each category (one indexed count per category)."""
    counts: dict[str, int] = {}
    for category in policy.categories:
        rules = [rule for rule in policy.attributes if rule.category == category.id]
        if not rules:
            counts[category.id] = 0
            continue
        condition = or_(*(held_by_user(rule) for rule in rules))
        statement = select(func.count()).select_from(_R).where(_R.c.resource_type == "User", condition)
        counts[category.id] = int(conn.execute(statement).scalar_one())
    return counts


def subjects_per_scoped_activity(conn: Connection, policy: Policy) -> dict[tuple[str, str], int]:
    """For each purpose with a scope and each category it uses: distinct Users in that scope holding any of the
    category's attributes for that purpose. The category's count alone counted everyone holding the data, in
    the purpose's scope or not."""
    from app.policy.recipient_scope import scope_condition

    counts: dict[tuple[str, str], int] = {}
    for purpose in policy.purposes:
        scoped = scope_condition(purpose.scope)
        if scoped is None:
            continue
        for category in policy.categories:
            rules = [r for r in policy.attributes if r.category == category.id and purpose.id in r.purposes]
            if not rules:
                continue
            condition = or_(*(held_by_user(rule) for rule in rules))
            statement = select(func.count()).select_from(_R).where(_R.c.resource_type == "User", condition, scoped)
            counts[(purpose.id, category.id)] = int(conn.execute(statement).scalar_one())
    return counts


def _active_tokens(conn: Connection) -> dict[str, bool]:
    """Unrevoked, unexpired client names, by name, each with whether a request has authenticated with it."""
    now = datetime.now(UTC)
    columns = (_T.c.name, _T.c.expires, _T.c.last_used)
    rows = conn.execute(select(*columns).where(_T.c.revoked.is_(None)).order_by(_T.c.name)).all()
    return {row.name: row.last_used is not None for row in rows if row.expires is None or _aware(row.expires) > now}


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _evidence(conn: Connection, condition: ColumnElement[bool]) -> EventEvidence:
    count = conn.execute(select(func.count()).select_from(_A).where(condition)).scalar_one()
    if not count:
        return EventEvidence()
    latest = conn.execute(select(_A.c.seq, _A.c.at).where(condition).order_by(_A.c.seq.desc()).limit(1)).one()
    return EventEvidence(int(count), latest.at, int(latest.seq))


def _incidents(conn: Connection) -> tuple[IncidentFact, ...]:
    """Every incident of the breach register with its first notification, oldest first."""
    from app.incidents.tables import Incident, IncidentNotification  # the register's own tables

    incidents, notes = Incident.__table__, IncidentNotification.__table__
    references: dict[int, list[tuple[datetime, str, str]]] = {}
    for row in conn.execute(select(notes.c.incident_id, notes.c.at, notes.c.kind, notes.c.reference)):
        references.setdefault(row.incident_id, []).append((_aware(row.at), row.kind, row.reference))
    facts = []
    columns = (incidents.c.id, incidents.c.aware_at, incidents.c.closed_at, incidents.c.categories)
    for incident_id, aware_at, closed_at, categories in conn.execute(select(*columns).order_by(incidents.c.id)):
        sent = sorted(references.get(incident_id, []))
        initial = [at for at, kind, _ in sent if kind == "initial"]
        facts.append(
            IncidentFact(
                int(incident_id),
                _iso(aware_at),
                _iso(closed_at),
                _iso(min(initial)) if initial else None,
                tuple(reference for _, _, reference in sent),
                tuple(str(name) for name in json.loads(categories or "[]")),
            )
        )
    return tuple(facts)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else _aware(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


def _request_register(conn: Connection, vault: Vault, policy: Policy) -> RequestRegisterFact:
    from app.core.errors import ConfigError
    from app.dsr import settings
    from app.dsr.tables import DsrRequest

    table = DsrRequest.__table__
    requests = int(conn.execute(select(func.count()).select_from(table)).scalar_one())
    closed = int(conn.execute(select(func.count()).select_from(table).where(table.c.state == "closed")).scalar_one())
    try:
        kept = settings.load(vault.path.parent, policy)
    except ConfigError:  # a broken requests.toml: the retention job falls back to its default, unstated here
        return RequestRegisterFact(requests, closed, None, "requests.toml (unreadable)")
    return RequestRegisterFact(requests, closed, kept.retention, kept.retention_source)


def _erased_subjects(conn: Connection) -> int:
    from app.erasure.tables import ErasureSubject  # the erasure package's own table

    return int(conn.execute(select(func.count()).select_from(ErasureSubject.__table__)).scalar_one())


def _ledger_entries(vault: Vault) -> int | None:
    from app.erasure.ledger import LEDGER_FILENAME

    ledger = vault.path.parent / LEDGER_FILENAME
    try:
        with ledger.open("rb") as handle:
            return sum(1 for line in handle if line.strip())
    except OSError:
        return None


def _targets(conn: Connection) -> tuple[TargetFact, ...]:
    rows = conn.execute(select(_TG.c.name, _TG.c.recipient_id, _TG.c.enabled, _TG.c.base_url).order_by(_TG.c.name))
    return tuple(
        TargetFact(name, recipient_id, bool(enabled), urlsplit(base_url).hostname or "")
        for name, recipient_id, enabled, base_url in rows
    )

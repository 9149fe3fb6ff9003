"""The running app, assembled once: the vault, its single writer, the event bus, the SCIM server and the
background jobs (docs/decisions/0024-threads-and-runtime.md). Qt-free: ``serve`` and the desktop app both build
a ``Runtime`` and differ only in what runs on the main thread (a signal wait, or Qt's event loop).

Start order: the server, then the jobs (``start``): a port that cannot be had fails before any job ran. Stop
order follows the flow of data: the server (no new input), the jobs (they may still commit), the writer (its
queue drained), the pending WAL checkpoint, and last the vault.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from app.jobs import BackgroundJobs
from app.scim.server import ScimServer
from app.setup.tokens import TokenStore
from app.store.group_commit import GroupCommitWriter
from app.store.hygiene import WalJanitor
from app.store.vault import Vault

if TYPE_CHECKING:
    from pathlib import Path

    from app.setup.tls import TlsMaterial
    from app.siem.syslog import Collector

log = logging.getLogger(__name__)


class Runtime:
    def __init__(
        self,
        vault: Vault,
        *,
        host: str,
        port: int,
        public_host: str | None,
        tls: TlsMaterial | None,
        siem: Collector | None = None,
    ) -> None:
        self.vault = vault
        self.bus = vault.events  # every commit to this vault is published here (decision 0025)
        self.tokens = TokenStore(vault)  # shared by the server and the app: one cache that sees revocations
        self.writer = GroupCommitWriter(vault)  # the only thread that commits SCIM writes (decision 0005)
        self.janitor = WalJanitor(vault)
        self.server = ScimServer(
            vault,
            host=host,
            port=port,
            public_host=public_host,
            tls=tls,
            bus=self.bus,
            tokens=self.tokens,
            writer=self.writer,
            janitor=self.janitor,
        )
        self.policy = self.server.policy  # one view of the policy in force for the server, the jobs and the app
        self.jobs = BackgroundJobs(vault, self.policy, self.bus, siem=siem, certificate=self._served_certificate)
        self._jobs_started = False

    def _served_certificate(self) -> Path | None:
        """The certificate the endpoint serves now (the app may have moved it to another since the start)."""
        return self.server.tls.cert_path if self.server.tls is not None else None

    def start_jobs(self) -> None:
        self.jobs.start()
        self._jobs_started = True

    def start(self) -> None:
        """Server and jobs (``serve``); the desktop app starts the server from its panel instead."""
        self.server.start()
        self.start_jobs()

    def stop(self) -> None:
        """Stop every thread, in order; the vault stays open (the app may still be drawing from it)."""
        self.server.stop()
        if self._jobs_started:
            self.jobs.stop()
            self._jobs_started = False
        self.writer.stop()
        if self.vault.is_open:
            self.janitor.flush()

    def close(self) -> None:
        """Stop everything and close the vault: the key leaves memory last."""
        try:
            self.stop()
        finally:
            self.vault.close()

"""The dispatcher's idle tick scans the outbox only when the file changed (PRAGMA data_version, decision 0031)."""

from __future__ import annotations

from app.dsr.restriction import is_restricted
from app.policy.in_force import PolicyInForce
from app.store.vault import Vault
from app.targets.dispatcher import Dispatcher


def test_a_replaced_read_connection_counts_as_a_change(vault: Vault) -> None:
    """data_version is counted per connection: after the thread's reader is replaced (new planner statistics) an
    equal number on the new connection proves nothing, so the tick looks again instead of missing a commit."""
    dispatcher = Dispatcher(vault, PolicyInForce(vault), restricted=is_restricted)
    assert dispatcher._changed_elsewhere()  # the first look
    assert not dispatcher._changed_elsewhere()  # nothing committed since
    vault.readers.statistics_changed()  # this thread's kept reader is replaced before its next read
    assert dispatcher._changed_elsewhere()
    assert not dispatcher._changed_elsewhere()

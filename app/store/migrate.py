"""Bring a vault's schema to the current revision with Alembic, on an already unlocked engine.

Every unlock asks "is this vault at the head revision?". Alembic answers by loading its whole runtime (about half
a second of imports, more than the rest of ``custos token list``), so the common answer — yes — is read without
it: the head from the revision files' own ``revision``/``down_revision`` assignments (parsed, not imported), the
vault's revision from ``alembic_version``. Anything else (a vault behind, a file that does not parse that way)
goes to Alembic, which stays the only code that migrates.
"""

from __future__ import annotations

import ast
import logging
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from app.store.engine import SINGLE_STATEMENT_READS_OPTION, checkpoint_on

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def _config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def _assigned(tree: ast.Module, name: str) -> object:
    for node in tree.body:
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == name for t in targets) and node.value is not None:
                return ast.literal_eval(node.value)
    raise ValueError(name)


@cache
def declared_head() -> str | None:
    """The one revision no other names as its parent, from the files' text; None when that is not clear-cut
    (then Alembic decides)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    try:
        for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            revision, parent = _assigned(tree, "revision"), _assigned(tree, "down_revision")
            if not isinstance(revision, str) or not (parent is None or isinstance(parent, str)):
                return None  # a merge revision (a tuple of parents): Alembic's business
            revisions.add(revision)
            if parent is not None:
                parents.add(parent)
    except (OSError, SyntaxError, ValueError):
        return None
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def stored_revision(engine: Engine) -> str | None:
    """The vault's revision as Alembic recorded it (None: not migrated yet)."""
    with engine.connect() as conn:
        try:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except OperationalError:  # no such table: a new file
            return None


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate to ``revision``; a no-op (and cheap: no Alembic import) when the vault is already at the head."""
    if revision == "head" and (head := declared_head()) is not None and stored_revision(engine) == head:
        return
    from alembic import command

    target = head_revision() if revision == "head" else revision
    if current_revision(engine) == target:
        return
    logging.getLogger("alembic").setLevel(logging.WARNING)
    config = _config()
    existing = current_revision(engine) is not None
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
    if existing:
        return_freed_pages(engine)


def return_freed_pages(engine: Engine) -> None:
    """Give the pages an upgrade freed back to the file system: a migration that rebuilds a table (0016–0018) leaves
    the old one's pages free in the file (zeroed: secure_delete), and without VACUUM an upgraded vault would stay
    as large as before its upgrade, however much smaller the new layout is (decision 0033). Once per upgrade, on the
    one write connection, outside a transaction (VACUUM refuses to run inside one); then a truncating checkpoint,
    since in WAL mode VACUUM's copy lands in the WAL first."""
    with engine.connect() as conn:
        conn.execution_options(**{SINGLE_STATEMENT_READS_OPTION: True})
        if int(conn.exec_driver_sql("PRAGMA freelist_count").scalar() or 0) == 0:
            return
        conn.exec_driver_sql("VACUUM")
        checkpoint_on(conn)

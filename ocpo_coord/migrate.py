"""Run the alembic migrations programmatically (CLI and tests build schemas this way)."""

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from ocpo_coord.db.engine import make_sync_engine, sync_url

ROOT = Path(__file__).resolve().parent.parent


def alembic_config(database_url: str) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["database_url"] = sync_url(database_url)
    return config


def upgrade(database_url: str, revision: str = "head") -> list[str]:
    """Apply what is missing up to ``revision``; the revisions applied, oldest first."""
    config = alembic_config(database_url)
    pending = pending_revisions(config, database_url, revision)
    command.upgrade(config, revision)
    return pending


def pending_revisions(config: Config, database_url: str, revision: str = "head") -> list[str]:
    """Revisions between the database's current one and ``revision``, oldest first."""
    engine = make_sync_engine(database_url)
    try:
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_heads()
    finally:
        engine.dispose()
    script = ScriptDirectory.from_config(config)
    lower = current[0] if len(current) == 1 else None
    steps = [rev.revision for rev in script.iterate_revisions(revision, lower)]
    return list(reversed(steps))

"""Run the alembic migrations programmatically (CLI and tests build schemas this way)."""

from pathlib import Path

from alembic import command
from alembic.config import Config

from ocpo_coord.db import sync_url

ROOT = Path(__file__).resolve().parent.parent


def alembic_config(database_url: str) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["database_url"] = sync_url(database_url)
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)

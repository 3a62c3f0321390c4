"""Alembic environment: migrations run synchronously on the configured database."""

from alembic import context
from sqlalchemy import Connection
from sqlmodel import SQLModel

import ocpo_coord.models  # noqa: F401  (registers every table on the metadata)
from ocpo_coord.config import get_settings
from ocpo_coord.db.engine import make_sync_engine, sync_url

target_metadata = SQLModel.metadata


def _url() -> str:
    configured = context.config.attributes.get("database_url")
    return sync_url(configured or get_settings().database_url)


def _configure(connection: Connection | None = None) -> None:
    # SQLite alters tables by copying them; batch mode (render_as_batch) does that for us.
    if connection is None:
        context.configure(
            url=_url(),
            literal_binds=True,
            target_metadata=target_metadata,
            compare_type=True,
            render_as_batch=True,
        )
    else:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            compare_type=True,
            render_as_batch=True,
        )


def run_migrations_offline() -> None:
    _configure()
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_sync_engine(_url())
    with engine.connect() as conn:
        _configure(conn)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()

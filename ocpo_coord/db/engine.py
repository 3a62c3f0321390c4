"""Engines and sessions. One transaction per request: services flush, transports commit."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import lru_cache, partial
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.config import Settings, get_settings
from ocpo_coord.db import bounds as db_bounds
from ocpo_coord.db import pg_driver, sqlite_turns
from ocpo_coord.db.serial_session import SerialSession


def sync_url(url: str) -> str:
    """The URL for synchronous tools (alembic, bulk loaders)."""
    parsed = make_url(url)
    if parsed.drivername in ("sqlite", "sqlite+aiosqlite", "sqlite+pysqlite"):
        return parsed.set(drivername="sqlite").render_as_string(hide_password=False)
    if parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg", "postgresql+asyncpg"):
        return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return url


def async_url(url: str) -> str:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return parsed.set(drivername="sqlite+aiosqlite").render_as_string(hide_password=False)
    if parsed.get_backend_name() == "postgresql":
        # psycopg 3 serves both the sync and the async API under one dialect name.
        return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return url


def _sqlite_pragmas(wait_ms: int, dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    # Set before anything that may need a lock (the journal mode below).
    cursor.execute(f"PRAGMA busy_timeout={wait_ms:d}")
    cursor.execute("PRAGMA journal_mode=WAL")
    # With WAL, NORMAL never corrupts the file; it may lose the last commits on a power
    # cut. SQLite is the embedded trial default; installations that need more run
    # PostgreSQL.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


# An execution option for work that only reads and must not wait behind writers (the
# readiness probe): its transaction begins DEFERRED, and in WAL mode a reader never waits.
READ_ONLY = "ocpo_read_only"


def _sqlite_begin(connection: Any) -> None:
    # IMMEDIATE takes the write lock up front: a read-then-write transaction then
    # waits for busy_timeout instead of failing when another writer got in first.
    read_only = connection.get_execution_options().get(READ_ONLY, False)
    connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def _configure(engine: Engine, wait_seconds: float | None = None) -> None:
    if engine.dialect.name == "sqlite":
        # Every transaction begins IMMEDIATE (below), so waiting for the write lock is
        # how a request waits for its turn: at most ``sqlite_wait_seconds``.
        wait = get_settings().sqlite_wait_seconds if wait_seconds is None else wait_seconds
        event.listen(engine, "connect", partial(_sqlite_pragmas, round(wait * 1000)))
        sqlite_turns.register(engine, wait)
        # The sqlite3 driver's own transaction handling breaks SAVEPOINT; take it over.
        event.listen(engine, "begin", _sqlite_begin)


# Every engine hides statement parameters from its error texts: they are record content,
# and error texts reach logs (see ``log_redaction``).


def make_sync_engine(url: str) -> Engine:
    engine = create_engine(sync_url(url), hide_parameters=True)
    _configure(engine)
    return engine


def make_async_engine(url: str, settings: Settings | None = None) -> AsyncEngine:
    """The service's engine; ``settings`` bound its waits (the configured ones by default)."""
    settings = settings or get_settings()
    target = async_url(url)
    if make_url(target).get_backend_name() == "postgresql":
        # See ``db_bounds`` (no wait without a bound) and ``pg_driver`` (connections
        # pinged after idling).
        engine = create_async_engine(
            target,
            async_creator=db_bounds.connector(
                target,
                connect_timeout=settings.db_connect_timeout_seconds,
                statement_timeout=settings.db_statement_timeout_seconds,
            ),
            pool_timeout=settings.db_pool_timeout_seconds,
            hide_parameters=True,
        )
        pg_driver.ping_when_idle(engine.sync_engine)
    elif make_url(target).database in (None, "", ":memory:"):
        # An in-memory database is one connection (a static pool): nothing to wait for.
        engine = create_async_engine(target, hide_parameters=True)
    else:
        engine = create_async_engine(
            target, pool_pre_ping=True, pool_timeout=settings.db_pool_timeout_seconds, hide_parameters=True
        )
    _configure(engine.sync_engine, settings.sqlite_wait_seconds)
    return engine


@lru_cache
def get_engine() -> AsyncEngine:
    settings = get_settings()
    if settings.database_url.startswith("sqlite:///"):
        settings.state_dir.mkdir(parents=True, exist_ok=True)
    return make_async_engine(settings.database_url)


# Flush hooks that every session writing records needs, by name, once installed: the
# visibility index (``visibility/reach.py``) is kept in step by them, and a session made
# before they are installed would write records the index never hears of.
REQUIRED_HOOKS = frozenset({"record_reach"})
_installed_hooks: set[str] = set()


def hooks_installed(name: str) -> None:
    _installed_hooks.add(name)


def sessionmaker_for(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    missing = REQUIRED_HOOKS - _installed_hooks
    if missing:
        raise RuntimeError(
            f"flush hooks not installed: {', '.join(sorted(missing))} (import ocpo_coord.visibility)"
        )
    return async_sessionmaker(engine, class_=SerialSession, expire_on_commit=False, autoflush=False)


@lru_cache
def get_sessionmaker() -> async_sessionmaker[AsyncSession]:
    return sessionmaker_for(get_engine())


@asynccontextmanager
async def unit_of_work() -> AsyncIterator[AsyncSession]:
    """A session whose work commits on success and rolls back on any error."""
    async with get_sessionmaker()() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise

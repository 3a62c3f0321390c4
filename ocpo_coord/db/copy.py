"""Many rows into one table in one go: ``COPY FROM STDIN`` on PostgreSQL, one
executemany elsewhere.

An executemany sends a Bind and an Execute per row, and each goes through the
server's executor; ``COPY`` streams the rows as one data stream into one insert
path, several times faster for the thousands of rows a bulk import writes. Values
go through each column type's own bind processing first (enums to their stored
names, JSON to its driver wrapper, dates made UTC), so a copied row is stored as
the same row inserted would be. Triggers and constraints apply to copied rows as
to inserted ones.

Every row gives the columns the first one does, as an executemany needs too. Within an
asyncio session (``AsyncSession.run_sync``) the driver's awaitable copy runs through
``AdaptedConnection.run_async``.
"""

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Table, insert
from sqlalchemy.engine import AdaptedConnection
from sqlalchemy.exc import DBAPIError
from sqlmodel.ext.asyncio.session import AsyncSession

# Below this, one multi-row insert costs what opening a copy does.
_COPY_FROM = 50

Processor = Callable[[Any], Any] | None


def insert_rows(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert the rows, in the connection's transaction."""
    if not rows:
        return
    names = list(rows[0])
    _check_defaults(table, names)
    if conn.dialect.name != "postgresql" or len(rows) < _COPY_FROM:
        conn.execute(insert(table), list(rows))
        return
    copy_rows(conn, table, names, rows)


def copy_rows(conn: Connection, table: Table, names: list[str], rows: Iterable[Mapping[str, Any]]) -> int:
    """PostgreSQL: stream ``rows``, each giving the columns ``names``, into ``table``
    by one ``COPY`` in the connection's transaction; how many. ``rows`` is read once,
    as it is sent: millions of generated rows need not be held at once."""
    _check_defaults(table, names)
    pairs = list(zip(names, _processors(conn, table, names), strict=True))
    sent = 0

    def values() -> Iterator[list[Any]]:
        nonlocal sent
        for row in rows:
            yield [row[name] if process is None else process(row[name]) for name, process in pairs]
            sent += 1

    statement = "COPY {} ({}) FROM STDIN".format(
        _quoted(conn, table.name), ", ".join(_quoted(conn, name) for name in names)
    )
    dbapi = conn.connection.dbapi_connection
    driver_error = conn.dialect.loaded_dbapi.Error
    try:
        if isinstance(dbapi, AdaptedConnection):
            dbapi.run_async(lambda driver: _copy_async(driver, statement, values()))
        else:
            _copy(dbapi, statement, values())
    except driver_error as error:
        # As SQLAlchemy reports a failed statement (IntegrityError for a broken
        # constraint...), so callers handle a copy's failure as an insert's; and a lost
        # connection is invalidated as after a statement, so that the pool replaces it
        # instead of handing it out again.
        lost = conn.dialect.is_disconnect(error, dbapi, None)
        raised = DBAPIError.instance(
            statement, None, error, driver_error, connection_invalidated=lost, dialect=conn.dialect
        )
        if lost:
            conn.invalidate(raised)
        raise raised from error
    return sent


def _check_defaults(table: Table, names: list[str]) -> None:
    # A copy leaves a column it is not given to the database; an insert would run the
    # model's default. So a row gives every column with a default, on both paths.
    defaulted = [c.name for c in table.c if c.default is not None and c.name not in names]
    if defaulted:
        raise ValueError(f"rows for {table.name} without {', '.join(defaulted)}, which have defaults")


def _processors(conn: Connection, table: Table, names: list[str]) -> list[Processor]:
    dialect = conn.dialect
    return [table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names]


def _quoted(conn: Connection, name: str) -> str:
    return conn.dialect.identifier_preparer.quote(name)


def _copy(dbapi: Any, statement: str, rows: Iterable[list[Any]]) -> None:
    with dbapi.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)


async def _copy_async(driver: Any, statement: str, rows: Iterable[list[Any]]) -> None:
    async with driver.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            await copy.write_row(row)


async def insert_all(session: AsyncSession, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """``insert_rows`` in the session's transaction."""
    if rows:
        await session.run_sync(lambda sync: insert_rows(sync.connection(), table, rows))

"""The statements every repository runs through: Core statements, and membership tests
that keep one SQL text for lists of every length."""

from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Connection, Executable, Result, Select, any_, bindparam, inspect, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

# Where a statement will run: a session, or a connection of either kind.
Database = AsyncSession | AsyncConnection | Connection
Model = TypeVar("Model", bound=SQLModel)


async def execute(
    session: AsyncSession,
    statement: Executable,
    params: dict[str, Any] | Sequence[dict[str, Any]] | None = None,
) -> Result[*tuple[Any, ...]]:
    """Run a Core statement (with a list of parameter sets: one multi-row insert);
    SQLModel deprecates ``execute`` only for its own selects."""
    return await session.exec(statement, params=params)  # type: ignore[call-overload, no-any-return]


def dialect_of(db: Database) -> str:
    return db.get_bind().dialect.name if isinstance(db, AsyncSession) else db.dialect.name


def among(db: Database, column: Any, values: Sequence[Any] | Select[Any]) -> ColumnElement[bool]:
    """``column IN values``; on PostgreSQL ``column = ANY(one array parameter)``. A
    subquery is asked as it is (``IN (SELECT ...)``).

    An IN list is written out at every execution, one parameter per value, so its SQL
    text changes with the list's length: the statement is rendered again, and neither
    the driver's parsed-query cache nor the server's prepared statement is reused. The
    array keeps one text for every page. ``values`` is never empty here (callers return
    early), but both forms answer no rows for it.

    A statement repeated with lists of one length (chunks of a bulk job) keeps its text
    either way; the driver then prepares it and the server may settle on a generic plan,
    which for a list of parameters can be several times slower than for the array."""
    if isinstance(values, Select):
        return column.in_(values)  # type: ignore[no-any-return]
    return among_in(dialect_of(db), column, values)


def among_in(dialect: str, column: Any, values: Sequence[Any]) -> ColumnElement[bool]:
    """``among`` where a dialect's name is at hand rather than a session or connection."""
    if dialect == "postgresql":
        result: ColumnElement[bool] = column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    else:
        result = column.in_(values)
    return result


def among_param(dialect: str, column: Any, name: str) -> ColumnElement[bool]:
    """``among`` for a statement built once and run many times: the values are the
    required parameter ``name``, given at each execution (a list)."""
    if dialect == "postgresql":
        result: ColumnElement[bool] = column == any_(bindparam(name, type_=ARRAY(column.type), required=True))
    else:
        result = column.in_(bindparam(name, expanding=True, required=True))
    return result


async def rows_by_id(session: AsyncSession, model: type[Model], ids: Iterable[Any]) -> dict[Any, Model]:
    """The rows of ``model`` whose primary key is among ``ids``, by key: one statement
    for any number of them, none for none."""
    wanted = list(set(ids))
    if not wanted:
        return {}
    (key,) = inspect(model).primary_key
    rows = await execute(session, select(key, model).where(among(session, key, wanted)))
    return {row[0]: row[1] for row in rows}

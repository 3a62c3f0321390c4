"""Keyset cursors, newest first unless a list says otherwise, and bounded counts.

OFFSET grows with depth; a keyset cursor costs the same on every page. Counts are
capped so that a page never scans the whole visible set just to say how many.
Records page on (created_at, id); other lists name their own sort column in an
``Order`` and page through the same functions.
"""

import base64
import json
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar, cast, overload

import orjson
from sqlalchemy import BindParameter, ColumnElement, Row, Select, bindparam, func, literal, select, tuple_
from sqlalchemy.orm import InstrumentedAttribute, Mapped
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from ocpo_coord.config import get_settings
from ocpo_coord.db.queries import execute
from ocpo_coord.exceptions import InvalidInput
from ocpo_coord.models import Record

T = TypeVar("T")
M = TypeVar("M")
E = TypeVar("E")

# Turns (domain row, record) pairs into public models with a fixed number of queries.
Assembler = Callable[[AsyncSession, list[tuple[M, Record]]], Awaitable[list[T]]]
# Turns a page of result rows into public models with a fixed number of queries.
Converter = Callable[[Sequence[tuple[Any, ...]]], Awaitable[list[T]]]

SortKey = datetime | str


@dataclass(frozen=True, slots=True)
class Cursor:
    """The sort key and id of the last row of a page: a timestamp, or a name."""

    key: SortKey
    id: uuid.UUID

    def encode(self) -> str:
        key = self.key.isoformat() if isinstance(self.key, datetime) else self.key
        return base64.urlsafe_b64encode(orjson.dumps([key, str(self.id)])).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str, *, field: str = "after", text: bool = False) -> "Cursor":
        try:
            padded = token + "=" * (-len(token) % 4)
            key, ident = json.loads(base64.urlsafe_b64decode(padded.encode()))
            if not isinstance(key, str):
                raise TypeError(key)
            value = cls(key if text else datetime.fromisoformat(key), uuid.UUID(ident))
        except (ValueError, TypeError) as exc:
            raise InvalidInput("is not a valid cursor", field=field) from exc
        if isinstance(value.key, datetime) and value.key.tzinfo is None:
            raise InvalidInput("is not a valid cursor", field=field)
        return value


@dataclass(frozen=True, slots=True)
class Order:
    """How a list is sorted: one column, then the id to break ties, both the same way."""

    key: Mapped[Any]
    id: Mapped[uuid.UUID]
    descending: bool = True
    text: bool = False  # the key is a name, not a timestamp

    def _attribute(self) -> InstrumentedAttribute[Any]:
        return cast(InstrumentedAttribute[Any], self.key)

    def by(self) -> tuple[ColumnElement[Any], ColumnElement[Any]]:
        if self.descending:
            return col(self.key).desc(), col(self.id).desc()
        return col(self.key).asc(), col(self.id).asc()

    def beyond(self, after: Cursor) -> ColumnElement[bool]:
        """Rows that come after the cursor in this order."""
        return after_cursor(col(self.key), col(self.id), after.key, after.id, descending=self.descending)

    def cursor_of(self, row: Sequence[Any]) -> Cursor:
        """The cursor of a result row: read off the row's entity that holds the key."""
        key, ident = self._attribute(), cast(InstrumentedAttribute[Any], self.id)
        owner = cast(type, key.class_)
        part = next(p for p in row if isinstance(p, owner))
        return Cursor(getattr(part, key.key), getattr(part, ident.key))

    def decode(self, token: str) -> Cursor:
        return Cursor.decode(token, text=self.text)


def after_cursor(
    key: Any, ident: Any, after_key: Any, after_id: Any, *, descending: bool = True
) -> ColumnElement[bool]:
    """Rows past the cursor ``(after_key, after_id)`` in the order ``key, ident``.

    A row comparison, not ``key < k OR (key = k AND id < i)``: the database can start an
    index walk at the cursor only from the row form (PostgreSQL reads the OR as a filter
    on every entry before the cursor, so the tenth page read ten pages' entries)."""
    row = tuple_(key, ident)
    cursor = tuple_(_valued(key, after_key), _valued(ident, after_id))
    return row < cursor if descending else row > cursor


def _valued(column: Any, value: Any) -> ColumnElement[Any]:
    """A cursor value as a parameter of its column's type: a tuple does not lend its
    types to its values as a column does. ``value`` is a value, or a named parameter
    whose value is given at execution."""
    type_ = cast(ColumnElement[Any], column).type
    if isinstance(value, BindParameter):
        return bindparam(value.key, type_=type_)
    return literal(value, type_)


RECORD_ORDER = Order(col(Record.created_at), col(Record.id))


class Cursors(Sequence[str]):
    """The cursors of a page's rows, each encoded only when asked for: a REST page sends
    one (its last), a GraphQL connection those of the edges it shows."""

    def __init__(self, keys: list[Cursor]) -> None:
        self._keys = keys

    def __len__(self) -> int:
        return len(self._keys)

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> list[str]: ...

    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            return [key.encode() for key in self._keys[index]]
        return self._keys[index].encode()


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    end_cursors: Sequence[str]
    has_next_page: bool
    total_count: int
    total_count_capped: bool
    # False when the caller did not ask for the count and it was not taken: the two
    # figures above are then not figures at all.
    counted: bool = True


def check_page_size(first: int, maximum: int, *, field: str = "first") -> None:
    if first < 1 or first > maximum:
        raise InvalidInput(f"must be between 1 and {maximum}", field=field)


def keyset(
    statement: Select[*tuple[Any, ...]], after: Cursor | None, order: Order = RECORD_ORDER
) -> Select[*tuple[Any, ...]]:
    ordered = statement.order_by(*order.by())
    return ordered if after is None else ordered.where(order.beyond(after))


async def bounded_count(
    session: AsyncSession, statement: Select[*tuple[Any, ...]], cap: int, order: Order = RECORD_ORDER
) -> tuple[int, bool]:
    """Count at most ``cap`` rows; the flag says the true figure may be larger."""
    limited = statement.with_only_columns(col(order.id)).order_by(None).limit(cap + 1).subquery()
    value = int((await execute(session, select(func.count()).select_from(limited))).scalar_one())
    return min(value, cap), value > cap


async def fetch_page(
    session: AsyncSession,
    statement: Select[*tuple[Any, ...]],
    *,
    first: int,
    after: Cursor | None,
    count_cap: int,
    order: Order = RECORD_ORDER,
) -> Page[Any]:
    found = (await execute(session, keyset(statement, after, order).limit(first + 1))).all()
    # SQLModel answers a one-model select with the models themselves, not rows.
    rows = [row if isinstance(row, Row) else (row,) for row in found]
    has_next = len(rows) > first
    rows = rows[:first]
    total, capped = await bounded_count(session, statement, count_cap, order)
    cursors = [order.cursor_of(row).encode() for row in rows]
    return Page(rows, cursors, has_next, total, capped)


async def converted_page(
    session: AsyncSession,
    statement: Select[*tuple[Any, ...]],
    *,
    first: int,
    after: str | None,
    convert: Converter[T],
    order: Order = RECORD_ORDER,
    max_page_size: int | None = None,
    count_cap: int | None = None,
) -> Page[T]:
    """A page of rows in ``order`` turned into public models; limits from the settings."""
    settings = get_settings()
    check_page_size(first, max_page_size or settings.max_page_size)
    page = await fetch_page(
        session,
        statement,
        first=first,
        after=order.decode(after) if after else None,
        count_cap=count_cap or settings.count_cap,
        order=order,
    )
    items = await convert(page.items)
    return Page(items, page.end_cursors, page.has_next_page, page.total_count, page.total_count_capped)


async def entity_page(
    session: AsyncSession,
    statement: SelectOfScalar[E],
    *,
    first: int,
    after: str | None,
    order: Order,
    convert: Callable[[list[E]], Awaitable[list[T]]],
) -> Page[T]:
    """A page of one model's rows (``select(Model)``) turned into public models."""

    async def unpack(rows: Sequence[tuple[Any, ...]]) -> list[T]:
        return await convert([row[0] for row in rows])

    return await converted_page(session, statement, first=first, after=after, convert=unpack, order=order)


def empty_page(first: int) -> Page[Any]:
    """What a reader with no part in a list gets, after the same page-size check."""
    check_page_size(first, get_settings().max_page_size)
    return Page([], [], False, 0, False)

"""Keyset cursors over (created_at, id), newest first, and bounded counts.

OFFSET grows with depth; a keyset cursor costs the same on every page. Counts are
capped so that a page never scans the whole visible set just to say how many.
"""

import base64
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, and_, func, or_, select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.db import execute
from ocpo_coord.exceptions import InvalidInput
from ocpo_coord.models import Record

T = TypeVar("T")
M = TypeVar("M")

# Turns (domain row, record) pairs into public models with a fixed number of queries.
Assembler = Callable[[AsyncSession, list[tuple[M, Record]]], Awaitable[list[T]]]


@dataclass(frozen=True, slots=True)
class Cursor:
    created_at: datetime
    id: uuid.UUID

    def encode(self) -> str:
        raw = json.dumps([self.created_at.isoformat(), str(self.id)])
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str, *, field: str = "after") -> "Cursor":
        try:
            padded = token + "=" * (-len(token) % 4)
            created, ident = json.loads(base64.urlsafe_b64decode(padded.encode()))
            value = cls(datetime.fromisoformat(created), uuid.UUID(ident))
        except (ValueError, TypeError) as exc:
            raise InvalidInput("is not a valid cursor", field=field) from exc
        if value.created_at.tzinfo is None:
            raise InvalidInput("is not a valid cursor", field=field)
        return value


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    end_cursors: list[str]
    has_next_page: bool
    total_count: int
    total_count_capped: bool


def check_page_size(first: int, maximum: int, *, field: str = "first") -> None:
    if first < 1 or first > maximum:
        raise InvalidInput(f"must be between 1 and {maximum}", field=field)


def keyset(statement: Select[*tuple[Any, ...]], after: Cursor | None) -> Select[*tuple[Any, ...]]:
    ordered = statement.order_by(col(Record.created_at).desc(), col(Record.id).desc())
    if after is None:
        return ordered
    return ordered.where(
        or_(
            col(Record.created_at) < after.created_at,
            and_(col(Record.created_at) == after.created_at, col(Record.id) < after.id),
        )
    )


async def bounded_count(
    session: AsyncSession, statement: Select[*tuple[Any, ...]], cap: int
) -> tuple[int, bool]:
    """Count at most ``cap`` rows; the flag says the true figure may be larger."""
    limited = statement.with_only_columns(col(Record.id)).order_by(None).limit(cap + 1).subquery()
    value = int((await execute(session, select(func.count()).select_from(limited))).scalar_one())
    return min(value, cap), value > cap


async def fetch_page(
    session: AsyncSession,
    statement: Select[*tuple[Any, ...]],
    *,
    first: int,
    after: Cursor | None,
    count_cap: int,
) -> Page[Any]:
    rows = list((await execute(session, keyset(statement, after).limit(first + 1))).all())
    has_next = len(rows) > first
    rows = rows[:first]
    total, capped = await bounded_count(session, statement, count_cap)
    cursors = []
    for row in rows:
        record = next(part for part in row if isinstance(part, Record))
        cursors.append(Cursor(record.created_at, record.id).encode())
    return Page(rows, cursors, has_next, total, capped)


async def assembled_page(
    session: AsyncSession,
    statement: Select[*tuple[Any, ...]],
    *,
    first: int,
    after: str | None,
    max_page_size: int,
    count_cap: int,
    assemble: Assembler[Any, T],
) -> Page[T]:
    """A page of domain rows turned into public models with a fixed number of queries."""
    check_page_size(first, max_page_size)
    page = await fetch_page(
        session,
        statement,
        first=first,
        after=Cursor.decode(after) if after else None,
        count_cap=count_cap,
    )
    items = await assemble(session, [(row[0], row[1]) for row in page.items])
    return Page(items, page.end_cursors, page.has_next_page, page.total_count, page.total_count_capped)

"""Keyset cursors over (created_at, id), newest first, and bounded counts.

OFFSET grows with depth; a keyset cursor costs the same on every page. Counts are
capped so that a page never scans the whole visible set just to say how many.

Pages are found through the visibility index (``record_reach``): for each scope the
reader holds, the statement — rule and filters included — walks that scope's index
rows in list order and stops after a page; the union of those short walks, newest
first, is the page. Each walk is bounded by the page size, so a page costs about the
same for a reader who may see a few hundred records as for one who may see millions,
and does not grow with the database.
"""

import base64
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, Subquery, and_, func, or_, select, union
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.auth.principal import Principal
from ocpo_coord.db import execute
from ocpo_coord.exceptions import InvalidInput
from ocpo_coord.models import Record, RecordReach
from ocpo_coord.models.enums import RecordKind
from ocpo_coord.sharing.scopes import Scope, reader_scopes

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


def _walk(
    statement: Select[*tuple[Any, ...]], scope: Scope, kind: RecordKind, after: Cursor | None, limit: int
) -> Subquery:
    """The first ``limit`` rows of the statement filed under one scope, in list order."""
    created, record_id = col(RecordReach.created_at), col(RecordReach.record_id)
    walk = statement.join(RecordReach, record_id == col(Record.id)).where(
        col(RecordReach.scope_kind) == int(scope[0]),
        col(RecordReach.scope_id) == scope[1],
        col(RecordReach.kind) == kind.value,
    )
    if after is not None:
        walk = walk.where(
            or_(created < after.created_at, and_(created == after.created_at, record_id < after.id))
        )
    return (
        walk.with_only_columns(created, record_id, maintain_column_froms=True)
        .order_by(created.desc(), record_id.desc())
        .limit(limit)
        .subquery()
    )


def page_statement(
    statement: Select[*tuple[Any, ...]],
    held: list[Scope],
    kind: RecordKind,
    *,
    after: Cursor | None,
    limit: int,
) -> Select[*tuple[Any, ...]]:
    """The statement's rows of one page: the newest ``limit`` of the scopes' walks."""
    walks = [_walk(statement, scope, kind, after, limit) for scope in held]
    merged = union(*(select(w.c.created_at, w.c.record_id) for w in walks)).subquery()
    ids = (
        select(merged.c.created_at, merged.c.record_id)
        .order_by(merged.c.created_at.desc(), merged.c.record_id.desc())
        .limit(limit)
        .subquery()
    )
    return statement.join(ids, ids.c.record_id == col(Record.id)).order_by(
        ids.c.created_at.desc(), ids.c.record_id.desc()
    )


async def bounded_count(
    session: AsyncSession, statement: Select[*tuple[Any, ...]], held: list[Scope], kind: RecordKind, cap: int
) -> tuple[int, bool]:
    """Count at most ``cap`` rows; the flag says the true figure may be larger."""
    walks = [_walk(statement, scope, kind, None, cap + 1) for scope in held]
    merged = union(*(select(w.c.record_id) for w in walks)).subquery()
    limited = select(merged.c.record_id).limit(cap + 1).subquery()
    value = int((await execute(session, select(func.count()).select_from(limited))).scalar_one())
    return min(value, cap), value > cap


async def held_scopes(session: AsyncSession, principal: Principal) -> list[Scope]:
    """The reader's scopes, looked up once per request (a session serves one request)."""
    cache: dict[uuid.UUID, list[Scope]] = session.info.setdefault("reader_scopes", {})
    if principal.user_id not in cache:
        cache[principal.user_id] = await reader_scopes(session, principal)
    return cache[principal.user_id]


async def fetch_page(
    session: AsyncSession,
    statement: Select[*tuple[Any, ...]],
    *,
    reader: Principal,
    kind: RecordKind,
    first: int,
    after: Cursor | None,
    count_cap: int,
) -> Page[Any]:
    held = await held_scopes(session, reader)
    if not held:
        return Page([], [], False, 0, False)
    rows_statement = page_statement(statement, held, kind, after=after, limit=first + 1)
    rows = list((await execute(session, rows_statement)).all())
    has_next = len(rows) > first
    rows = rows[:first]
    if after is None and not has_next:
        total, capped = len(rows), False  # the whole visible set is on this page
    else:
        total, capped = await bounded_count(session, statement, held, kind, count_cap)
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
    reader: Principal,
    kind: RecordKind,
) -> Page[T]:
    """A page of domain rows turned into public models with a fixed number of queries."""
    check_page_size(first, max_page_size)
    page = await fetch_page(
        session,
        statement,
        reader=reader,
        kind=kind,
        first=first,
        after=Cursor.decode(after) if after else None,
        count_cap=count_cap,
    )
    items = await assemble(session, [(row[0], row[1]) for row in page.items])
    return Page(items, page.end_cursors, page.has_next_page, page.total_count, page.total_count_capped)

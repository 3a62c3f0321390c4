"""Nested connections: a page of parents costs a fixed number of queries for their children."""

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import SQLColumnExpression
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession
from strawberry.dataloader import DataLoader

from ocpo_coord.audit.reads import ReadWay, listed
from ocpo_coord.config import get_settings
from ocpo_coord.context import Actor
from ocpo_coord.models import Record
from ocpo_coord.models.enums import RecordKind
from ocpo_coord.visibility.nested import ChildLink, children_statement, first_children
from ocpo_coord.visibility.pages import assembled_page
from ocpo_coord.visibility.pagination import Assembler, Cursor, Page, check_page_size
from ocpo_coord.visibility.repository import RecordRepository

ChildKey = tuple[uuid.UUID, int]  # (parent id, page size)

# The largest page of a nested connection: a page of cases times this many children.
NESTED_MAX_PAGE = 100


@dataclass(frozen=True, slots=True)
class ChildKind:
    """How one kind of record hangs off its parent, and how its rows become public models."""

    repo: RecordRepository[Any]
    kind: RecordKind
    assemble: Assembler[Any, Any]
    parent: SQLColumnExpression[Any] = field(default_factory=lambda: col(Record.parent_id))
    join: ChildLink | None = None


class NestedPages:
    """A nested connection: every parent's first page in one batch, later pages one
    parent at a time; both through the sharing rule, both audited as nested reads."""

    def __init__(
        self, session: AsyncSession, actor: Callable[[], Actor], kind: Callable[[], ChildKind]
    ) -> None:
        self._session = session
        self._actor = actor
        self._kind = kind
        self._first_pages: DataLoader[ChildKey, Page[Any]] = DataLoader(self._load_first_pages)

    async def page(self, parent_id: uuid.UUID, first: int, after: str | None) -> Page[Any]:
        check_page_size(first, NESTED_MAX_PAGE)
        if after is None:
            return await self._first_pages.load((parent_id, first))
        kind = self._kind()
        statement = children_statement(kind.repo, join=kind.join).where(kind.parent == parent_id)
        actor = self._actor()
        return await assembled_page(
            self._session,
            statement,
            first=first,
            after=after,
            max_page_size=NESTED_MAX_PAGE,
            count_cap=get_settings().count_cap,
            assemble=listed(actor, kind.assemble, ReadWay.NESTED),
            reader=actor.principal,
            now=actor.now,
            kind=kind.kind,
            filtered=True,  # one parent's children
        )

    async def _load_first_pages(self, keys: Sequence[ChildKey]) -> list[Page[Any]]:
        kind, cap = self._kind(), get_settings().count_cap
        assemble = listed(self._actor(), kind.assemble, ReadWay.NESTED)
        pages: dict[ChildKey, Page[Any]] = {}
        for first in {k[1] for k in keys}:
            parents = [k[0] for k in keys if k[1] == first]
            # One more than the page, to know whether another follows.
            found = await first_children(kind.repo, kind.parent, parents, first + 1, join=kind.join)
            shown = {parent: found.rows.get(parent, [])[:first] for parent in parents}
            rows = [row for rs in shown.values() for row in rs]
            publics = {p.id: p for p in await assemble(self._session, rows)}
            for parent in parents:
                total = found.totals.get(parent, 0)
                pages[(parent, first)] = Page(
                    [publics[r[1].id] for r in shown[parent]],
                    [Cursor(r[1].created_at, r[1].id).encode() for r in shown[parent]],
                    total > first,
                    min(total, cap),
                    total > cap,
                )
        return [pages[k] for k in keys]

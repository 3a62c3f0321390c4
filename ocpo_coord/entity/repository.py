"""Entity queries."""

import uuid
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Select, exists
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.auth.principal import Principal
from ocpo_coord.db import copy
from ocpo_coord.db.queries import among
from ocpo_coord.models import Entity, Record, RecordEntity, Selector
from ocpo_coord.models.base import table_of
from ocpo_coord.models.enums import RecordKind
from ocpo_coord.records.text import contains_text
from ocpo_coord.visibility.repository import RecordRepository


class EntityRepository(RecordRepository[Entity]):
    def __init__(self, session: AsyncSession, *, principal: Principal, now: datetime) -> None:
        super().__init__(session, Entity, RecordKind.ENTITY, principal=principal, now=now)

    def filtered(
        self,
        *,
        entity_kind: str | None = None,
        selector_kind: str | None = None,
        normalized: str | None = None,
        text: str | None = None,
    ) -> Select[Entity, Record]:
        statement: Select[Entity, Record] = self.listing_statement()
        if entity_kind:
            statement = statement.where(col(Entity.entity_kind) == entity_kind)
        if normalized is not None:
            match = [col(Selector.entity_id) == col(Entity.id), col(Selector.normalized) == normalized]
            if selector_kind:
                match.append(col(Selector.kind) == selector_kind)
            statement = statement.where(exists().where(*match))
        if text:
            statement = statement.where(contains_text(text, Entity.label))
        return statement


async def selectors_for(session: AsyncSession, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, list[Selector]]:
    grouped: dict[uuid.UUID, list[Selector]] = defaultdict(list)
    wanted = list(set(ids))
    if wanted:
        rows = (
            await session.exec(
                select(Selector)
                .where(among(session, col(Selector.entity_id), wanted))
                .order_by(col(Selector.kind), col(Selector.normalized))
            )
        ).all()
        for row in rows:
            grouped[row.entity_id].append(row)
    return grouped


async def links_for(session: AsyncSession, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, list[RecordEntity]]:
    grouped: dict[uuid.UUID, list[RecordEntity]] = defaultdict(list)
    wanted = list(set(ids))
    if wanted:
        rows = (
            await session.exec(
                select(RecordEntity).where(among(session, col(RecordEntity.entity_id), wanted))
            )
        ).all()
        for row in rows:
            grouped[row.entity_id].append(row)
    return grouped


async def replace_selectors(session: AsyncSession, entity_id: uuid.UUID, selectors: list[Selector]) -> None:
    for row in (await session.exec(select(Selector).where(Selector.entity_id == entity_id))).all():
        await session.delete(row)
    await session.flush()
    session.add_all(selectors)


async def replace_links(session: AsyncSession, entity_id: uuid.UUID, links: list[RecordEntity]) -> None:
    for row in (await session.exec(select(RecordEntity).where(RecordEntity.entity_id == entity_id))).all():
        await session.delete(row)
    await session.flush()
    session.add_all(links)


async def selector_keys(session: AsyncSession, entity_id: uuid.UUID) -> set[tuple[str, str]]:
    """The (kind, normalised value) pairs the entity holds."""
    statement = select(col(Selector.kind), col(Selector.normalized)).where(
        col(Selector.entity_id) == entity_id
    )
    return {(str(kind), normalized) for kind, normalized in (await session.exec(statement)).all()}


async def insert_selectors(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """One multi-row insert: thousands of selectors are not thousands of ORM objects."""
    await copy.insert_all(session, table_of(Selector), rows)

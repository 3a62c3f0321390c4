"""Deconfliction queries.

Matching deliberately looks past the sharing rule: a hit is raised whether or not
either side may read the other's record. What a match returns never leaves the
service as content; readers see a hit only through ``visible_hits``, and the other
side's record only through ``readable``.
"""

import functools
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, bindparam, exists, false, func, or_, true
from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from ocpo_coord.auth.principal import Principal
from ocpo_coord.db import copy
from ocpo_coord.db.queries import among, execute
from ocpo_coord.models import (
    Agency,
    AgencyTheatre,
    DeconflictionHit,
    Entity,
    Notification,
    PlannedOperation,
    Record,
    Selector,
    Tour,
)
from ocpo_coord.models.base import table_of
from ocpo_coord.models.enums import OperationStatus, RecordKind, Role
from ocpo_coord.records.text import contains_text
from ocpo_coord.visibility.pagination import Order
from ocpo_coord.visibility.repository import RecordRepository

LIVE_OPERATIONS = [OperationStatus.PLANNED.value, OperationStatus.ACTIVE.value]


class OperationRepository(RecordRepository[PlannedOperation]):
    def __init__(self, session: AsyncSession, *, principal: Principal, now: datetime) -> None:
        super().__init__(
            session, PlannedOperation, RecordKind.PLANNED_OPERATION, principal=principal, now=now
        )

    def filtered(
        self,
        *,
        theatre_id: uuid.UUID | None = None,
        operation_kind: str | None = None,
        status: str | None = None,
        text: str | None = None,
    ) -> Select[PlannedOperation, Record]:
        statement: Select[PlannedOperation, Record] = self.listing_statement()
        if theatre_id:
            statement = statement.where(col(Record.theatre_id) == theatre_id)
        if operation_kind:
            statement = statement.where(col(PlannedOperation.operation_kind) == operation_kind)
        if status:
            statement = statement.where(col(PlannedOperation.status) == status)
        if text:
            statement = statement.where(contains_text(text, PlannedOperation.title))
        return statement


async def colliding_candidates(
    session: AsyncSession,
    *,
    theatre_id: uuid.UUID,
    owner_agency_id: uuid.UUID,
    starts_at: datetime,
    ends_at: datetime,
) -> list[tuple[PlannedOperation, Record]]:
    """Live operations of other agencies in the theatre whose windows meet this one."""
    statement = (
        select(PlannedOperation, Record)
        .join(Record, col(Record.id) == col(PlannedOperation.id))
        .where(
            col(Record.theatre_id) == theatre_id,
            col(Record.owner_agency_id) != owner_agency_id,
            col(PlannedOperation.status).in_(LIVE_OPERATIONS),
            col(PlannedOperation.starts_at) <= ends_at,
            col(PlannedOperation.ends_at) >= starts_at,
        )
    )
    return [(row[0], row[1]) for row in (await session.exec(statement)).all()]


async def selectors_of(session: AsyncSession, entity_id: uuid.UUID) -> list[Selector]:
    return list((await session.exec(select(Selector).where(Selector.entity_id == entity_id))).all())


@dataclass(frozen=True, slots=True)
class Party:
    """One side of a selector collision, as raising a hit needs it: the record's id,
    kind, owner, theatre and NOHOST marking, and whether its owner is a host nation.
    A plain value, not a mapped row: a phone many agencies hold matches many records,
    and loading each as an ORM object cost more than the rest of the check."""

    id: uuid.UUID
    kind: str
    owner_agency_id: uuid.UUID
    theatre_id: uuid.UUID | None
    nohost: bool
    host_nation: bool


@dataclass
class Collisions:
    """What the selectors of some entities matched: each entity's colliding records of
    other agencies, with the kind of selector matched, and which of the agencies on
    either side are host nations (asked in the same statement)."""

    found: dict[uuid.UUID, list[tuple[str, Party]]] = field(default_factory=lambda: defaultdict(list))
    hosts: set[uuid.UUID] = field(default_factory=set)


async def selector_collisions(
    session: AsyncSession, *, entity_id: uuid.UUID, owner_agency_id: uuid.UUID
) -> tuple[list[tuple[str, Party]], set[uuid.UUID]]:
    """Every record of another agency holding an entity with one of this entity's
    normalised selectors, with the kind of selector matched, and the host nations among
    both sides' agencies: one statement, however many selectors the entity has."""
    found = await selector_collisions_of(session, {entity_id: owner_agency_id})
    return found.found.get(entity_id, []), found.hosts


async def selector_collisions_of(session: AsyncSession, owners: dict[uuid.UUID, uuid.UUID]) -> Collisions:
    """``selector_collisions`` of several entities (entity id -> its owner agency), in
    one statement per 500 entities."""
    found = Collisions()
    wanted = sorted(owners)
    for start in range(0, len(wanted), 500):
        rows = await execute(session, _collisions(), {"entity_ids": wanted[start : start + 500]})
        for (
            entity_id,
            kind,
            record_id,
            record_kind,
            owner,
            theatre_id,
            nohost,
            theirs_host,
            mine_host,
        ) in rows:
            found.found[entity_id].append(
                (
                    str(kind),
                    Party(record_id, str(record_kind), owner, theatre_id, bool(nohost), bool(theirs_host)),
                )
            )
            if theirs_host:
                found.hosts.add(owner)
            if mine_host:
                found.hosts.add(owners[entity_id])
    return found


@functools.cache
def _collisions() -> Any:
    """The collision statement, built once: its entities are the ``entity_ids``
    parameter, an IN list, one parameter per entity. One entity (a create) thus always
    has the same SQL text, and PostgreSQL keeps a generic plan of the join for it; an
    array parameter (``among_param``) had it planned afresh at every execution."""
    mine = aliased(Selector, name="mine")
    theirs = aliased(Selector, name="theirs")
    mine_record = aliased(Record, name="mine_record")
    mine_agency = aliased(Agency, name="mine_agency")
    return (
        sa_select(
            col(mine.entity_id),
            col(theirs.kind),
            col(Record.id),
            col(Record.kind),
            col(Record.owner_agency_id),
            col(Record.theatre_id),
            col(Record.nohost),
            col(Agency.host_nation),
            col(mine_agency.host_nation),
        )
        .join(theirs, col(theirs.entity_id) == col(Record.id))
        .join(
            mine,
            and_(col(mine.kind) == col(theirs.kind), col(mine.normalized) == col(theirs.normalized)),
        )
        .join(mine_record, col(mine_record.id) == col(mine.entity_id))
        .join(Agency, col(Agency.id) == col(Record.owner_agency_id))
        .join(mine_agency, col(mine_agency.id) == col(mine_record.owner_agency_id))
        .where(
            col(mine.entity_id).in_(bindparam("entity_ids", expanding=True)),
            col(Record.owner_agency_id) != col(mine_record.owner_agency_id),
        )
        .distinct()
        .order_by(col(mine.entity_id), col(theirs.kind), col(Record.id))
    )


async def selector_matches(
    session: AsyncSession, *, kind: str, normalized: str, owner_agency_id: uuid.UUID
) -> list[Record]:
    """Records of other agencies holding an entity with the same normalised selector."""
    statement = (
        select(Record)
        .join(Entity, col(Entity.id) == col(Record.id))
        .join(Selector, col(Selector.entity_id) == col(Entity.id))
        .where(
            col(Selector.kind) == kind,
            col(Selector.normalized) == normalized,
            col(Record.owner_agency_id) != owner_agency_id,
        )
        .distinct()
    )
    return list((await session.exec(statement)).all())


async def host_nation_agencies(session: AsyncSession, ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
    wanted = list(set(ids))
    if not wanted:
        return set()
    statement = select(Agency.id).where(
        among(session, col(Agency.id), wanted), col(Agency.host_nation).is_(True)
    )
    return set((await session.exec(statement)).all())


async def existing_hit(
    session: AsyncSession,
    agency_id: uuid.UUID,
    record_id: uuid.UUID,
    other_record_id: uuid.UUID,
    match_kind: str,
) -> DeconflictionHit | None:
    statement = select(DeconflictionHit).where(
        DeconflictionHit.agency_id == agency_id,
        DeconflictionHit.record_id == record_id,
        DeconflictionHit.other_record_id == other_record_id,
        DeconflictionHit.match_kind == match_kind,
    )
    return (await session.exec(statement)).first()


async def existing_sides_of(
    session: AsyncSession, pairs: set[tuple[uuid.UUID, uuid.UUID]]
) -> set[tuple[uuid.UUID, uuid.UUID, uuid.UUID, str]]:
    """The sides already raised between the records of any of these (record, other
    record) pairs, either way round, as (agency, record, other record, match kind); a
    statement per 500 records."""
    found: set[tuple[uuid.UUID, uuid.UUID, uuid.UUID, str]] = set()
    mine = sorted({record for record, _ in pairs})
    for start in range(0, len(mine), 500):
        batch = mine[start : start + 500]
        chosen = set(batch)
        others = sorted({other for record, other in pairs if record in chosen})
        statement = select(
            col(DeconflictionHit.agency_id),
            col(DeconflictionHit.record_id),
            col(DeconflictionHit.other_record_id),
            col(DeconflictionHit.match_kind),
        ).where(
            or_(
                and_(
                    among(session, col(DeconflictionHit.record_id), batch),
                    among(session, col(DeconflictionHit.other_record_id), others),
                ),
                and_(
                    among(session, col(DeconflictionHit.other_record_id), batch),
                    among(session, col(DeconflictionHit.record_id), others),
                ),
            )
        )
        found |= {(a, r, o, str(m)) for a, r, o, m in (await session.exec(statement)).all()}
    # Rows between two records of different pairs are not asked about: keep them, they
    # only name sides that exist.
    return found


async def shared_theatres(
    session: AsyncSession, pairs: set[tuple[uuid.UUID, uuid.UUID]]
) -> dict[tuple[uuid.UUID, uuid.UUID], uuid.UUID | None]:
    """For each pair of agencies, a theatre both are deployed in, if any (the first by
    id, for stability); in one statement."""
    agencies = sorted({agency for pair in pairs for agency in pair})
    if not agencies:
        return {}
    rows = (
        await session.exec(
            select(AgencyTheatre).where(among(session, col(AgencyTheatre.agency_id), agencies))
        )
    ).all()
    by_agency: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
    for row in rows:
        by_agency[row.agency_id].add(row.theatre_id)
    return {(a, b): min(by_agency[a] & by_agency[b], default=None) for a, b in pairs}


def hit_visible(principal: Principal, today: date) -> ColumnElement[bool]:
    """Who sees one agency's side of a hit: that agency's coordinators and administrators,
    the users it was notified to, and whoever holds the recipient position today."""
    if not principal.reads_agency_data:
        return false()
    authorised = true() if principal.has_role(Role.AGENCY_ADMIN, Role.COORDINATOR) else false()
    notified = exists().where(
        col(Notification.subject_id) == col(DeconflictionHit.id),
        col(Notification.recipient_id) == principal.user_id,
    )
    holds = exists().where(
        col(Tour.position_id) == col(DeconflictionHit.recipient_position_id),
        col(Tour.user_id) == principal.user_id,
        col(Tour.start_date) <= today,
        or_(col(Tour.end_date).is_(None), col(Tour.end_date) >= today),
    )
    return and_(col(DeconflictionHit.agency_id) == principal.agency_id, or_(authorised, notified, holds))


HIT_ORDER = Order(col(DeconflictionHit.created_at), col(DeconflictionHit.id))


def hits_statement(
    principal: Principal,
    today: date,
    *,
    status: str | None,
    hit_kind: str | None,
    record_id: uuid.UUID | None = None,
) -> SelectOfScalar[DeconflictionHit]:
    """The hits the principal may see, unordered; lists order and bound it."""
    statement = select(DeconflictionHit).where(hit_visible(principal, today))
    if status:
        statement = statement.where(col(DeconflictionHit.status) == status)
    if hit_kind:
        statement = statement.where(col(DeconflictionHit.hit_kind) == hit_kind)
    if record_id:
        statement = statement.where(col(DeconflictionHit.record_id) == record_id)
    return statement


async def visible_hits(
    session: AsyncSession,
    principal: Principal,
    today: date,
    *,
    status: str | None,
    hit_kind: str | None,
    record_id: uuid.UUID | None = None,
    limit: int = 200,
) -> list[DeconflictionHit]:
    statement = hits_statement(principal, today, status=status, hit_kind=hit_kind, record_id=record_id)
    statement = statement.order_by(col(DeconflictionHit.created_at).desc(), col(DeconflictionHit.id)).limit(
        limit
    )
    return list((await session.exec(statement)).all())


async def visible_hit(
    session: AsyncSession, principal: Principal, today: date, hit_id: uuid.UUID
) -> DeconflictionHit | None:
    statement = select(DeconflictionHit).where(DeconflictionHit.id == hit_id, hit_visible(principal, today))
    return (await session.exec(statement)).first()


async def hit_counts(
    session: AsyncSession, principal: Principal, today: date, record_ids: list[uuid.UUID]
) -> dict[uuid.UUID, int]:
    """Hits on these records that the principal may see (so only its own agency's sides)."""
    if not record_ids:
        return {}
    statement = (
        select(col(DeconflictionHit.record_id), func.count())
        .where(hit_visible(principal, today), among(session, col(DeconflictionHit.record_id), record_ids))
        .group_by(col(DeconflictionHit.record_id))
    )
    return {r: int(n) for r, n in (await session.exec(statement)).all()}


async def insert_hits(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """New hits in one multi-row insert, each row naming every column."""
    await copy.insert_all(session, table_of(DeconflictionHit), rows)

"""Bulk queries behind handover packages: Core selects and inserts, a batch at a time.

A package may hold tens of thousands of records. Reading them one by one through the
ORM costs several queries and objects per record; here each batch of records costs one
select joining ``record`` to its domain table, plus one select per kind of link. The
sharing rule stays in the database query (``readable``), as everywhere else.
"""

import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Connection,
    RowMapping,
    Select,
    and_,
    func,
    select,
    text,
    true,
)
from sqlmodel import SQLModel, col
from sqlmodel import select as model_select
from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.auth.principal import Principal
from ocpo_coord.db.queries import among, execute
from ocpo_coord.models import (
    Case,
    CaseAgency,
    CaseCrimeType,
    CaseMember,
    CustodyEvent,
    Entity,
    Evidence,
    Handover,
    HandoverLine,
    IntelCase,
    IntelItem,
    Note,
    Position,
    Record,
    RecordEntity,
    RecordRelease,
    Responsibility,
    Selector,
    Task,
    TaskDependency,
    TaskSupportingAgency,
)
from ocpo_coord.models.base import table_of
from ocpo_coord.models.enums import Disposition
from ocpo_coord.visibility.readable import readable

DOMAIN: dict[str, type[SQLModel]] = {
    "case": Case,
    "evidence": Evidence,
    "note": Note,
    "intel_item": IntelItem,
    "task": Task,
    "entity": Entity,
}
# Domain columns are labelled with this prefix: some share a name with record columns.
DOMAIN_PREFIX = "d_"
# The records whose links are read: a query for their ids (or the ids themselves).
Ids = Select[tuple[uuid.UUID]] | list[uuid.UUID]


async def without_jit(session: AsyncSession) -> None:
    """Turn PostgreSQL's JIT compiler off for the rest of this transaction.

    The sharing rule's subqueries make the planner's estimate for a few thousand rows
    cross ``jit_above_cost``; compiling then cost several times what the query itself
    does, on every batch. Bulk reads of a few thousand rows by index never gain from it.
    """
    if session.get_bind().dialect.name == "postgresql":
        await execute(session, text("SET LOCAL jit = off"))


async def hold_import_of(session: AsyncSession, source: str, handover_id: uuid.UUID) -> None:
    """Hold the import of one package for the rest of this transaction. The same package
    imported again meanwhile (a client that stopped waiting and sent it again) waits
    here until the first commits or rolls back, then finds what it wrote, instead of
    failing half-way on the records' unique keys. SQLite has one writer at a time."""
    if session.get_bind().dialect.name == "postgresql":
        key = f"handover import {source} {handover_id}"
        await execute(session, text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": key})


def domain_columns(kind: str) -> list[str]:
    """The domain table's columns a package carries: all but the id (the record's)."""
    return [c.name for c in table_of(DOMAIN[kind]).c if c.name != "id"]


def moving(handover_id: uuid.UUID) -> Any:
    """Lines whose record leaves: accepted, shown to the receiver, naming a record."""
    return and_(
        col(HandoverLine.handover_id) == handover_id,
        col(HandoverLine.hidden_from_incoming).is_(False),
        col(HandoverLine.disposition) == Disposition.ACCEPTED.value,
        col(HandoverLine.subject_id).is_not(None),
    )


async def moving_counts(
    session: AsyncSession, handover_id: uuid.UUID, kinds: Iterable[str]
) -> dict[str, int]:
    """Per kind, how many records leave with the handover."""
    statement = (
        select(col(HandoverLine.kind), func.count())
        .where(moving(handover_id), col(HandoverLine.kind).in_(list(kinds)))
        .group_by(col(HandoverLine.kind))
    )
    rows = (await execute(session, statement)).all()
    return {str(kind): int(total) for kind, total in rows}


@dataclass
class RecordBatch:
    """A batch of moving records, and a query for its ids: link queries select by the
    query rather than a list of ids, whose thousands of parameters would cost more to
    send and parse than the rows they fetch."""

    rows: Sequence[RowMapping]
    ids: Ids


async def moving_records(
    session: AsyncSession,
    handover_id: uuid.UUID,
    kind: str,
    principal: Principal,
    now: datetime,
    *,
    batch: int,
) -> AsyncIterator[RecordBatch]:
    """The moving records of one kind that the principal may read, with their domain
    row, in batches ordered by id (the line's unique index walks them in that order)."""
    domain = table_of(DOMAIN[kind])
    columns = [
        *table_of(Record).c,
        *(domain.c[name].label(DOMAIN_PREFIX + name) for name in domain_columns(kind)),
    ]
    of_kind = and_(moving(handover_id), col(HandoverLine.kind) == kind)
    statement = (
        select(*columns)
        .select_from(table_of(HandoverLine))
        .join(table_of(Record), col(Record.id) == col(HandoverLine.subject_id))
        .join(domain, domain.c.id == col(Record.id))
        .where(of_kind, readable(principal, now=now))
        .order_by(col(HandoverLine.subject_id))
        .limit(batch)
    )
    last: uuid.UUID | None = None
    while True:
        after = col(HandoverLine.subject_id) > last if last is not None else true()
        rows = (await execute(session, statement.where(after))).mappings().all()
        if not rows:
            return
        upto = col(HandoverLine.subject_id) <= rows[-1]["id"]
        ids = select(col(HandoverLine.subject_id)).where(of_kind, after, upto)
        yield RecordBatch(rows, ids)  # type: ignore[arg-type]  # subject_id is never null here
        if len(rows) < batch:
            return
        last = rows[-1]["id"]


def moving_subjects(handover_id: uuid.UUID) -> Any:
    return select(col(HandoverLine.subject_id)).where(moving(handover_id))


async def moving_entities(
    session: AsyncSession, handover_id: uuid.UUID, principal: Principal, now: datetime, *, batch: int
) -> AsyncIterator[RecordBatch]:
    """The entities linked to the handover's moving records that the principal may read,
    with their domain row, in batches ordered by id.

    Which entities is asked once, then they are read by id: asked within each batch's
    statement, it would join every moving line to its entities again for every batch."""
    domain = table_of(Entity)
    columns = [
        *table_of(Record).c,
        *(domain.c[name].label(DOMAIN_PREFIX + name) for name in domain_columns("entity")),
    ]
    linked = (
        select(col(RecordEntity.entity_id))
        .where(col(RecordEntity.record_id).in_(moving_subjects(handover_id)))
        .distinct()
    )
    ids = sorted((await execute(session, linked)).scalars())
    statement = (
        select(*columns)
        .select_from(table_of(Record).join(domain, domain.c.id == col(Record.id)))
        .where(readable(principal, now=now))
        .order_by(col(Record.id))
    )
    for start in range(0, len(ids), batch):
        chunk = ids[start : start + batch]
        rows = (
            (await execute(session, statement.where(among(session, col(Record.id), chunk)))).mappings().all()
        )
        if rows:
            yield RecordBatch(rows, [row["id"] for row in rows])


async def entity_selectors(session: AsyncSession, ids: Ids) -> dict[uuid.UUID, list[RowMapping]]:
    columns = [col(Selector.kind), col(Selector.value), col(Selector.normalized)]
    return await _grouped(session, col(Selector.entity_id), columns, ids)


async def entity_records(
    session: AsyncSession, ids: Ids, handover_id: uuid.UUID
) -> dict[uuid.UUID, list[RowMapping]]:
    """Each entity's links to records that move with the handover (the others stay).

    The links are found by entity, then kept if their record moves, in a second
    statement: asked in one, SQLite walked the link table's key once per pair of an
    entity and a moving record."""
    links: Any = select(
        col(RecordEntity.entity_id).label("owner_id"), col(RecordEntity.record_id), col(RecordEntity.role)
    ).where(among(session, col(RecordEntity.entity_id), ids))
    rows = (await execute(session, links)).mappings().all()
    linked = sorted({row["record_id"] for row in rows})
    leaving: set[uuid.UUID] = set()
    for start in range(0, len(linked), 5000):
        statement = select(col(HandoverLine.subject_id)).where(
            moving(handover_id), among(session, col(HandoverLine.subject_id), linked[start : start + 5000])
        )
        leaving.update((await execute(session, statement)).scalars())
    grouped: dict[uuid.UUID, list[RowMapping]] = defaultdict(list)
    for row in rows:
        if row["record_id"] in leaving:
            grouped[row["owner_id"]].append(row)
    return grouped


async def exported_lines(
    session: AsyncSession, handover_id: uuid.UUID, *, batch: int
) -> AsyncIterator[Sequence[RowMapping]]:
    """The lines the receiver may see, in seq order, in batches."""
    statement = (
        select(table_of(HandoverLine))
        .where(
            col(HandoverLine.handover_id) == handover_id, col(HandoverLine.hidden_from_incoming).is_(False)
        )
        .order_by(col(HandoverLine.seq))
        .limit(batch)
    )
    last: int | None = None
    while True:
        page = statement if last is None else statement.where(col(HandoverLine.seq) > last)
        rows = (await execute(session, page)).mappings().all()
        if not rows:
            return
        yield rows
        if len(rows) < batch:
            return
        last = rows[-1]["seq"]


def _accepted_subjects(handover_id: uuid.UUID) -> Any:
    return select(col(HandoverLine.subject_id)).where(moving(handover_id))


async def accepted_responsibilities(session: AsyncSession, handover_id: uuid.UUID) -> list[Responsibility]:
    statement = model_select(Responsibility).where(
        col(Responsibility.id).in_(_accepted_subjects(handover_id))
    )
    return list((await session.exec(statement)).all())


async def successor_responsibilities(session: AsyncSession, handover: Handover) -> list[Responsibility]:
    """The receiver's responsibilities that completing the handover started
    (``completion.Transfer``): its agency, from the day after the cut-off, on its basis."""
    statement = model_select(Responsibility).where(
        col(Responsibility.agency_id) == handover.incoming_agency_id,
        col(Responsibility.theatre_id) == handover.theatre_id,
        col(Responsibility.valid_from) == handover.cut_off + timedelta(days=1),
        col(Responsibility.mandate_basis).startswith(f"handover {handover.reference}; ", autoescape=True),
    )
    return list((await session.exec(statement.order_by(col(Responsibility.created_at)))).all())


async def accepted_positions(session: AsyncSession, handover_id: uuid.UUID) -> list[Position]:
    statement = model_select(Position).where(col(Position.id).in_(_accepted_subjects(handover_id)))
    return list((await session.exec(statement)).all())


async def _grouped(
    session: AsyncSession, key: Any, columns: Sequence[Any], ids: Ids, *order: Any
) -> dict[uuid.UUID, list[RowMapping]]:
    grouped: dict[uuid.UUID, list[RowMapping]] = defaultdict(list)
    statement = select(key.label("owner_id"), *columns).where(among(session, key, ids)).order_by(*order)
    for row in (await execute(session, statement)).mappings():
        grouped[row["owner_id"]].append(row)
    return grouped


async def releases(session: AsyncSession, ids: Ids) -> dict[uuid.UUID, list[RowMapping]]:
    return await _grouped(
        session, col(RecordRelease.record_id), [col(RecordRelease.agency_id), col(RecordRelease.user_id)], ids
    )


async def case_crime_types(session: AsyncSession, ids: Ids) -> dict[uuid.UUID, list[RowMapping]]:
    return await _grouped(session, col(CaseCrimeType.case_id), [col(CaseCrimeType.crime_type)], ids)


async def case_agencies(session: AsyncSession, ids: Ids) -> dict[uuid.UUID, list[RowMapping]]:
    return await _grouped(
        session, col(CaseAgency.case_id), [col(CaseAgency.agency_id), col(CaseAgency.role)], ids
    )


async def case_members(session: AsyncSession, ids: Ids) -> dict[uuid.UUID, list[RowMapping]]:
    return await _grouped(session, col(CaseMember.case_id), [col(CaseMember.user_id)], ids)


async def intel_cases(session: AsyncSession, ids: Ids) -> dict[uuid.UUID, list[RowMapping]]:
    return await _grouped(session, col(IntelCase.intel_id), [col(IntelCase.case_id)], ids)


async def custody_events(session: AsyncSession, ids: Ids) -> dict[uuid.UUID, list[RowMapping]]:
    columns = [
        col(CustodyEvent.holder_agency_id),
        col(CustodyEvent.holder_user_id),
        col(CustodyEvent.received_at),
        col(CustodyEvent.location),
        col(CustodyEvent.note),
    ]
    order = (col(CustodyEvent.received_at), col(CustodyEvent.id))
    return await _grouped(session, col(CustodyEvent.evidence_id), columns, ids, *order)


async def task_supporting_agencies(session: AsyncSession, ids: Ids) -> dict[uuid.UUID, list[RowMapping]]:
    return await _grouped(
        session, col(TaskSupportingAgency.task_id), [col(TaskSupportingAgency.agency_id)], ids
    )


async def task_dependencies(session: AsyncSession, ids: Ids) -> dict[uuid.UUID, list[RowMapping]]:
    return await _grouped(session, col(TaskDependency.task_id), [col(TaskDependency.depends_on_id)], ids)


async def position_titles(session: AsyncSession, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    wanted = list(set(ids))
    if not wanted:
        return {}
    statement = select(col(Position.id), col(Position.title)).where(among(session, col(Position.id), wanted))
    return {row[0]: row[1] for row in (await execute(session, statement)).all()}


# Import side: plain inserts on the session's connection, in the caller's transaction.


def existing_case_references(conn: Connection, references: list[str]) -> set[str]:
    if not references:
        return set()
    statement = select(col(Case.reference)).where(among(conn, col(Case.reference), references))
    return set(conn.execute(statement).scalars())

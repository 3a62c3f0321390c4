"""Task queries."""

import uuid
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime

from sqlalchemy import Select, and_, exists, not_, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.auth.principal import Principal
from ocpo_coord.models import Position, Record, Task, TaskDependency, TaskSupportingAgency
from ocpo_coord.models.enums import RecordKind, TaskStatus
from ocpo_coord.records.repository import RecordRepository
from ocpo_coord.records.text import contains_text

OPEN_STATUSES = [TaskStatus.PROPOSED, TaskStatus.ACCEPTED, TaskStatus.IN_PROGRESS, TaskStatus.BLOCKED]


def is_overdue(task: Task, today: date) -> bool:
    return task.due_date is not None and task.due_date < today and task.status in OPEN_STATUSES


class TaskRepository(RecordRepository[Task]):
    def __init__(self, session: AsyncSession, *, principal: Principal, now: datetime) -> None:
        super().__init__(session, Task, RecordKind.TASK, principal=principal, now=now)

    def filtered(
        self,
        *,
        status: str | None = None,
        theatre_id: uuid.UUID | None = None,
        agency_id: uuid.UUID | None = None,
        activity_area: str | None = None,
        case_id: uuid.UUID | None = None,
        assignee_position_id: uuid.UUID | None = None,
        overdue: bool | None = None,
        text: str | None = None,
    ) -> Select[Task, Record]:
        statement: Select[Task, Record] = self.readable_statement()
        if status:
            statement = statement.where(col(Task.status) == status)
        if theatre_id:
            statement = statement.where(col(Record.theatre_id) == theatre_id)
        if agency_id:
            statement = statement.where(
                or_(
                    col(Task.lead_agency_id) == agency_id,
                    exists().where(
                        col(TaskSupportingAgency.task_id) == col(Task.id),
                        col(TaskSupportingAgency.agency_id) == agency_id,
                    ),
                )
            )
        if activity_area:
            statement = statement.where(col(Task.activity_area) == activity_area)
        if case_id:
            statement = statement.where(col(Record.parent_id) == case_id)
        if assignee_position_id:
            statement = statement.where(col(Task.assignee_position_id) == assignee_position_id)
        if overdue is not None:
            late = and_(
                col(Task.due_date).is_not(None),
                col(Task.due_date) < self.now.date(),
                col(Task.status).in_([s.value for s in OPEN_STATUSES]),
            )
            statement = statement.where(late if overdue else not_(late))
        if text:
            statement = statement.where(contains_text(text, Task.title, Task.description))
        return statement


async def supporting_for(session: AsyncSession, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, list[uuid.UUID]]:
    grouped: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    wanted = list(set(ids))
    if wanted:
        rows = (
            await session.exec(
                select(TaskSupportingAgency).where(col(TaskSupportingAgency.task_id).in_(wanted))
            )
        ).all()
        for row in rows:
            grouped[row.task_id].append(row.agency_id)
    return grouped


async def dependencies_for(
    session: AsyncSession, ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, list[uuid.UUID]]:
    grouped: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    wanted = list(set(ids))
    if wanted:
        rows = (
            await session.exec(select(TaskDependency).where(col(TaskDependency.task_id).in_(wanted)))
        ).all()
        for row in rows:
            grouped[row.task_id].append(row.depends_on_id)
    return grouped


async def positions(session: AsyncSession, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Position]:
    wanted = list(set(ids))
    if not wanted:
        return {}
    rows = (await session.exec(select(Position).where(col(Position.id).in_(wanted)))).all()
    return {p.id: p for p in rows}


async def replace_links(
    session: AsyncSession,
    task_id: uuid.UUID,
    *,
    agency_ids: list[uuid.UUID] | None = None,
    depends_on: list[uuid.UUID] | None = None,
) -> None:
    if agency_ids is not None:
        for row in (
            await session.exec(select(TaskSupportingAgency).where(TaskSupportingAgency.task_id == task_id))
        ).all():
            await session.delete(row)
    if depends_on is not None:
        for dep in (
            await session.exec(select(TaskDependency).where(TaskDependency.task_id == task_id))
        ).all():
            await session.delete(dep)
    await session.flush()
    for agency_id in sorted(set(agency_ids or [])):
        session.add(TaskSupportingAgency(task_id=task_id, agency_id=agency_id))
    for other in sorted(set(depends_on or [])):
        session.add(TaskDependency(task_id=task_id, depends_on_id=other))
    await session.flush()

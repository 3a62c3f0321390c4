"""Task queries."""

import uuid
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, func, not_, or_
from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.auth.principal import Principal
from ocpo_coord.db.queries import among, execute
from ocpo_coord.models import Position, Record, Task, TaskDependency, TaskSupportingAgency, User
from ocpo_coord.models.enums import ActivityArea, RecordKind, TaskStatus
from ocpo_coord.records.text import contains_text
from ocpo_coord.visibility.readable import at_instant, readable
from ocpo_coord.visibility.repository import RecordRepository

OPEN_STATUSES = [TaskStatus.PROPOSED, TaskStatus.ACCEPTED, TaskStatus.IN_PROGRESS, TaskStatus.BLOCKED]


def is_overdue(task: Task, today: date) -> bool:
    return task.due_date is not None and task.due_date < today and task.status in OPEN_STATUSES


def is_blocked(task: Task, dependency_statuses: list[str]) -> bool:
    """Blocked by its own status, or waiting on an open dependency the reader can see.

    Dependencies the reader may not read are left out: their state would tell the
    reader something about a record it may not know exists.
    """
    return task.status == TaskStatus.BLOCKED or (
        task.status in OPEN_STATUSES and any(s in OPEN_STATUSES for s in dependency_statuses)
    )


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
        activity_areas: list[ActivityArea] | None = None,
        case_id: uuid.UUID | None = None,
        assignee_position_id: uuid.UUID | None = None,
        overdue: bool | None = None,
        text: str | None = None,
        lead_agency_id: uuid.UUID | None = None,
        supporting_agency_id: uuid.UUID | None = None,
        assignee_user_id: uuid.UUID | None = None,
        blocked: bool | None = None,
    ) -> Select[Task, Record]:
        statement: Select[Task, Record] = self.listing_statement()
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
        if lead_agency_id:
            statement = statement.where(col(Task.lead_agency_id) == lead_agency_id)
        if supporting_agency_id:
            statement = statement.where(
                exists().where(
                    col(TaskSupportingAgency.task_id) == col(Task.id),
                    col(TaskSupportingAgency.agency_id) == supporting_agency_id,
                )
            )
        if activity_area:
            statement = statement.where(col(Task.activity_area) == activity_area)
        if activity_areas is not None:
            statement = statement.where(col(Task.activity_area).in_([a.value for a in activity_areas]))
        if assignee_user_id:
            statement = statement.where(col(Task.assignee_user_id) == assignee_user_id)
        if blocked is not None:
            condition = self.blocked_condition()
            statement = statement.where(condition if blocked else not_(condition))
        if case_id:
            statement = statement.where(col(Record.parent_id) == case_id)
        if assignee_position_id:
            statement = statement.where(col(Task.assignee_position_id) == assignee_position_id)
        if overdue is not None:
            late = self.overdue_condition()
            statement = statement.where(late if overdue else not_(late))
        if text:
            statement = statement.where(contains_text(text, Task.title, Task.description))
        return statement

    def overdue_condition(self) -> ColumnElement[bool]:
        return and_(
            col(Task.due_date).is_not(None),
            col(Task.due_date) < self.now.date(),
            col(Task.status).in_([s.value for s in OPEN_STATUSES]),
        )

    def blocked_condition(self) -> ColumnElement[bool]:
        """SQL face of ``is_blocked``: dependencies count only when the reader may read them."""
        dependency = aliased(Task, name="dependency_task")
        open_readable = (
            select(col(dependency.id))
            .join(Record, col(Record.id) == col(dependency.id))
            .where(
                col(dependency.status).in_([s.value for s in OPEN_STATUSES]),
                readable(self.principal, now=self.now),
            )
            .correlate(None)
        )
        waiting = exists().where(
            col(TaskDependency.task_id) == col(Task.id),
            col(TaskDependency.depends_on_id).in_(open_readable),
        )
        return or_(
            col(Task.status) == TaskStatus.BLOCKED.value,
            and_(col(Task.status).in_([s.value for s in OPEN_STATUSES]), waiting),
        )

    async def group_counts(self, statement: Select[Task, Record], column: Any) -> dict[str, int]:
        """Readable tasks matching ``statement``, counted per value of one column."""
        inner = statement.with_only_columns(col(column).label("k")).order_by(None).subquery()
        grouped = select(inner.c.k, func.count()).group_by(inner.c.k)
        rows = (await execute(self.session, grouped, at_instant(self.now))).all()
        return {str(k): int(n) for k, n in rows}

    async def supporting_counts(self, statement: Select[Task, Record]) -> dict[uuid.UUID, int]:
        """Readable tasks matching ``statement`` per supporting agency."""
        ids = statement.with_only_columns(col(Task.id)).order_by(None).subquery()
        grouped = (
            select(col(TaskSupportingAgency.agency_id), func.count())
            .where(col(TaskSupportingAgency.task_id).in_(select(ids.c.id)))
            .group_by(col(TaskSupportingAgency.agency_id))
        )
        return {a: int(n) for a, n in (await execute(self.session, grouped, at_instant(self.now))).all()}

    async def count_where(self, statement: Select[Task, Record], condition: ColumnElement[bool]) -> int:
        limited = statement.where(condition).with_only_columns(col(Record.id)).order_by(None).subquery()
        counted = select(func.count()).select_from(limited)
        return int((await execute(self.session, counted, at_instant(self.now))).one())


async def statuses(session: AsyncSession, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    wanted = list(set(ids))
    if not wanted:
        return {}
    rows = (
        await session.exec(select(Task.id, Task.status).where(among(session, col(Task.id), wanted)))
    ).all()
    return {i: str(s) for i, s in rows}


async def supporting_for(session: AsyncSession, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, list[uuid.UUID]]:
    grouped: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    wanted = list(set(ids))
    if wanted:
        rows = (
            await session.exec(
                select(TaskSupportingAgency).where(among(session, col(TaskSupportingAgency.task_id), wanted))
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
            await session.exec(
                select(TaskDependency).where(among(session, col(TaskDependency.task_id), wanted))
            )
        ).all()
        for row in rows:
            grouped[row.task_id].append(row.depends_on_id)
    return grouped


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


async def assigned_open_tasks(
    session: AsyncSession,
    *,
    record_ids: Iterable[uuid.UUID] = (),
    agency_ids: Iterable[uuid.UUID] = (),
) -> list[tuple[Task, Record]]:
    """Open tasks with an assignee that are, or hang off, ``record_ids``, or whose assigned
    person or position belongs to one of ``agency_ids``; locked for the caller's update."""
    records, agencies = list(set(record_ids)), list(set(agency_ids))
    reach: list[ColumnElement[bool]] = []
    if records:
        reach += [
            among(session, col(Record.id), records),
            among(session, col(Record.parent_id), records),
            among(session, col(Record.restricted_case_id), records),
        ]
    if agencies:
        reach += [
            col(Task.assignee_user_id).in_(
                select(User.id).where(among(session, col(User.agency_id), agencies))
            ),
            col(Task.assignee_position_id).in_(
                select(Position.id).where(among(session, col(Position.agency_id), agencies))
            ),
        ]
    if not reach:
        return []
    statement = (
        select(Task, Record)
        .join(Record, col(Record.id) == col(Task.id))
        .where(col(Task.status).in_(OPEN_STATUSES))
        .where(or_(col(Task.assignee_user_id).is_not(None), col(Task.assignee_position_id).is_not(None)))
        .where(or_(*reach))
        .order_by(col(Task.id))
    )
    if session.get_bind().dialect.name == "postgresql":
        statement = statement.with_for_update(of=Record, key_share=True)
    return [(task, record) for task, record in (await session.exec(statement)).all()]

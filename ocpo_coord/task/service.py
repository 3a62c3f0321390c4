"""Task rules: assignment to positions, dependencies without cycles, overdue work."""

import uuid

from sqlalchemy import Select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.audit.service import record_event
from ocpo_coord.auth.directory import theatre_by_code, theatre_codes, user_logins
from ocpo_coord.context import Actor
from ocpo_coord.db.queries import among, rows_by_id
from ocpo_coord.exceptions import InvalidInput
from ocpo_coord.models import Position, Record, Task, TaskDependency
from ocpo_coord.models.enums import ACTIVITY_AXES, ActivityArea, RecordKind
from ocpo_coord.notification import service as notifications
from ocpo_coord.records.children import parent_case
from ocpo_coord.records.codes import NOTHING, agency_filter, agency_ids_from_codes, theatre_filter
from ocpo_coord.records.kinds import RecordKindSpec, declare
from ocpo_coord.records.service import (
    copied_columns,
    create_record,
    markings_public,
    require_readable,
)
from ocpo_coord.task import repository
from ocpo_coord.task.reach import all_read
from ocpo_coord.task.repository import TaskRepository, is_blocked, is_overdue
from ocpo_coord.task.schemas import (
    GroupCount,
    TaskBoardSummary,
    TaskCreate,
    TaskFilter,
    TaskPublic,
    TaskUpdate,
)
from ocpo_coord.visibility.pages import any_filter
from ocpo_coord.visibility.pagination import Assembler, Page
from ocpo_coord.visibility.repository import (
    agency_codes,
    readable_record_ids,
    releases_for,
    user_ids_by_login,
)

# The columns TaskPublic shows as they are.
_COPIED = copied_columns(TaskPublic, Task)


def _repo(session: AsyncSession, actor: Actor) -> TaskRepository:
    return TaskRepository(session, principal=actor.principal, now=actor.now)


def assembler(actor: Actor) -> Assembler[Task, TaskPublic]:
    async def assemble(session: AsyncSession, rows: list[tuple[Task, Record]]) -> list[TaskPublic]:
        ids = [task.id for task, _ in rows]
        codes = await agency_codes(session)
        theatres = await theatre_codes(session)
        supporting = await repository.supporting_for(session, ids)
        dependencies = await repository.dependencies_for(session, ids)
        visible_deps = await readable_record_ids(
            session, actor.principal, actor.now, {d for ds in dependencies.values() for d in ds}
        )
        posts = await rows_by_id(
            session, Position, {t.assignee_position_id for t, _ in rows if t.assignee_position_id}
        )
        dependency_status = await repository.statuses(session, visible_deps)
        assignees = await user_logins(session, {t.assignee_user_id for t, _ in rows if t.assignee_user_id})
        releases = await releases_for(session, ids)
        today = actor.now.date()
        result = []
        for task, record in rows:
            crime_axis, action_axis = ACTIVITY_AXES[ActivityArea(task.activity_area)]
            post = posts.get(task.assignee_position_id) if task.assignee_position_id else None
            result.append(
                TaskPublic(
                    **_COPIED(task, record),
                    crime_axis=crime_axis,
                    action_axis=action_axis,
                    case_id=record.parent_id,
                    theatre=theatres.get(record.theatre_id) if record.theatre_id else None,
                    lead_agency=codes[task.lead_agency_id],
                    supporting_agencies=sorted(codes[a] for a in supporting.get(task.id, [])),
                    overdue=is_overdue(task, today),
                    blocked=is_blocked(
                        task,
                        [
                            dependency_status[d]
                            for d in dependencies.get(task.id, [])
                            if d in dependency_status
                        ],
                    ),
                    assignee_position=f"{codes.get(post.agency_id, '?')}: {post.title}" if post else None,
                    assignee=assignees.get(task.assignee_user_id) if task.assignee_user_id else None,
                    depends_on=sorted(d for d in dependencies.get(task.id, []) if d in visible_deps),
                    markings=markings_public(record, releases.get(task.id, []), codes),
                )
            )
        return result

    return assemble


KIND = declare(
    RecordKindSpec(
        RecordKind.TASK,
        "task",
        repository=_repo,
        assembler=assembler,
    )
)


async def _board_statement(
    session: AsyncSession, actor: Actor, filters: TaskFilter
) -> tuple[TaskRepository, Select[Task, Record]]:
    repo = _repo(session, actor)
    areas = None
    if filters.crime_axis is not None or filters.action_axis is not None:
        areas = [
            area
            for area, (crime, action) in ACTIVITY_AXES.items()
            if filters.crime_axis in (None, crime) and filters.action_axis in (None, action)
        ]
    assignee_user_id = None
    if filters.assignee is not None:
        assignee_user_id = (await user_ids_by_login(session, [filters.assignee])).get(
            filters.assignee, NOTHING
        )
    statement = repo.filtered(
        status=filters.status,
        theatre_id=await theatre_filter(session, filters.theatre),
        agency_id=await agency_filter(session, filters.agency),
        lead_agency_id=await agency_filter(session, filters.lead_agency),
        supporting_agency_id=await agency_filter(session, filters.supporting_agency),
        activity_area=filters.activity_area,
        activity_areas=areas,
        case_id=filters.case_id,
        assignee_position_id=filters.assignee_position_id,
        assignee_user_id=assignee_user_id,
        overdue=filters.overdue,
        blocked=filters.blocked,
        text=filters.text,
    )
    return repo, statement


async def list_tasks(
    session: AsyncSession,
    *,
    actor: Actor,
    filters: TaskFilter,
    first: int,
    after: str | None,
    count: bool = True,
) -> Page[TaskPublic]:
    _, statement = await _board_statement(session, actor, filters)
    return await KIND.page(
        session, actor, statement, first=first, after=after, filtered=any_filter(filters), count=count
    )


def _groups(counts: dict[str, int]) -> list[GroupCount]:
    return [GroupCount(key=k, count=n) for k, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


async def task_board_summary(session: AsyncSession, *, actor: Actor, filters: TaskFilter) -> TaskBoardSummary:
    """Group counts over readable tasks only: the filter runs inside the sharing rule."""
    repo, statement = await _board_statement(session, actor, filters)
    codes = await agency_codes(session)
    by_area = await repo.group_counts(statement, Task.activity_area)
    by_crime: dict[str, int] = {}
    by_action: dict[str, int] = {}
    for area, n in by_area.items():
        crime, action = ACTIVITY_AXES[ActivityArea(area)]
        by_crime[crime.value] = by_crime.get(crime.value, 0) + n
        by_action[action.value] = by_action.get(action.value, 0) + n
    by_lead = await repo.group_counts(statement, Task.lead_agency_id)
    supporting = await repo.supporting_counts(statement)
    return TaskBoardSummary(
        total=sum(by_area.values()),
        overdue=await repo.count_where(statement, repo.overdue_condition()),
        blocked=await repo.count_where(statement, repo.blocked_condition()),
        by_status=_groups(await repo.group_counts(statement, Task.status)),
        by_activity_area=_groups(by_area),
        by_crime_axis=_groups(by_crime),
        by_action_axis=_groups(by_action),
        by_lead_agency=_groups({codes.get(uuid.UUID(str(k)), "?"): n for k, n in by_lead.items()}),
        by_supporting_agency=_groups({codes.get(k, "?"): n for k, n in supporting.items()}),
    )


async def _assignee(
    session: AsyncSession, position_id: uuid.UUID | None, login: str | None
) -> tuple[uuid.UUID | None, uuid.UUID | None]:
    if position_id is not None and await session.get(Position, position_id) is None:
        raise InvalidInput(f"position not found: {position_id}", field="assignee_position_id")
    user_id = None
    if login is not None:
        user_id = (await user_ids_by_login(session, [login])).get(login)
        if user_id is None:
            raise InvalidInput(f"unknown user login: {login}", field="assignee_login")
    return position_id, user_id


async def _require_assignee_reads(
    session: AsyncSession,
    actor: Actor,
    task_id: uuid.UUID,
    position_id: uuid.UUID | None,
    user_id: uuid.UUID | None,
) -> None:
    """Work is never assigned to someone who may not read it: the assigned person, and
    everyone holding the assigned position now, must pass the sharing rule for the task
    as it stands after the write (its markings, its case's membership)."""
    if user_id is not None and not await all_read(session, [user_id], task_id, actor.now):
        raise InvalidInput("may not read this task; release it to them first", field="assignee_login")
    if position_id is not None:
        position = await session.get(Position, position_id)
        assert position is not None
        holders = await notifications.position_holders(session, position, actor.now)
        if not await all_read(session, holders, task_id, actor.now):
            raise InvalidInput(
                "its holder may not read this task; release it to them first", field="assignee_position_id"
            )


async def _reject_cycles(session: AsyncSession, task_id: uuid.UUID, depends_on: list[uuid.UUID]) -> None:
    if task_id in depends_on:
        raise InvalidInput("a task cannot depend on itself", field="depends_on")
    frontier, seen = list(depends_on), set(depends_on)
    while frontier:
        rows = (
            await session.exec(
                select(TaskDependency.depends_on_id).where(
                    among(session, col(TaskDependency.task_id), frontier)
                )
            )
        ).all()
        frontier = [r for r in rows if r not in seen]
        if task_id in frontier:
            raise InvalidInput("these dependencies would make a cycle", field="depends_on")
        seen.update(frontier)


async def create_task(session: AsyncSession, *, actor: Actor, data: TaskCreate) -> TaskPublic:
    theatre = await theatre_by_code(session, data.theatre)
    if theatre is None:
        raise InvalidInput(f"unknown theatre code: {data.theatre}", field="theatre")
    case = await parent_case(session, actor, data.case_id) if data.case_id else None
    supporting = await agency_ids_from_codes(session, data.supporting_agencies, "supporting_agencies")
    position_id, user_id = await _assignee(session, data.assignee_position_id, data.assignee_login)
    depends_on = await require_readable(
        session, actor, data.depends_on, kind=RecordKind.TASK, field="depends_on"
    )
    record = await create_record(
        session, actor=actor, kind=RecordKind.TASK, markings=data.markings, theatre_id=theatre.id, parent=case
    )
    assert actor.principal.agency_id is not None
    session.add(
        Task(
            id=record.id,
            title=data.title,
            description=data.description,
            activity_area=data.activity_area,
            lead_agency_id=actor.principal.agency_id,
            status=data.status,
            priority=data.priority,
            due_date=data.due_date,
            assignee_position_id=position_id,
            assignee_user_id=user_id,
        )
    )
    await session.flush()
    await repository.replace_links(session, record.id, agency_ids=supporting, depends_on=depends_on)
    await _require_assignee_reads(session, actor, record.id, position_id, user_id)
    created = await KIND.get(session, actor, record.id)
    await record_event(
        session,
        actor=actor,
        action="task.create",
        record_kind=RecordKind.TASK,
        record_id=record.id,
        after=created.model_dump(mode="json"),
    )
    if position_id or user_id:
        await notifications.task_assigned(
            session, actor=actor, task_id=record.id, position_id=position_id, user_id=user_id
        )
    return created


async def update_task(
    session: AsyncSession, *, actor: Actor, task_id: uuid.UUID, data: TaskUpdate
) -> TaskPublic:
    # Whom an edit newly assigns (a position, a person), to tell them once it is written.
    newly_assigned: tuple[uuid.UUID | None, uuid.UUID | None] = (None, None)

    async def apply(task: Task, _record: Record) -> None:
        nonlocal newly_assigned
        task.sqlmodel_update(
            data.model_dump(
                exclude_unset=True,
                exclude={
                    "expected_version",
                    "supporting_agencies",
                    "depends_on",
                    "markings",
                    "assignee_position_id",
                    "assignee_login",
                },
            )
        )
        fields = data.model_fields_set
        old_position, old_user = task.assignee_position_id, task.assignee_user_id
        if "assignee_position_id" in fields or "assignee_login" in fields:
            position_id, user_id = await _assignee(session, data.assignee_position_id, data.assignee_login)
            if "assignee_position_id" in fields:
                task.assignee_position_id = position_id
            if "assignee_login" in fields:
                task.assignee_user_id = user_id
            newly_assigned = (
                position_id if "assignee_position_id" in fields and position_id != old_position else None,
                user_id if "assignee_login" in fields and user_id != old_user else None,
            )
        depends_on = None
        if data.depends_on is not None:
            depends_on = await require_readable(
                session, actor, data.depends_on, kind=RecordKind.TASK, field="depends_on"
            )
            # Dependencies on tasks this editor cannot see were set by others; they stay.
            existing = (await repository.dependencies_for(session, [task.id])).get(task.id, [])
            seen = await readable_record_ids(session, actor.principal, actor.now, existing)
            depends_on += [d for d in existing if d not in seen]
            await _reject_cycles(session, task.id, depends_on)
        supporting = None
        if data.supporting_agencies is not None:
            supporting = await agency_ids_from_codes(session, data.supporting_agencies, "supporting_agencies")
        await repository.replace_links(session, task.id, agency_ids=supporting, depends_on=depends_on)

    async def settle(task: Task) -> None:
        await _require_assignee_reads(
            session, actor, task.id, task.assignee_position_id, task.assignee_user_id
        )

    task, _, updated = await KIND.update(session, actor, task_id, data, apply, settle=settle)
    if any(newly_assigned):
        await notifications.task_assigned(
            session, actor=actor, task_id=task.id, position_id=newly_assigned[0], user_id=newly_assigned[1]
        )
    return updated

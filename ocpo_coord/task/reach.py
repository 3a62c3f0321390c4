"""Work is never left with someone who may no longer read it.

Assigning a task checks the sharing rule once (``service._require_assignee_reads``). A
later write can narrow who reads the task without touching it: its case's markings,
members or restriction, a grant revoked, an agreement ended, an agency leaving a sharing
group. Each of those writes ends with ``release_unreadable``, which takes the assignment
back from whoever lost the task (the person, or a position one of whose holders did),
audits that as the writer's doing, and tells the lead agency the task needs someone new.
Narrowing is never refused for this: revoking access must not wait on reassignment.
"""

import uuid
from collections.abc import Iterable
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.audit.service import record_event
from ocpo_coord.context import Actor
from ocpo_coord.models import Position, Record, Task
from ocpo_coord.models.enums import NotificationKind, RecordKind
from ocpo_coord.notification import service as notifications
from ocpo_coord.records.service import touch
from ocpo_coord.task import repository


async def release_unreadable(
    session: AsyncSession,
    *,
    actor: Actor,
    record_ids: Iterable[uuid.UUID] = (),
    agency_ids: Iterable[uuid.UUID] = (),
) -> list[uuid.UUID]:
    """Unassign every open task, of or under ``record_ids`` or assigned within
    ``agency_ids``, whose assignee may no longer read it; returns the tasks changed."""
    await session.flush()
    changed = []
    for task, record in await repository.assigned_open_tasks(
        session, record_ids=record_ids, agency_ids=agency_ids
    ):
        before = _assignment(task)
        if task.assignee_user_id is not None and not await all_read(
            session, [task.assignee_user_id], task.id, actor.now
        ):
            task.assignee_user_id = None
        if task.assignee_position_id is not None:
            position = await session.get(Position, task.assignee_position_id)
            assert position is not None
            holders = await notifications.position_holders(session, position, actor.now)
            if not await all_read(session, holders, task.id, actor.now):
                task.assignee_position_id = None
        if _assignment(task) != before:
            changed.append(task.id)
            await _record(session, actor, task, record, before)
    return changed


async def all_read(
    session: AsyncSession, user_ids: list[uuid.UUID], task_id: uuid.UUID, now: datetime
) -> bool:
    """Everyone of ``user_ids`` still active may read the task now, by the one sharing rule."""
    wanted = list(dict.fromkeys(user_ids))
    readers = set(await notifications.readers_among(session, wanted, task_id, now))
    # An account no longer active reads nothing and is told nothing: it does not count.
    lost = [u for u in wanted if u not in readers]
    return not await notifications.active_among(session, lost)


def _assignment(task: Task) -> dict[str, str | None]:
    return {
        "assignee_user_id": str(task.assignee_user_id) if task.assignee_user_id else None,
        "assignee_position_id": str(task.assignee_position_id) if task.assignee_position_id else None,
    }


async def _record(
    session: AsyncSession, actor: Actor, task: Task, record: Record, before: dict[str, str | None]
) -> None:
    touch(record, actor)
    await session.flush()
    await record_event(
        session,
        actor=actor,
        action="task.unassign",
        record_kind=RecordKind.TASK,
        record_id=task.id,
        before=before,
        after=_assignment(task),
        detail="the assignee may no longer read this task",
    )
    recipients = await notifications.agency_recipients(session, task.lead_agency_id, None, actor.now)
    await notifications.notify(
        session,
        recipients=await notifications.readers_among(session, recipients, task.id, actor.now),
        kind=NotificationKind.TASK_UNASSIGNED,
        subject_id=task.id,
        record_id=task.id,
        title=f"A task needs a new assignee: {task.title}",
        body=f"Its assignee may no longer read it after a change by {actor.principal.agency_code}.",
        now=actor.now,
    )

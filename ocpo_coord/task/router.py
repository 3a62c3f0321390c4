"""REST: /api/v1/tasks."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from ocpo_coord.api.deps import ActorDep, SessionDep
from ocpo_coord.api.pagination import ListResponse, PageParams, envelope
from ocpo_coord.task import service
from ocpo_coord.task.schemas import TaskCreate, TaskFilter, TaskPublic, TaskUpdate


class TaskFilterParams(TaskFilter, PageParams):
    pass


router = APIRouter(prefix="/tasks", tags=["tasks"])


@router.get("", response_model=ListResponse[TaskPublic])
async def list_tasks(
    session: SessionDep,
    actor: ActorDep,
    params: Annotated[TaskFilterParams, Query()],
) -> ListResponse[TaskPublic]:
    return envelope(
        await service.list_tasks(
            session,
            actor=actor,
            filters=TaskFilter.model_validate(params.filters()),
            first=params.limit,
            after=params.after,
        )
    )


@router.post("", response_model=TaskPublic, status_code=status.HTTP_201_CREATED)
async def create_task(session: SessionDep, actor: ActorDep, body: TaskCreate) -> TaskPublic:
    return await service.create_task(session, actor=actor, data=body)


@router.get("/{task_id}", response_model=TaskPublic)
async def get_task(session: SessionDep, actor: ActorDep, task_id: uuid.UUID) -> TaskPublic:
    return await service.get_task(session, actor=actor, task_id=task_id)


@router.patch("/{task_id}", response_model=TaskPublic)
async def update_task(
    session: SessionDep, actor: ActorDep, task_id: uuid.UUID, body: TaskUpdate
) -> TaskPublic:
    return await service.update_task(session, actor=actor, task_id=task_id, data=body)

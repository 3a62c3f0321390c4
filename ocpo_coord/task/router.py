"""REST: /api/v1/tasks."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import JSONResponse

from ocpo_coord.api.concurrency import IfMatch, conditional, tag_response
from ocpo_coord.api.deps import ActorDep, SessionDep
from ocpo_coord.api.idempotency import IdempotencyKey, idempotent_create
from ocpo_coord.api.pagination import ListResponse, PageParams, envelope
from ocpo_coord.task import service
from ocpo_coord.task.schemas import TaskBoardSummary, TaskCreate, TaskFilter, TaskPublic, TaskUpdate


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


@router.get("/summary", response_model=TaskBoardSummary)
async def task_board_summary(
    session: SessionDep, actor: ActorDep, filters: Annotated[TaskFilter, Query()]
) -> TaskBoardSummary:
    """Counts per status, activity area, axis and agency over the tasks you may read."""
    return await service.task_board_summary(session, actor=actor, filters=filters)


@router.post("", response_model=TaskPublic, status_code=status.HTTP_201_CREATED)
async def create_task(
    session: SessionDep,
    actor: ActorDep,
    request: Request,
    response: Response,
    body: TaskCreate,
    idempotency_key: IdempotencyKey = None,
) -> TaskPublic | JSONResponse:
    created = await idempotent_create(
        session,
        actor=actor,
        request=request,
        key=idempotency_key,
        body=body,
        create=lambda: service.create_task(session, actor=actor, data=body),
    )
    return created if isinstance(created, JSONResponse) else tag_response(response, created)


@router.get("/{task_id:uuid}", response_model=TaskPublic)
async def get_task(
    session: SessionDep, actor: ActorDep, response: Response, task_id: uuid.UUID
) -> TaskPublic:
    return tag_response(response, await service.read_task(session, actor=actor, task_id=task_id))


@router.patch("/{task_id:uuid}", response_model=TaskPublic)
async def update_task(
    session: SessionDep,
    actor: ActorDep,
    response: Response,
    task_id: uuid.UUID,
    body: TaskUpdate,
    if_match: IfMatch = None,
) -> TaskPublic:
    updated = await conditional(
        if_match,
        body.expected_version,
        lambda version: service.update_task(
            session, actor=actor, task_id=task_id, data=body.model_copy(update={"expected_version": version})
        ),
    )
    return tag_response(response, updated)

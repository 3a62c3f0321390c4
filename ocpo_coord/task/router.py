"""REST: /api/v1/tasks."""

from typing import Annotated

from fastapi import APIRouter, Query

from ocpo_coord.api.deps import ActorDep, SessionDep
from ocpo_coord.api.records import Listing, RecordRoutes, add_listing, add_record_routes
from ocpo_coord.task import service
from ocpo_coord.task.schemas import TaskBoardSummary, TaskCreate, TaskFilter, TaskPublic, TaskUpdate

router = APIRouter(prefix="/tasks", tags=["tasks"])

add_listing(router, "", TaskPublic, Listing("list_tasks", TaskFilter, service.list_tasks))


@router.get("/summary", response_model=TaskBoardSummary)
async def task_board_summary(
    session: SessionDep, actor: ActorDep, filters: Annotated[TaskFilter, Query()]
) -> TaskBoardSummary:
    """Counts per status, activity area, axis and agency over the tasks you may read."""
    return await service.task_board_summary(session, actor=actor, filters=filters)


add_record_routes(
    router,
    RecordRoutes(
        "task",
        "task_id",
        TaskPublic,
        TaskCreate,
        TaskUpdate,
        create=service.create_task,
        read=service.KIND.read,
        update=service.update_task,
        id_path="/{task_id:uuid}",
    ),
)

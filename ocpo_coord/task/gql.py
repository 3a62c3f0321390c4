"""GraphQL: tasks."""

from typing import TYPE_CHECKING, Annotated

import strawberry
import strawberry.experimental.pydantic as spy

from ocpo_coord.gql.common import (
    ErrorTypes,
    Node,
    described_field,
    input_model,
    partial_input,
)
from ocpo_coord.gql.context import GraphQLInfo
from ocpo_coord.gql.node import graphql_type, node_type
from ocpo_coord.gql.records import connection_field, create_mutation, record_field, update_mutation
from ocpo_coord.models.enums import RecordKind
from ocpo_coord.records.gql import Markings
from ocpo_coord.task import service
from ocpo_coord.task.schemas import (
    GroupCount,
    TaskBoardSummary,
    TaskCreate,
    TaskFilter,
    TaskPublic,
    TaskUpdate,
)

if TYPE_CHECKING:
    from ocpo_coord.case.gql import Case

CASE = Annotated["Case", strawberry.lazy("ocpo_coord.case.gql")]


@node_type(RecordKind.TASK)
@spy.type(model=TaskPublic, all_fields=True, name="Task")
class Task(Node):
    id: strawberry.ID
    markings: Markings

    @described_field("The case this task serves, when you may read it.")
    async def case(self, info: GraphQLInfo) -> CASE | None:
        if self.case_id is None:  # type: ignore[attr-defined]
            return None
        found = await info.context.loaders.records(RecordKind.CASE).load(self.case_id)  # type: ignore[attr-defined]
        return graphql_type(RecordKind.CASE).from_pydantic(found) if found else None

    @described_field("The tasks this one depends on, those you may read.")
    async def dependencies(
        self, info: GraphQLInfo
    ) -> list[Annotated["Task", strawberry.lazy("ocpo_coord.task.gql")]]:
        ids = self.depends_on  # type: ignore[attr-defined]
        found = await info.context.loaders.records(RecordKind.TASK).load_many(ids) if ids else []
        return [Task.from_pydantic(t) for t in found if t is not None]


@spy.type(model=GroupCount, all_fields=True, name="GroupCount")
class GroupCountType:
    pass


@spy.type(model=TaskBoardSummary, all_fields=True, name="TaskBoardSummary")
class TaskBoardSummaryType:
    pass


@spy.input(model=TaskCreate, all_fields=True, name="CreateTaskInput")
class CreateTaskInput:
    pass


@partial_input
@spy.input(model=TaskUpdate, all_fields=True, name="UpdateTaskInput")
class UpdateTaskInput:
    id: strawberry.ID


@spy.input(model=TaskFilter, all_fields=True, name="TaskFilter")
class TaskFilterInput:
    pass


@strawberry.type
class TaskPayload:
    task: Task


TaskResult = Annotated[TaskPayload | ErrorTypes, strawberry.union("TaskResult")]


@strawberry.type
class TaskQuery:
    tasks = connection_field(
        "Tasks you may read across agencies, newest first.",
        Task,
        TaskFilterInput,
        TaskFilter,
        service.list_tasks,
    )

    @described_field("Counts over the tasks you may read that match the filter.")
    async def task_board_summary(
        self, info: GraphQLInfo, filter: TaskFilterInput | None = None
    ) -> TaskBoardSummaryType:
        filters = input_model(info, filter, TaskFilter) if filter else TaskFilter()
        summary = await service.task_board_summary(
            info.context.session, actor=info.context.require_actor(), filters=filters
        )
        return TaskBoardSummaryType.from_pydantic(summary)

    task = record_field(Task, "task", service.KIND.read)


def _payload(task: Task) -> TaskPayload:
    return TaskPayload(task=task)


@strawberry.type
class TaskMutation:
    create_task = create_mutation(
        _payload, TaskResult, Task, CreateTaskInput, TaskCreate, service.create_task
    )

    update_task = update_mutation(
        _payload, TaskResult, Task, UpdateTaskInput, TaskUpdate, "task", "task_id", service.update_task
    )

"""GraphQL: tasks."""

from typing import TYPE_CHECKING, Annotated

import strawberry
import strawberry.experimental.pydantic as spy

from ocpo_coord.context import Actor
from ocpo_coord.gql.common import (
    Connection,
    ErrorTypes,
    Node,
    asks_total,
    connection,
    described_field,
    from_model,
    input_model,
    partial_input,
)
from ocpo_coord.gql.context import GraphQLInfo, mutate
from ocpo_coord.gql.ids import parse_id
from ocpo_coord.gql.node import graphql_type, node_type
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
    @described_field("Tasks you may read across agencies, newest first.")
    async def tasks(
        self,
        info: GraphQLInfo,
        first: int = 50,
        after: str | None = None,
        filter: TaskFilterInput | None = None,
    ) -> Connection[Task]:
        filters = input_model(info, filter, TaskFilter) if filter else TaskFilter()
        page = await service.list_tasks(
            info.context.session,
            actor=info.context.require_actor(),
            filters=filters,
            first=first,
            after=after,
            count=asks_total(info),
        )
        return connection(page, from_model(Task))

    @described_field("Counts over the tasks you may read that match the filter.")
    async def task_board_summary(
        self, info: GraphQLInfo, filter: TaskFilterInput | None = None
    ) -> TaskBoardSummaryType:
        filters = input_model(info, filter, TaskFilter) if filter else TaskFilter()
        summary = await service.task_board_summary(
            info.context.session, actor=info.context.require_actor(), filters=filters
        )
        return TaskBoardSummaryType.from_pydantic(summary)

    @strawberry.field
    async def task(self, info: GraphQLInfo, id: strawberry.ID) -> Task | None:
        public = await service.read_task(
            info.context.session, actor=info.context.require_actor(), task_id=parse_id(id, "task")
        )
        return Task.from_pydantic(public)


@strawberry.type
class TaskMutation:
    @strawberry.mutation
    async def create_task(self, info: GraphQLInfo, input: CreateTaskInput) -> TaskResult:
        async def run(actor: Actor) -> TaskPayload:
            data = input_model(info, input, TaskCreate)
            return TaskPayload(
                task=Task.from_pydantic(
                    await service.create_task(info.context.session, actor=actor, data=data)
                )
            )

        return await mutate(info, run)

    @strawberry.mutation
    async def update_task(self, info: GraphQLInfo, input: UpdateTaskInput) -> TaskResult:
        async def run(actor: Actor) -> TaskPayload:
            data = input_model(info, input, TaskUpdate, partial=True)
            updated = await service.update_task(
                info.context.session, actor=actor, task_id=parse_id(input.id, "task"), data=data
            )
            return TaskPayload(task=Task.from_pydantic(updated))

        return await mutate(info, run)

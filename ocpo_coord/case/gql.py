"""GraphQL: cases, with their notes, evidence, tasks and intelligence nested."""

import uuid
from typing import TYPE_CHECKING, Annotated

import strawberry
import strawberry.experimental.pydantic as spy

from ocpo_coord.case import service
from ocpo_coord.case.schemas import CaseCreate, CaseFilter, CasePublic, CaseUpdate
from ocpo_coord.directory.gql import AGENCIES, Agency
from ocpo_coord.gql.common import (
    Connection,
    ErrorTypes,
    Node,
    connection,
    described_field,
    from_model,
    partial_input,
)
from ocpo_coord.gql.context import GraphQLInfo
from ocpo_coord.gql.nested import NESTED_MAX_PAGE
from ocpo_coord.gql.node import graphql_type, node_type
from ocpo_coord.gql.records import connection_field, create_mutation, record_field, update_mutation
from ocpo_coord.models.enums import RecordKind
from ocpo_coord.records.gql import Markings

if TYPE_CHECKING:
    from ocpo_coord.evidence.gql import Evidence
    from ocpo_coord.intel.gql import IntelItem
    from ocpo_coord.note.gql import Note
    from ocpo_coord.task.gql import Task

NESTED_PAGE = f"at most {NESTED_MAX_PAGE} a page."


@node_type(RecordKind.CASE)
@spy.type(model=CasePublic, all_fields=True, name="Case")
class Case(Node):
    id: strawberry.ID
    markings: Markings

    @described_field("The lead agency's directory entry.")
    async def lead_agency_details(self, info: GraphQLInfo) -> Agency | None:
        agency = await info.context.loaders.get(AGENCIES).load(self.lead_agency)  # type: ignore[attr-defined]
        return Agency.from_pydantic(agency) if agency else None

    @described_field(f"Timeline notes you may read, newest first; {NESTED_PAGE}")
    async def notes(
        self, info: GraphQLInfo, first: int = 20, after: str | None = None
    ) -> Connection[Annotated["Note", strawberry.lazy("ocpo_coord.note.gql")]]:
        page = await info.context.loaders.children(RecordKind.NOTE).page(_id(self), first, after)
        return connection(page, from_model(graphql_type(RecordKind.NOTE)))

    @described_field(f"Evidence and documents you may read, newest first; {NESTED_PAGE}")
    async def evidence(
        self, info: GraphQLInfo, first: int = 20, after: str | None = None
    ) -> Connection[Annotated["Evidence", strawberry.lazy("ocpo_coord.evidence.gql")]]:
        page = await info.context.loaders.children(RecordKind.EVIDENCE).page(_id(self), first, after)
        return connection(page, from_model(graphql_type(RecordKind.EVIDENCE)))

    @described_field(f"Tasks on this case you may read, newest first; {NESTED_PAGE}")
    async def tasks(
        self, info: GraphQLInfo, first: int = 20, after: str | None = None
    ) -> Connection[Annotated["Task", strawberry.lazy("ocpo_coord.task.gql")]]:
        page = await info.context.loaders.children(RecordKind.TASK).page(_id(self), first, after)
        return connection(page, from_model(graphql_type(RecordKind.TASK)))

    @described_field(f"Linked intelligence items you may read, newest first; {NESTED_PAGE}")
    async def intel_items(
        self, info: GraphQLInfo, first: int = 20, after: str | None = None
    ) -> Connection[Annotated["IntelItem", strawberry.lazy("ocpo_coord.intel.gql")]]:
        page = await info.context.loaders.children(RecordKind.INTEL_ITEM).page(_id(self), first, after)
        return connection(page, from_model(graphql_type(RecordKind.INTEL_ITEM)))


def _id(case: Case) -> uuid.UUID:
    return uuid.UUID(str(case.id))


@spy.input(model=CaseCreate, all_fields=True, name="CreateCaseInput")
class CreateCaseInput:
    pass


@partial_input
@spy.input(model=CaseUpdate, all_fields=True, name="UpdateCaseInput")
class UpdateCaseInput:
    id: strawberry.ID


@spy.input(model=CaseFilter, all_fields=True, name="CaseFilter")
class CaseFilterInput:
    pass


@strawberry.type
class CasePayload:
    case: Case


CaseResult = Annotated[CasePayload | ErrorTypes, strawberry.union("CaseResult")]


@strawberry.type
class CaseQuery:
    cases = connection_field(
        "Cases you may read, newest first.", Case, CaseFilterInput, CaseFilter, service.list_cases
    )
    case = record_field(
        Case,
        "case",
        service.KIND.read,
        "One case; null, with a not-found error, if missing or not readable.",
    )


def _payload(case: Case) -> CasePayload:
    return CasePayload(case=case)


@strawberry.type
class CaseMutation:
    create_case = create_mutation(
        _payload, CaseResult, Case, CreateCaseInput, CaseCreate, service.create_case
    )
    update_case = update_mutation(
        _payload, CaseResult, Case, UpdateCaseInput, CaseUpdate, "case", "case_id", service.update_case
    )

"""GraphQL: access requests."""

import uuid
from typing import Annotated

import strawberry
import strawberry.experimental.pydantic as spy

from ocpo_coord.access import service
from ocpo_coord.access.schemas import (
    AccessDecision,
    AccessRequestCreate,
    AccessRequestFilter,
    AccessRequestPublic,
    Direction,
)
from ocpo_coord.context import Actor
from ocpo_coord.gql.common import Connection, ErrorTypes, connection, described_field, from_model, input_model
from ocpo_coord.gql.context import GraphQLInfo, mutate
from ocpo_coord.gql.ids import parse_id
from ocpo_coord.models.enums import AccessRequestStatus


@spy.type(model=AccessRequestPublic, all_fields=True, name="AccessRequest")
class AccessRequest:
    id: strawberry.ID


@spy.input(model=AccessRequestCreate, all_fields=True, name="RequestAccessInput")
class RequestAccessInput:
    pass


@spy.input(model=AccessDecision, all_fields=True, name="AccessDecisionInput")
class AccessDecisionInput:
    id: strawberry.ID


@strawberry.type
class AccessRequestPayload:
    access_request: AccessRequest


AccessRequestResult = Annotated[AccessRequestPayload | ErrorTypes, strawberry.union("AccessRequestResult")]


@strawberry.type
class AccessQuery:
    @described_field(
        "Your own requests (OUTGOING), or those your agency decides on (INCOMING); newest first."
    )
    async def access_requests(
        self,
        info: GraphQLInfo,
        first: int = 50,
        after: str | None = None,
        direction: Direction = Direction.OUTGOING,
        status: AccessRequestStatus | None = None,
    ) -> Connection[AccessRequest]:
        page = await service.page_requests(
            info.context.session,
            actor=info.context.require_actor(),
            filters=AccessRequestFilter(direction=direction, status=status),
            first=first,
            after=after,
        )
        return connection(page, from_model(AccessRequest))


def _payload(public: AccessRequestPublic) -> AccessRequestPayload:
    return AccessRequestPayload(access_request=AccessRequest.from_pydantic(public))


def _request_id(value: strawberry.ID) -> uuid.UUID:
    return parse_id(value, "access request")


@strawberry.type
class AccessMutation:
    @strawberry.mutation
    async def request_access(self, info: GraphQLInfo, input: RequestAccessInput) -> AccessRequestResult:
        # The answer is the same whether or not the record exists.
        async def run(actor: Actor) -> AccessRequestPayload:
            data = input_model(info, input, AccessRequestCreate)
            return _payload(await service.request_access(info.context.session, actor=actor, data=data))

        return await mutate(info, run)

    @strawberry.mutation
    async def approve_access_request(
        self, info: GraphQLInfo, input: AccessDecisionInput
    ) -> AccessRequestResult:
        async def run(actor: Actor) -> AccessRequestPayload:
            decision = input_model(info, input, AccessDecision)
            public = await service.approve(
                info.context.session, actor=actor, request_id=_request_id(input.id), decision=decision
            )
            return _payload(public)

        return await mutate(info, run)

    @strawberry.mutation
    async def refuse_access_request(
        self, info: GraphQLInfo, input: AccessDecisionInput
    ) -> AccessRequestResult:
        async def run(actor: Actor) -> AccessRequestPayload:
            decision = input_model(info, input, AccessDecision)
            public = await service.refuse(
                info.context.session, actor=actor, request_id=_request_id(input.id), decision=decision
            )
            return _payload(public)

        return await mutate(info, run)

    @strawberry.mutation
    async def withdraw_access_request(self, info: GraphQLInfo, id: strawberry.ID) -> AccessRequestResult:
        async def run(actor: Actor) -> AccessRequestPayload:
            return _payload(
                await service.withdraw(info.context.session, actor=actor, request_id=_request_id(id))
            )

        return await mutate(info, run)

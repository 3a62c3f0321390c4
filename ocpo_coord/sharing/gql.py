"""GraphQL: sharing groups, sharing agreements (MoUs) and the grants of a record."""

from typing import Annotated

import strawberry
import strawberry.experimental.pydantic as spy

from ocpo_coord.context import Actor
from ocpo_coord.gql.common import (
    Connection,
    ErrorTypes,
    connection,
    described_field,
    from_model,
    input_model,
    partial_input,
)
from ocpo_coord.gql.context import GraphQLInfo, mutate
from ocpo_coord.gql.ids import parse_id
from ocpo_coord.sharing import service
from ocpo_coord.sharing.schemas import (
    AgreementCreate,
    AgreementPublic,
    GrantCreate,
    GrantPublic,
    SharingGroupCreate,
    SharingGroupMemberChange,
    SharingGroupPublic,
    SharingGroupUpdate,
)


@spy.type(model=SharingGroupPublic, all_fields=True, name="SharingGroup")
class SharingGroup:
    id: strawberry.ID


@spy.type(model=AgreementPublic, all_fields=True, name="Agreement")
class Agreement:
    id: strawberry.ID


@spy.type(model=GrantPublic, all_fields=True, name="Grant")
class Grant:
    id: strawberry.ID


@spy.input(model=SharingGroupCreate, all_fields=True, name="CreateSharingGroupInput")
class CreateSharingGroupInput:
    pass


@partial_input
@spy.input(model=SharingGroupUpdate, all_fields=True, name="UpdateSharingGroupInput")
class UpdateSharingGroupInput:
    id: strawberry.ID


@spy.input(model=SharingGroupMemberChange, all_fields=True, name="SharingGroupMemberInput")
class SharingGroupMemberInput:
    group_id: strawberry.ID


@strawberry.input(description="Refused while any record is released to the group.")
class DeleteSharingGroupInput:
    id: strawberry.ID


@spy.input(model=AgreementCreate, all_fields=True, name="CreateAgreementInput")
class CreateAgreementInput:
    pass


@strawberry.input(description="End an agreement in force now; an ended agreement cannot be reopened.")
class EndAgreementInput:
    id: strawberry.ID


@strawberry.input(
    description="Withdraw an agreement that has not come into force; one that has can only be ended."
)
class WithdrawAgreementInput:
    id: strawberry.ID


@spy.input(model=GrantCreate, all_fields=True, name="CreateGrantInput")
class CreateGrantInput:
    record_id: strawberry.ID


@strawberry.input(description="Revoke a grant: it is deleted and stops granting at once.")
class RevokeGrantInput:
    id: strawberry.ID


@strawberry.type
class SharingGroupPayload:
    sharing_group: SharingGroup


@strawberry.type(description="The group as it was before it was deleted.")
class DeleteSharingGroupPayload:
    sharing_group: SharingGroup


@strawberry.type
class AgreementPayload:
    agreement: Agreement


@strawberry.type(description="The agreement as it was before it was withdrawn.")
class WithdrawAgreementPayload:
    agreement: Agreement


@strawberry.type
class GrantPayload:
    grant: Grant


@strawberry.type(description="The grant as it was before it was revoked.")
class RevokeGrantPayload:
    grant: Grant


SharingGroupResult = Annotated[SharingGroupPayload | ErrorTypes, strawberry.union("SharingGroupResult")]
DeleteSharingGroupResult = Annotated[
    DeleteSharingGroupPayload | ErrorTypes, strawberry.union("DeleteSharingGroupResult")
]
AgreementResult = Annotated[AgreementPayload | ErrorTypes, strawberry.union("AgreementResult")]
WithdrawAgreementResult = Annotated[
    WithdrawAgreementPayload | ErrorTypes, strawberry.union("WithdrawAgreementResult")
]
GrantResult = Annotated[GrantPayload | ErrorTypes, strawberry.union("GrantResult")]
RevokeGrantResult = Annotated[RevokeGrantPayload | ErrorTypes, strawberry.union("RevokeGrantResult")]


@strawberry.type
class SharingAdminQuery:
    @described_field("Sharing groups your agency owns or belongs to (the ones you may release to), by name.")
    async def sharing_groups(
        self, info: GraphQLInfo, first: int = 50, after: str | None = None
    ) -> Connection[SharingGroup]:
        page = await service.page_groups(
            info.context.session, actor=info.context.require_actor(), first=first, after=after
        )
        return connection(page, from_model(SharingGroup))

    @described_field("Sharing agreements (MoUs) your agency is grantor or grantee of, latest start first.")
    async def agreements(
        self, info: GraphQLInfo, first: int = 50, after: str | None = None
    ) -> Connection[Agreement]:
        page = await service.page_agreements(
            info.context.session, actor=info.context.require_actor(), first=first, after=after
        )
        return connection(page, from_model(Agreement))

    @described_field(
        "Grants on a record you may read, newest first; a not-found error if missing or not readable."
    )
    async def grants(
        self, info: GraphQLInfo, record_id: strawberry.ID, first: int = 50, after: str | None = None
    ) -> Connection[Grant]:
        page = await service.page_grants(
            info.context.session,
            actor=info.context.require_actor(),
            record_id=parse_id(record_id, "record"),
            first=first,
            after=after,
        )
        return connection(page, from_model(Grant))


@strawberry.type
class SharingAdminMutation:
    @strawberry.mutation
    async def create_sharing_group(
        self, info: GraphQLInfo, input: CreateSharingGroupInput
    ) -> SharingGroupResult:
        async def run(actor: Actor) -> SharingGroupPayload:
            data = input_model(info, input, SharingGroupCreate)
            created = await service.create_group(info.context.session, actor=actor, data=data)
            return SharingGroupPayload(sharing_group=SharingGroup.from_pydantic(created))

        return await mutate(info, run)

    @strawberry.mutation
    async def update_sharing_group(
        self, info: GraphQLInfo, input: UpdateSharingGroupInput
    ) -> SharingGroupResult:
        async def run(actor: Actor) -> SharingGroupPayload:
            data = input_model(info, input, SharingGroupUpdate, partial=True)
            group_id = parse_id(input.id, "sharing group")
            updated = await service.update_group(
                info.context.session, actor=actor, group_id=group_id, data=data
            )
            return SharingGroupPayload(sharing_group=SharingGroup.from_pydantic(updated))

        return await mutate(info, run)

    @strawberry.mutation
    async def add_sharing_group_member(
        self, info: GraphQLInfo, input: SharingGroupMemberInput
    ) -> SharingGroupResult:
        async def run(actor: Actor) -> SharingGroupPayload:
            data = input_model(info, input, SharingGroupMemberChange, drop=("group_id",))
            group_id = parse_id(input.group_id, "sharing group")
            updated = await service.add_member(
                info.context.session, actor=actor, group_id=group_id, data=data
            )
            return SharingGroupPayload(sharing_group=SharingGroup.from_pydantic(updated))

        return await mutate(info, run)

    @strawberry.mutation
    async def remove_sharing_group_member(
        self, info: GraphQLInfo, input: SharingGroupMemberInput
    ) -> SharingGroupResult:
        async def run(actor: Actor) -> SharingGroupPayload:
            data = input_model(info, input, SharingGroupMemberChange, drop=("group_id",))
            group_id = parse_id(input.group_id, "sharing group")
            updated = await service.remove_member(
                info.context.session, actor=actor, group_id=group_id, data=data
            )
            return SharingGroupPayload(sharing_group=SharingGroup.from_pydantic(updated))

        return await mutate(info, run)

    @strawberry.mutation
    async def delete_sharing_group(
        self, info: GraphQLInfo, input: DeleteSharingGroupInput
    ) -> DeleteSharingGroupResult:
        async def run(actor: Actor) -> DeleteSharingGroupPayload:
            group_id = parse_id(input.id, "sharing group")
            deleted = await service.delete_group(info.context.session, actor=actor, group_id=group_id)
            return DeleteSharingGroupPayload(sharing_group=SharingGroup.from_pydantic(deleted))

        return await mutate(info, run)

    @strawberry.mutation
    async def create_agreement(self, info: GraphQLInfo, input: CreateAgreementInput) -> AgreementResult:
        async def run(actor: Actor) -> AgreementPayload:
            data = input_model(info, input, AgreementCreate)
            created = await service.create_agreement(info.context.session, actor=actor, data=data)
            return AgreementPayload(agreement=Agreement.from_pydantic(created))

        return await mutate(info, run)

    @strawberry.mutation
    async def end_agreement(self, info: GraphQLInfo, input: EndAgreementInput) -> AgreementResult:
        async def run(actor: Actor) -> AgreementPayload:
            agreement_id = parse_id(input.id, "agreement")
            ended = await service.end_agreement(info.context.session, actor=actor, agreement_id=agreement_id)
            return AgreementPayload(agreement=Agreement.from_pydantic(ended))

        return await mutate(info, run)

    @strawberry.mutation
    async def withdraw_agreement(
        self, info: GraphQLInfo, input: WithdrawAgreementInput
    ) -> WithdrawAgreementResult:
        async def run(actor: Actor) -> WithdrawAgreementPayload:
            agreement_id = parse_id(input.id, "agreement")
            withdrawn = await service.withdraw_agreement(
                info.context.session, actor=actor, agreement_id=agreement_id
            )
            return WithdrawAgreementPayload(agreement=Agreement.from_pydantic(withdrawn))

        return await mutate(info, run)

    @strawberry.mutation
    async def create_grant(self, info: GraphQLInfo, input: CreateGrantInput) -> GrantResult:
        async def run(actor: Actor) -> GrantPayload:
            data = input_model(info, input, GrantCreate, drop=("record_id",))
            record_id = parse_id(input.record_id, "record")
            created = await service.create_grant(
                info.context.session, actor=actor, record_id=record_id, data=data
            )
            return GrantPayload(grant=Grant.from_pydantic(created))

        return await mutate(info, run)

    @strawberry.mutation
    async def revoke_grant(self, info: GraphQLInfo, input: RevokeGrantInput) -> RevokeGrantResult:
        async def run(actor: Actor) -> RevokeGrantPayload:
            revoked = await service.revoke_grant(
                info.context.session, actor=actor, grant_id=parse_id(input.id, "grant")
            )
            return RevokeGrantPayload(grant=Grant.from_pydantic(revoked))

        return await mutate(info, run)

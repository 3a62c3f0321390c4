"""REST: /api/v1/sharing-groups, /api/v1/agreements, and the grants of a record."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from ocpo_coord.api.deps import ActorDep, SessionDep
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

AgencyPath = Annotated[str, Path(min_length=2, max_length=32, pattern=r"^[A-Za-z0-9_.+-]+$")]

groups = APIRouter(prefix="/sharing-groups", tags=["sharing groups"])


@groups.get("", response_model=list[SharingGroupPublic])
async def list_groups(session: SessionDep, actor: ActorDep) -> list[SharingGroupPublic]:
    """The groups your agency owns or belongs to: the ones you may release records to."""
    return await service.list_groups(session, actor=actor)


@groups.post("", response_model=SharingGroupPublic, status_code=status.HTTP_201_CREATED)
async def create_group(session: SessionDep, actor: ActorDep, body: SharingGroupCreate) -> SharingGroupPublic:
    return await service.create_group(session, actor=actor, data=body)


@groups.get("/{group_id}", response_model=SharingGroupPublic)
async def get_group(session: SessionDep, actor: ActorDep, group_id: uuid.UUID) -> SharingGroupPublic:
    return await service.get_group(session, actor=actor, group_id=group_id)


@groups.patch("/{group_id}", response_model=SharingGroupPublic)
async def update_group(
    session: SessionDep, actor: ActorDep, group_id: uuid.UUID, body: SharingGroupUpdate
) -> SharingGroupPublic:
    return await service.update_group(session, actor=actor, group_id=group_id, data=body)


@groups.delete("/{group_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_group(session: SessionDep, actor: ActorDep, group_id: uuid.UUID) -> Response:
    """Refused (409) while any record is released to the group."""
    await service.delete_group(session, actor=actor, group_id=group_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@groups.post("/{group_id}/members", response_model=SharingGroupPublic)
async def add_member(
    session: SessionDep, actor: ActorDep, group_id: uuid.UUID, body: SharingGroupMemberChange
) -> SharingGroupPublic:
    return await service.add_member(session, actor=actor, group_id=group_id, data=body)


@groups.delete("/{group_id}/members/{agency}", response_model=SharingGroupPublic)
async def remove_member(
    session: SessionDep, actor: ActorDep, group_id: uuid.UUID, agency: AgencyPath
) -> SharingGroupPublic:
    change = SharingGroupMemberChange(agency=agency)
    return await service.remove_member(session, actor=actor, group_id=group_id, data=change)


agreements = APIRouter(prefix="/agreements", tags=["sharing agreements"])


@agreements.get("", response_model=list[AgreementPublic])
async def list_agreements(session: SessionDep, actor: ActorDep) -> list[AgreementPublic]:
    """Agreements your agency is grantor or grantee of."""
    return await service.list_agreements(session, actor=actor)


@agreements.post("", response_model=AgreementPublic, status_code=status.HTTP_201_CREATED)
async def create_agreement(session: SessionDep, actor: ActorDep, body: AgreementCreate) -> AgreementPublic:
    return await service.create_agreement(session, actor=actor, data=body)


@agreements.get("/{agreement_id}", response_model=AgreementPublic)
async def get_agreement(session: SessionDep, actor: ActorDep, agreement_id: uuid.UUID) -> AgreementPublic:
    return await service.get_agreement(session, actor=actor, agreement_id=agreement_id)


@agreements.post("/{agreement_id}/end", response_model=AgreementPublic)
async def end_agreement(session: SessionDep, actor: ActorDep, agreement_id: uuid.UUID) -> AgreementPublic:
    """End an agreement in force now; an ended agreement cannot be reopened."""
    return await service.end_agreement(session, actor=actor, agreement_id=agreement_id)


@agreements.delete("/{agreement_id}", status_code=status.HTTP_204_NO_CONTENT)
async def withdraw_agreement(session: SessionDep, actor: ActorDep, agreement_id: uuid.UUID) -> Response:
    """Withdraw an agreement that has not come into force; one that has can only be ended."""
    await service.withdraw_agreement(session, actor=actor, agreement_id=agreement_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


grants = APIRouter(tags=["grants"])


@grants.get("/records/{record_id}/grants", response_model=list[GrantPublic])
async def list_grants(session: SessionDep, actor: ActorDep, record_id: uuid.UUID) -> list[GrantPublic]:
    return await service.list_grants(session, actor=actor, record_id=record_id)


@grants.post("/records/{record_id}/grants", response_model=GrantPublic, status_code=status.HTTP_201_CREATED)
async def create_grant(
    session: SessionDep, actor: ActorDep, record_id: uuid.UUID, body: GrantCreate
) -> GrantPublic:
    return await service.create_grant(session, actor=actor, record_id=record_id, data=body)


@grants.delete("/grants/{grant_id}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_grant(session: SessionDep, actor: ActorDep, grant_id: uuid.UUID) -> Response:
    """Revoking deletes the grant and takes effect at once."""
    await service.revoke_grant(session, actor=actor, grant_id=grant_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


router = APIRouter()
for _sub in (groups, agreements, grants):
    router.include_router(_sub)

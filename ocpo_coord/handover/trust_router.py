"""REST: /api/v1/handover-trust (installation administrators) and the proofs imported
packages carried about a record (/api/v1/handover-proofs/{record_id})."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, status

from ocpo_coord.api.deps import ActorDep, SessionDep
from ocpo_coord.handover import proofs, trust
from ocpo_coord.handover.proofs import ImportedProofsPublic
from ocpo_coord.handover.trust import InstallationKey, TrustedInstallationCreate, TrustedInstallationPublic

trust_router = APIRouter(prefix="/handover-trust", tags=["handovers"])
proofs_router = APIRouter(prefix="/handover-proofs", tags=["handovers"])

InstallationName = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[^\s+]+$")]


@trust_router.get("", response_model=list[TrustedInstallationPublic])
async def list_trusted(session: SessionDep, actor: ActorDep) -> list[TrustedInstallationPublic]:
    return await trust.list_trusted(session, actor=actor)


@trust_router.post("", response_model=TrustedInstallationPublic, status_code=status.HTTP_201_CREATED)
async def add_trusted(
    session: SessionDep, actor: ActorDep, body: TrustedInstallationCreate
) -> TrustedInstallationPublic:
    return await trust.add(session, actor=actor, data=body)


@trust_router.post("/{name}/revoke", response_model=TrustedInstallationPublic)
async def revoke_trusted(
    session: SessionDep, actor: ActorDep, name: InstallationName
) -> TrustedInstallationPublic:
    return await trust.revoke(session, actor=actor, name=name)


@trust_router.get("/own-key", response_model=InstallationKey)
async def own_key(actor: ActorDep) -> InstallationKey:
    """This installation's verifier key (public), for another installation to register."""
    return trust.own_key()


@proofs_router.get("/{record_id}", response_model=list[ImportedProofsPublic])
async def record_proofs(
    session: SessionDep, actor: ActorDep, record_id: uuid.UUID
) -> list[ImportedProofsPublic]:
    return await proofs.record_proofs(session, actor=actor, record_id=record_id)

"""REST: /api/v1/audit-events, for auditors."""

from typing import Annotated

from fastapi import APIRouter, Query

from ocpo_coord.api.deps import ActorDep, SessionDep
from ocpo_coord.api.pagination import PageParams
from ocpo_coord.oversight import query
from ocpo_coord.oversight.schemas import AuditFilter, AuditPage


class AuditFilterParams(AuditFilter, PageParams):
    pass


router = APIRouter(prefix="/audit-events", tags=["audit"])


@router.get(
    "",
    response_model=AuditPage,
    description="Newest first; entries as far as you may read what they describe.",
)
async def list_audit_events(
    session: SessionDep, actor: ActorDep, params: Annotated[AuditFilterParams, Query()]
) -> AuditPage:
    filters = AuditFilter.model_validate(params.filters())
    return await query.list_events(
        session, actor=actor, filters=filters, first=params.limit, after=params.after
    )

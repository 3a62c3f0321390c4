"""REST: /api/v1/notifications."""

from typing import Annotated

from fastapi import APIRouter, Query

from ocpo_coord.api.deps import ActorDep, SessionDep
from ocpo_coord.api.pagination import PageParams
from ocpo_coord.notification import service
from ocpo_coord.notification.schemas import MarkRead, MarkReadResult, NotificationFilter, NotificationPage

router = APIRouter(prefix="/notifications", tags=["notifications"])


class NotificationParams(NotificationFilter, PageParams):
    pass


@router.get("", response_model=NotificationPage)
async def list_notifications(
    session: SessionDep, actor: ActorDep, params: Annotated[NotificationParams, Query()]
) -> NotificationPage:
    """Your feed, newest first: deconfliction hits, assignments, requests to decide."""
    filters = NotificationFilter.model_validate(params.filters())
    return await service.feed(session, actor=actor, filters=filters, first=params.limit, after=params.after)


@router.post("/read", response_model=MarkReadResult)
async def mark_read(session: SessionDep, actor: ActorDep, body: MarkRead) -> MarkReadResult:
    """Mark your notifications read; all of them when ``ids`` is empty."""
    return await service.mark_read(session, actor=actor, ids=body.ids)

"""REST: /api/v1/cases/{id}/file.html, the printable case file."""

import uuid

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from ocpo_coord.api.deps import ActorDep, SessionDep
from ocpo_coord.casefile import service

router = APIRouter(tags=["cases"])


# Response, not HTMLResponse, as the class: the errors stay documented as JSON.
@router.get(
    "/cases/{case_id}/file.html",
    response_class=Response,
    responses={
        200: {"description": "The case file.", "content": {"text/html": {"schema": {"type": "string"}}}}
    },
)
async def case_file(session: SessionDep, actor: ActorDep, case_id: uuid.UUID) -> Response:
    """A printable page of the case: markings banner, summary, notes, evidence, tasks and
    the intelligence you may read."""
    page = await service.case_file(session, actor=actor, case_id=case_id)
    return HTMLResponse(page, headers={"Content-Security-Policy": service.CSP})

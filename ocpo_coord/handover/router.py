"""REST: /api/v1/handovers, their lines, consent requests and the checklist template."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field

from ocpo_coord.api.deps import ActorDep, SessionDep
from ocpo_coord.handover import checklist, completion, consent, lines, report, rotation, service
from ocpo_coord.handover.schemas import (
    BulkDecision,
    BulkResult,
    CancelInput,
    ChecklistAssignment,
    ChecklistItemCreate,
    ChecklistItemPublic,
    ConsentAnswer,
    ConsentRequestPublic,
    HandoverCreate,
    HandoverPublic,
    HandoverReport,
    LineDecision,
    LineFilter,
    LinePublic,
    ReviewInput,
    RotationCreate,
    TourEndingPublic,
    TourEndReport,
)
from ocpo_coord.models.enums import ConsentStatus, HandoverStatus

router = APIRouter(prefix="/handovers", tags=["handovers"])
consent_router = APIRouter(prefix="/handover-consents", tags=["handovers"])
checklist_router = APIRouter(prefix="/handover-checklist", tags=["handovers"])


class HandoverListQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: HandoverStatus | None = None


class LineQuery(LineFilter):
    after: int | None = Field(default=None, ge=0, description="seq of the last line of the previous page.")
    limit: int = Field(default=100, ge=1, le=1000)


class ConsentQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: ConsentStatus | None = None


@router.post("", response_model=HandoverPublic, status_code=status.HTTP_201_CREATED)
async def create(session: SessionDep, actor: ActorDep, body: HandoverCreate) -> HandoverPublic:
    return await service.create_handover(session, actor=actor, data=body)


@router.get("", response_model=list[HandoverPublic])
async def list_handovers(
    session: SessionDep, actor: ActorDep, query: Annotated[HandoverListQuery, Query()]
) -> list[HandoverPublic]:
    return await service.list_handovers(session, actor=actor, status=query.status)


@router.get("/{handover_id}", response_model=HandoverPublic)
async def get(session: SessionDep, actor: ActorDep, handover_id: uuid.UUID) -> HandoverPublic:
    return await service.get_handover(session, actor=actor, handover_id=handover_id)


@router.post("/{handover_id}/inventory", response_model=HandoverPublic)
async def build_inventory(session: SessionDep, actor: ActorDep, handover_id: uuid.UUID) -> HandoverPublic:
    return await service.build_inventory(session, actor=actor, handover_id=handover_id)


@router.get("/{handover_id}/lines", response_model=list[LinePublic])
async def list_lines(
    session: SessionDep, actor: ActorDep, handover_id: uuid.UUID, query: Annotated[LineQuery, Query()]
) -> list[LinePublic]:
    filters = LineFilter.model_validate(query.model_dump(exclude={"after", "limit"}))
    return await lines.list_lines(
        session, actor=actor, handover_id=handover_id, filters=filters, after=query.after, limit=query.limit
    )


@router.post(
    "/{handover_id}/lines/decide",
    response_model=BulkResult,
    description="Decide every line the filter selects; lines that cannot take the decision are counted, not changed.",
)
async def decide_lines(
    session: SessionDep, actor: ActorDep, handover_id: uuid.UUID, body: BulkDecision
) -> BulkResult:
    return await service.decide_lines(session, actor=actor, handover_id=handover_id, data=body)


@router.post("/{handover_id}/lines/{line_id:uuid}/decide", response_model=BulkResult)
async def decide_line(
    session: SessionDep, actor: ActorDep, handover_id: uuid.UUID, line_id: uuid.UUID, body: LineDecision
) -> BulkResult:
    return await service.decide_line(
        session, actor=actor, handover_id=handover_id, line_id=line_id, decision=body
    )


@router.patch("/{handover_id}/lines/{line_id:uuid}", response_model=LinePublic)
async def assign_checklist_line(
    session: SessionDep,
    actor: ActorDep,
    handover_id: uuid.UUID,
    line_id: uuid.UUID,
    body: ChecklistAssignment,
) -> LinePublic:
    """Set who does a checklist line and by when."""
    return await service.assign_checklist_line(
        session, actor=actor, handover_id=handover_id, line_id=line_id, data=body
    )


@router.post("/{handover_id}/submit", response_model=HandoverPublic)
async def submit(session: SessionDep, actor: ActorDep, handover_id: uuid.UUID) -> HandoverPublic:
    return await service.submit(session, actor=actor, handover_id=handover_id)


@router.post("/{handover_id}/review", response_model=HandoverPublic)
async def review(
    session: SessionDep, actor: ActorDep, handover_id: uuid.UUID, body: ReviewInput
) -> HandoverPublic:
    return await service.review(session, actor=actor, handover_id=handover_id, data=body)


@router.post("/{handover_id}/sign-off", response_model=HandoverPublic)
async def sign_off(session: SessionDep, actor: ActorDep, handover_id: uuid.UUID) -> HandoverPublic:
    return await service.sign_off(session, actor=actor, handover_id=handover_id)


@router.post("/{handover_id}/complete", response_model=HandoverPublic)
async def complete(session: SessionDep, actor: ActorDep, handover_id: uuid.UUID) -> HandoverPublic:
    return await completion.complete(session, actor=actor, handover_id=handover_id)


@router.post("/{handover_id}/cancel", response_model=HandoverPublic)
async def cancel(
    session: SessionDep, actor: ActorDep, handover_id: uuid.UUID, body: CancelInput
) -> HandoverPublic:
    return await service.cancel(session, actor=actor, handover_id=handover_id, data=body)


@router.get("/{handover_id}/report", response_model=HandoverReport)
async def get_report(session: SessionDep, actor: ActorDep, handover_id: uuid.UUID) -> HandoverReport:
    return await report.build_report(session, actor=actor, handover_id=handover_id)


@router.get("/{handover_id}/report.html", response_class=HTMLResponse)
async def get_report_html(session: SessionDep, actor: ActorDep, handover_id: uuid.UUID) -> HTMLResponse:
    built = await report.build_report(session, actor=actor, handover_id=handover_id)
    return HTMLResponse(report.render_html(built), headers={"Content-Security-Policy": report.CSP})


@consent_router.get("", response_model=list[ConsentRequestPublic])
async def list_consents(
    session: SessionDep, actor: ActorDep, query: Annotated[ConsentQuery, Query()]
) -> list[ConsentRequestPublic]:
    return await consent.list_requests(session, actor=actor, status=query.status)


@consent_router.post("/{line_id}", response_model=ConsentRequestPublic)
async def answer_consent(
    session: SessionDep, actor: ActorDep, line_id: uuid.UUID, body: ConsentAnswer
) -> ConsentRequestPublic:
    return await consent.answer(session, actor=actor, line_id=line_id, data=body)


@checklist_router.get("", response_model=list[ChecklistItemPublic])
async def list_checklist(session: SessionDep, actor: ActorDep) -> list[ChecklistItemPublic]:
    return await checklist.list_items(session, actor=actor)


@checklist_router.post("", response_model=list[ChecklistItemPublic], status_code=status.HTTP_201_CREATED)
async def add_checklist_item(
    session: SessionDep, actor: ActorDep, body: ChecklistItemCreate
) -> list[ChecklistItemPublic]:
    return await checklist.add_item(session, actor=actor, data=body)


@checklist_router.delete("/{item_id}", response_model=list[ChecklistItemPublic])
async def remove_checklist_item(
    session: SessionDep, actor: ActorDep, item_id: uuid.UUID
) -> list[ChecklistItemPublic]:
    return await checklist.remove_item(session, actor=actor, item_id=item_id)


rotation_router = APIRouter(prefix="/rotations", tags=["handovers"])


class EndingQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    within_days: int = Field(default=30, ge=0, le=366)


@rotation_router.post("", response_model=HandoverPublic, status_code=status.HTTP_201_CREATED)
async def create_rotation(session: SessionDep, actor: ActorDep, body: RotationCreate) -> HandoverPublic:
    """A position-to-position handover; then use /handovers/{id}/... like any handover."""
    return await rotation.create_rotation(session, actor=actor, data=body)


@rotation_router.get("/ending", response_model=list[TourEndingPublic])
async def tours_ending(
    session: SessionDep, actor: ActorDep, query: Annotated[EndingQuery, Query()]
) -> list[TourEndingPublic]:
    return await rotation.tours_ending(session, actor=actor, within_days=query.within_days)


@rotation_router.get("/report/{login}", response_model=TourEndReport)
async def tour_end_report(session: SessionDep, actor: ActorDep, login: str) -> TourEndReport:
    """What the person leaves behind: open tasks, cases and positions to reassign."""
    return await rotation.tour_end_report(session, actor=actor, login=login)

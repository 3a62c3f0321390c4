"""Third-party consent: material an agency originated moves only if that agency says so.

The originator sees only the lines that concern its own material, never the rest of
the handover. A refusal withholds the line and leaves the receiver a stub naming whom
to ask.
"""

import uuid
from collections.abc import Sequence
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.audit.service import record_event
from ocpo_coord.context import Actor
from ocpo_coord.exceptions import Conflict, NotFound
from ocpo_coord.handover import repository
from ocpo_coord.handover.policy import may_answer_consent
from ocpo_coord.handover.schemas import ConsentAnswer, ConsentRequestPublic
from ocpo_coord.handover.service import line_snapshot
from ocpo_coord.handover.views import LineViews
from ocpo_coord.models import Handover, HandoverLine
from ocpo_coord.models.enums import ConsentStatus, Disposition, HandoverStatus
from ocpo_coord.visibility.pagination import Page, converted_page, empty_page
from ocpo_coord.visibility.policy import enforce
from ocpo_coord.visibility.repository import agency_codes


async def list_requests(
    session: AsyncSession, *, actor: Actor, status: ConsentStatus | None
) -> list[ConsentRequestPublic]:
    principal = actor.principal
    if not principal.reads_agency_data or principal.agency_id is None:
        return []
    return await _requests_public(
        session, actor, await repository.consent_requests(session, principal.agency_id, status)
    )


async def page_requests(
    session: AsyncSession, *, actor: Actor, status: ConsentStatus | None, first: int, after: str | None
) -> Page[ConsentRequestPublic]:
    """The same requests as ``list_requests``, oldest first, a page at a time."""
    principal = actor.principal
    if not principal.reads_agency_data or principal.agency_id is None:
        return empty_page(first)

    async def convert(rows: Sequence[tuple[Any, ...]]) -> list[ConsentRequestPublic]:
        return await _requests_public(session, actor, [(row[0], row[1]) for row in rows])

    return await converted_page(
        session,
        repository.consent_requests_to(principal.agency_id, status),
        first=first,
        after=after,
        convert=convert,
        order=repository.CONSENT_ORDER,
    )


async def _requests_public(
    session: AsyncSession, actor: Actor, rows: list[tuple[HandoverLine, Handover]]
) -> list[ConsentRequestPublic]:
    views = await LineViews(session, actor).load([line for line, _ in rows])
    codes = await agency_codes(session)
    return [_public(line, handover, views, codes) for line, handover in rows]


def _public(
    line: HandoverLine, handover: Handover, views: LineViews, codes: dict[uuid.UUID, str]
) -> ConsentRequestPublic:
    shown = views.public(line)
    return ConsentRequestPublic(
        line_id=line.id,
        handover_id=handover.id,
        handover_reference=handover.reference,
        outgoing_agency=codes.get(handover.outgoing_agency_id, "?"),
        incoming_agency=codes.get(handover.incoming_agency_id, "?"),
        kind=shown.kind,
        subject_id=shown.subject_id,
        label=shown.label,
        consent_status=line.consent_status,
        consent_at=line.consent_at,
    )


async def answer(
    session: AsyncSession, *, actor: Actor, line_id: uuid.UUID, data: ConsentAnswer
) -> ConsentRequestPublic:
    line = await session.get(HandoverLine, line_id)
    if line is None or line.consent_agency_id is None:
        raise NotFound("consent request")
    decision = may_answer_consent(actor.principal, line)
    if decision == "consent request not found":
        raise NotFound("consent request")
    enforce(decision)
    handover = await session.get(Handover, line.handover_id)
    assert handover is not None
    if handover.status not in (HandoverStatus.DRAFT, HandoverStatus.IN_PROGRESS):
        raise Conflict(f"the handover is {handover.status}; consent can no longer change", field="grant")
    before = line_snapshot(line)
    was_refused = line.consent_status == ConsentStatus.REFUSED
    line.consent_status = ConsentStatus.GRANTED if data.grant else ConsentStatus.REFUSED
    line.consent_by_id = actor.principal.user_id
    line.consent_at = actor.now
    line.consent_note = data.note
    if not data.grant:
        codes = await agency_codes(session)
        line.disposition = Disposition.WITHHELD
        line.reason = f"originator {codes.get(line.consent_agency_id, '?')} refused consent; ask them"
        line.decline_outcome = None
        line.decided_by_id = actor.principal.user_id
        line.decided_at = actor.now
    elif was_refused and line.disposition == Disposition.WITHHELD:
        line.disposition = Disposition.OPEN  # a change of heart reopens what a refusal closed
        line.reason = ""
    await session.flush()
    await record_event(
        session,
        actor=actor,
        action="handover.consent." + ("grant" if data.grant else "refuse"),
        record_kind="handover_line",
        record_id=line.id,
        before=before,
        after=line_snapshot(line),
        detail=f"handover {handover.reference}",
    )
    views = await LineViews(session, actor).load([line])
    return _public(line, handover, views, await agency_codes(session))

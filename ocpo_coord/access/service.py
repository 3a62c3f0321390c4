"""Access requests: ask with a reason; the owner approves with an expiring grant, or refuses.

Asking never reveals anything: a request for a record that does not exist is
accepted and stored exactly like one for a record the requester may not read.
"""

import uuid
from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from ocpo_coord.access import repository
from ocpo_coord.access.schemas import (
    AccessDecision,
    AccessRequestCreate,
    AccessRequestFilter,
    AccessRequestPublic,
    Direction,
)
from ocpo_coord.audit.service import record_event
from ocpo_coord.auth.directory import user_logins
from ocpo_coord.context import Actor
from ocpo_coord.deconfliction import service as deconfliction
from ocpo_coord.exceptions import Conflict, InvalidInput, NotFound
from ocpo_coord.handover import service as handover
from ocpo_coord.models import AccessRequest, Record, RecordGrant
from ocpo_coord.models.enums import AccessRequestStatus
from ocpo_coord.notification import service as notifications
from ocpo_coord.visibility.pagination import Page, empty_page, entity_page
from ocpo_coord.visibility.policy import enforce, may_create, may_decide_access, may_edit
from ocpo_coord.visibility.repository import agency_codes, readable_record, readable_record_ids

DEFAULT_GRANT = timedelta(days=30)
LONGEST_GRANT = timedelta(days=365)


async def to_public(
    session: AsyncSession, requests: list[AccessRequest], *, actor: Actor
) -> list[AccessRequestPublic]:
    """Requests as ``actor`` sees them: the record's id only if they may read it (its
    owner's deciders may; a requester who asked through a hit or a stub learns no id)."""
    codes = await agency_codes(session)
    readable = await readable_record_ids(session, actor.principal, actor.now, {r.record_id for r in requests})
    logins = await user_logins(
        session, {r.requester_id for r in requests} | {r.decided_by_id for r in requests if r.decided_by_id}
    )
    return [
        AccessRequestPublic(
            id=r.id,
            record_id=r.record_id if r.record_id in readable else None,
            requester=logins.get(r.requester_id, "?"),
            requester_agency=codes.get(r.requester_agency_id, "?"),
            reason=r.reason,
            status=r.status,
            created_at=r.created_at,
            decided_by=logins.get(r.decided_by_id) if r.decided_by_id else None,
            decided_at=r.decided_at,
            decision_note=r.decision_note,
            grant_expires_at=r.grant_expires_at,
        )
        for r in requests
    ]


async def _subject(session: AsyncSession, actor: Actor, data: AccessRequestCreate) -> uuid.UUID:
    """The record asked for: named by id, or through the handle the requester was given
    instead (a deconfliction hit, a handover stub), which names nothing itself."""
    if data.hit_id is not None:
        return await deconfliction.other_record(session, actor=actor, hit_id=data.hit_id)
    if data.handover_line_id is not None:
        return await handover.line_subject(session, actor=actor, line_id=data.handover_line_id)
    assert data.record_id is not None
    return data.record_id


async def request_access(
    session: AsyncSession, *, actor: Actor, data: AccessRequestCreate
) -> AccessRequestPublic:
    principal = actor.principal
    enforce(may_create(principal))
    assert principal.agency_id is not None
    record_id = await _subject(session, actor, data)
    if await readable_record(session, principal, actor.now, record_id) is not None:
        raise Conflict("you can already read this record", field=data.handle_field)
    if await repository.pending_for(session, record_id, principal.user_id) is not None:
        raise Conflict("you already have a pending request for this record", field=data.handle_field)
    request = AccessRequest(
        record_id=record_id,
        requester_id=principal.user_id,
        requester_agency_id=principal.agency_id,
        reason=data.reason,
        created_at=actor.now,
    )
    session.add(request)
    await session.flush()
    public = (await to_public(session, [request], actor=actor))[0]
    await record_event(
        session,
        actor=actor,
        action="access_request.create",
        record_id=record_id,
        after=public.model_dump(mode="json"),
    )
    await notifications.access_requested(session, actor=actor, request_id=request.id, record_id=record_id)
    return public


def _requests(actor: Actor, filters: AccessRequestFilter) -> SelectOfScalar[AccessRequest] | None:
    """The requests a list shows, or None when the actor has no part in that direction."""
    principal = actor.principal
    if filters.direction is Direction.OUTGOING:
        return repository.outgoing(principal.user_id, filters.status)
    if principal.agency_id is None or may_create(principal) is not True:
        return None
    return repository.incoming(principal, actor.now, filters.status)


async def list_requests(
    session: AsyncSession, *, actor: Actor, filters: AccessRequestFilter
) -> list[AccessRequestPublic]:
    statement = _requests(actor, filters)
    rows = await repository.newest_first(session, statement) if statement is not None else []
    return await to_public(session, rows, actor=actor)


async def page_requests(
    session: AsyncSession, *, actor: Actor, filters: AccessRequestFilter, first: int, after: str | None
) -> Page[AccessRequestPublic]:
    """The same requests as ``list_requests``, newest first, a page at a time."""
    statement = _requests(actor, filters)
    if statement is None:
        return empty_page(first)

    return await entity_page(
        session,
        statement,
        first=first,
        after=after,
        order=repository.REQUEST_ORDER,
        convert=lambda requests: to_public(session, requests, actor=actor),
    )


async def _decidable(
    session: AsyncSession, actor: Actor, request_id: uuid.UUID
) -> tuple[AccessRequest, Record]:
    """The request and its record, if the actor's agency decides on it; else 404."""
    principal = actor.principal
    request = await session.get(AccessRequest, request_id)
    # Through the visibility rule: deciders see only records they may read themselves.
    record = await readable_record(session, principal, actor.now, request.record_id) if request else None
    if (
        request is None
        or record is None
        or principal.agency_id
        not in (
            record.owner_agency_id,
            record.originator_agency_id if record.orcon else None,
        )
    ):
        raise NotFound("access request")
    if request.status != AccessRequestStatus.PENDING:
        raise Conflict(f"the request is already {request.status}", field="id")
    return request, record


def _grant_expiry(decision: AccessDecision, now: datetime) -> datetime:
    expires = decision.expires_at or now + DEFAULT_GRANT
    if expires <= now:
        raise InvalidInput("must be in the future", field="expires_at")
    if expires > now + LONGEST_GRANT:
        raise InvalidInput("may be at most 365 days ahead", field="expires_at")
    return expires


async def approve(
    session: AsyncSession, *, actor: Actor, request_id: uuid.UUID, decision: AccessDecision
) -> AccessRequestPublic:
    request, record = await _decidable(session, actor, request_id)
    enforce(may_decide_access(actor.principal, record))
    before = (await to_public(session, [request], actor=actor))[0].model_dump(mode="json")
    expires = _grant_expiry(decision, actor.now)
    session.add(
        RecordGrant(
            record_id=record.id,
            user_id=request.requester_id,
            expires_at=expires,
            reason=f"access request: {request.reason}"[:1000],
            granted_by_id=actor.principal.user_id,
            created_at=actor.now,
        )
    )
    request.status = AccessRequestStatus.APPROVED
    request.decided_by_id = actor.principal.user_id
    request.decided_at = actor.now
    request.decision_note = decision.note
    request.grant_expires_at = expires
    await session.flush()
    public = (await to_public(session, [request], actor=actor))[0]
    await record_event(
        session,
        actor=actor,
        action="access_request.approve",
        record_kind=record.kind,
        record_id=record.id,
        before=before,
        after=public.model_dump(mode="json"),
    )
    return public


async def refuse(
    session: AsyncSession, *, actor: Actor, request_id: uuid.UUID, decision: AccessDecision
) -> AccessRequestPublic:
    request, record = await _decidable(session, actor, request_id)
    # Refusing widens nothing: the owner's authorised users may always say no.
    enforce(may_edit(actor.principal, record))
    before = (await to_public(session, [request], actor=actor))[0].model_dump(mode="json")
    request.status = AccessRequestStatus.REFUSED
    request.decided_by_id = actor.principal.user_id
    request.decided_at = actor.now
    request.decision_note = decision.note
    await session.flush()
    public = (await to_public(session, [request], actor=actor))[0]
    await record_event(
        session,
        actor=actor,
        action="access_request.refuse",
        record_kind=record.kind,
        record_id=record.id,
        before=before,
        after=public.model_dump(mode="json"),
    )
    return public


async def withdraw(session: AsyncSession, *, actor: Actor, request_id: uuid.UUID) -> AccessRequestPublic:
    request = await session.get(AccessRequest, request_id)
    if request is None or request.requester_id != actor.principal.user_id:
        raise NotFound("access request")
    if request.status != AccessRequestStatus.PENDING:
        raise Conflict(f"the request is already {request.status}", field="id")
    request.status = AccessRequestStatus.WITHDRAWN
    request.decided_at = actor.now
    await session.flush()
    public = (await to_public(session, [request], actor=actor))[0]
    await record_event(
        session,
        actor=actor,
        action="access_request.withdraw",
        record_id=request.record_id,
        after=public.model_dump(mode="json"),
    )
    return public

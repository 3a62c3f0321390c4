"""Auditors read the log through the visibility rule; nobody else reads it at all."""

import uuid
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.audit import repository
from ocpo_coord.audit.schemas import AuditEventPublic, AuditFilter, AuditPage
from ocpo_coord.config import get_settings
from ocpo_coord.context import Actor
from ocpo_coord.exceptions import InvalidInput
from ocpo_coord.models import AuditEvent
from ocpo_coord.records.pagination import Page, check_page_size
from ocpo_coord.records.repository import agency_codes, readable_record_ids
from ocpo_coord.sharing.policy import enforce, may_audit


def _public(event: AuditEvent, codes: dict[uuid.UUID, str], readable_ids: set[uuid.UUID]) -> AuditEventPublic:
    assert event.seq is not None
    return AuditEventPublic(
        seq=event.seq,
        id=event.id,
        at=event.at,
        actor_name=event.actor_name,
        agency=codes.get(event.agency_id) if event.agency_id else None,
        request_id=event.request_id,
        action=event.action,
        record_kind=event.record_kind,
        record_id=event.record_id,
        # Only the ids the reader may read, and no sign of how many others there are.
        record_ids=[i for i in _named_ids(event) if i in readable_ids],
        before=event.before,
        after=event.after,
        detail=event.detail,
        hash=event.hash,
    )


def _named_ids(event: AuditEvent) -> list[uuid.UUID]:
    return [uuid.UUID(i) for i in event.record_ids or ()]


def _filters(filters: AuditFilter) -> dict[str, Any]:
    return {
        "record_id": filters.record_id,
        "action": filters.action,
        "actor_login": filters.actor,
        "since": filters.since,
    }


async def _events_page(
    session: AsyncSession, actor: Actor, filters: AuditFilter, first: int, after: str | None, *, field: str
) -> tuple[list[AuditEventPublic], bool]:
    enforce(may_audit(actor.principal))
    check_page_size(first, get_settings().max_page_size, field=field)
    before_seq = None
    if after is not None:
        if not after.isdigit():
            raise InvalidInput("is not a valid cursor", field="after")
        before_seq = int(after)
    events = await repository.visible_events(
        session, actor.principal, actor.now, before_seq=before_seq, limit=first + 1, **_filters(filters)
    )
    codes = await agency_codes(session)
    shown = events[:first]
    # One query for the page: which of the ids its entries name this reader may read.
    readable_ids = await readable_record_ids(
        session, actor.principal, actor.now, {i for e in shown for i in _named_ids(e)}
    )
    return [_public(e, codes, readable_ids) for e in shown], len(events) > first


async def list_events(
    session: AsyncSession, *, actor: Actor, filters: AuditFilter, first: int, after: str | None
) -> AuditPage:
    items, more = await _events_page(session, actor, filters, first, after, field="limit")
    return AuditPage(items=items, next_cursor=str(items[-1].seq) if more else None)


async def page_events(
    session: AsyncSession, *, actor: Actor, filters: AuditFilter, first: int, after: str | None
) -> Page[AuditEventPublic]:
    """The same entries as a cursor page (the cursor is the entry's ``seq``), counted."""
    items, more = await _events_page(session, actor, filters, first, after, field="first")
    if after is None and not more:
        total, capped = len(items), False
    else:
        total, capped = await repository.count_visible(
            session, actor.principal, actor.now, cap=get_settings().count_cap, **_filters(filters)
        )
    return Page(items, [str(item.seq) for item in items], more, total, capped)

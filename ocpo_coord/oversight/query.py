"""Auditors read the log through the visibility rule; nobody else reads it at all."""

import re
import uuid
from collections.abc import Iterator
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.audit import repository
from ocpo_coord.config import get_settings
from ocpo_coord.context import Actor
from ocpo_coord.exceptions import InvalidInput
from ocpo_coord.models import AuditEvent
from ocpo_coord.oversight.schemas import AuditEventPublic, AuditFilter, AuditPage
from ocpo_coord.visibility.pagination import Page, check_page_size
from ocpo_coord.visibility.policy import enforce, may_audit
from ocpo_coord.visibility.repository import agency_codes, unreadable_records

_UUID_TEXT = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def _public(event: AuditEvent, codes: dict[uuid.UUID, str], hidden: set[str]) -> AuditEventPublic:
    """The entry as this reader may see it: every record id it names, in any field and
    at any depth, passes the rule, and what names a record the reader may not read is
    left out (see ``redacted``). The stored entry stays whole, so it still verifies."""
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
        record_id=event.record_id if str(event.record_id) not in hidden else None,
        # Only the ids the reader may read, and no sign of how many others there are.
        record_ids=[i for i in _named_ids(event) if str(i) not in hidden],
        before=redacted(event.before, hidden),
        after=redacted(event.after, hidden),
        detail=_detail(event.detail, hidden),
        hash=event.hash,
    )


def _named_ids(event: AuditEvent) -> list[uuid.UUID]:
    return [uuid.UUID(i) for i in event.record_ids or ()]


def _uuid_texts(value: Any) -> Iterator[str]:
    """Every string in a snapshot that is a UUID, at any depth."""
    if isinstance(value, str):
        if _UUID_TEXT.fullmatch(value):
            yield value.lower()
    elif isinstance(value, dict):
        for item in value.values():
            yield from _uuid_texts(item)
    elif isinstance(value, list):
        for item in value:
            yield from _uuid_texts(item)


def _names_hidden(value: Any, hidden: set[str]) -> bool:
    return any(text in hidden for text in _uuid_texts(value))


def redacted(snapshot: Any, hidden: set[str]) -> Any:
    """``snapshot`` without what names a record in ``hidden``: such an id in a field
    becomes null, and an element of a list that names one (the id itself, or an object
    such as an entity's link) is left out whole, so neither its kind nor its role shows."""
    if isinstance(snapshot, dict):
        return {key: redacted(value, hidden) for key, value in snapshot.items()}
    if isinstance(snapshot, list):
        return [redacted(item, hidden) for item in snapshot if not _names_hidden(item, hidden)]
    if isinstance(snapshot, str) and snapshot.lower() in hidden:
        return None
    return snapshot


def _detail(detail: str, hidden: set[str]) -> str:
    return _UUID_TEXT.sub(lambda m: "(withheld)" if m[0].lower() in hidden else m[0], detail)


async def _hidden_ids(session: AsyncSession, actor: Actor, events: list[AuditEvent]) -> set[str]:
    """The record ids the entries name, anywhere, that the reader may not read."""
    named: set[uuid.UUID] = set()
    for event in events:
        named.update(_named_ids(event))
        if event.record_id is not None:
            named.add(event.record_id)
        named.update(uuid.UUID(text) for text in _uuid_texts([event.before, event.after]))
        named.update(uuid.UUID(text) for text in _UUID_TEXT.findall(event.detail))
    return {
        str(record_id) for record_id in await unreadable_records(session, actor.principal, actor.now, named)
    }


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
    hidden = await _hidden_ids(session, actor, shown)
    return [_public(e, codes, hidden) for e in shown], len(events) > first


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

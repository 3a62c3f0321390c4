"""The feed of what concerns each user, and who is told about what.

A notification is addressed to people through positions, so that rotation does not
orphan it: the holders of the position on the day, or, while it is vacant, its last
holder if still active in the agency; an agency's coordinators and administrators
are told too. Text is written once, content-free, and a linked record is shown only
while the recipient may read it.
"""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.audit.service import record_event
from ocpo_coord.auth.principal import Principal, load_principal
from ocpo_coord.context import Actor
from ocpo_coord.exceptions import InvalidInput
from ocpo_coord.models import Position
from ocpo_coord.models.base import new_id
from ocpo_coord.models.enums import NotificationKind
from ocpo_coord.notification import repository
from ocpo_coord.notification.repository import AUTHORISED_ROLES
from ocpo_coord.notification.schemas import (
    MarkReadResult,
    NotificationFilter,
    NotificationPage,
    NotificationPublic,
)
from ocpo_coord.visibility.pagination import Cursor
from ocpo_coord.visibility.repository import readable_record_ids


async def designated_position(
    session: AsyncSession, agency_id: uuid.UUID, theatre_id: uuid.UUID | None
) -> Position | None:
    """The agency's deconfliction contact: in the theatre concerned if it has one there."""
    positions = await repository.designated_positions(session, agency_id)
    in_theatre = [p for p in positions if theatre_id is not None and p.theatre_id == theatre_id]
    chosen = in_theatre or positions
    return chosen[0] if chosen else None


async def position_holders(session: AsyncSession, position: Position, on: datetime) -> list[uuid.UUID]:
    holders = await repository.current_holders(session, position.id, on.date())
    if holders:
        return holders
    last = await repository.last_holder(session, position.id, position.agency_id)
    return [last] if last is not None else []


async def agency_recipients(
    session: AsyncSession, agency_id: uuid.UUID, position: Position | None, on: datetime
) -> list[uuid.UUID]:
    """Holders of the agency's position, then its coordinators and administrators."""
    found = await position_holders(session, position, on) if position is not None else []
    found += await repository.users_with_roles(session, agency_id, AUTHORISED_ROLES)
    return list(dict.fromkeys(found))


Placement = tuple[uuid.UUID, uuid.UUID | None]  # an agency, and the theatre concerned


async def designated_positions_for(
    session: AsyncSession, wanted: Iterable[Placement]
) -> dict[Placement, Position | None]:
    """``designated_position`` for several (agency, theatre) pairs, in one statement."""
    pairs = list(dict.fromkeys(wanted))
    by_agency = await repository.designated_positions_of(session, sorted({a for a, _ in pairs}))
    found: dict[Placement, Position | None] = {}
    for agency_id, theatre_id in pairs:
        positions = by_agency[agency_id]
        in_theatre = [p for p in positions if theatre_id is not None and p.theatre_id == theatre_id]
        chosen = in_theatre or positions
        found[agency_id, theatre_id] = chosen[0] if chosen else None
    return found


async def agency_recipients_for(
    session: AsyncSession, wanted: Iterable[tuple[uuid.UUID, Position | None]], on: datetime
) -> dict[tuple[uuid.UUID, uuid.UUID | None], list[uuid.UUID]]:
    """``agency_recipients`` for several (agency, position) pairs, keyed by (agency,
    position id): the holders of every position (a vacant one's last holder) and the
    authorised users of every agency in two statements."""
    pairs = {(agency_id, position.id if position else None): position for agency_id, position in wanted}
    positions = {p.id: p.agency_id for p in pairs.values() if p is not None}
    holders = await repository.holders_of(session, positions, on.date())
    authorised = await repository.users_with_roles_of(
        session, sorted({agency_id for agency_id, _ in pairs}), AUTHORISED_ROLES
    )
    return {
        (agency_id, position_id): list(
            dict.fromkeys([*(holders[position_id] if position_id else []), *authorised[agency_id]])
        )
        for agency_id, position_id in pairs
    }


async def principal_of(session: AsyncSession, user_id: uuid.UUID) -> Principal | None:
    user = await repository.active_user(session, user_id)
    return await load_principal(session, user.login) if user is not None else None


async def active_among(session: AsyncSession, user_ids: Iterable[uuid.UUID]) -> bool:
    """Whether any of ``user_ids`` is an active account (one query, whatever their number)."""
    return await repository.any_active(session, list(dict.fromkeys(user_ids)))


async def readers_among(
    session: AsyncSession, user_ids: Iterable[uuid.UUID], record_id: uuid.UUID, now: datetime
) -> list[uuid.UUID]:
    """Those of ``user_ids`` who may read the record now, by the one sharing rule."""
    result = []
    for user_id in dict.fromkeys(user_ids):
        principal = await principal_of(session, user_id)
        if principal is not None and record_id in await readable_record_ids(
            session, principal, now, [record_id]
        ):
            result.append(user_id)
    return result


async def notify(
    session: AsyncSession,
    *,
    recipients: Iterable[uuid.UUID],
    kind: NotificationKind,
    subject_id: uuid.UUID,
    title: str,
    body: str = "",
    record_id: uuid.UUID | None = None,
    now: datetime,
) -> int:
    rows = [
        {
            "id": new_id(),
            "recipient_id": user_id,
            "kind": kind.value,
            "subject_id": subject_id,
            "record_id": record_id,
            "title": title[:300],
            "body": body[:2000],
            "created_at": now,
            "read_at": None,
        }
        for user_id in dict.fromkeys(recipients)
    ]
    await repository.insert_all(session, rows)
    return len(rows)


@dataclass(frozen=True)
class Notice:
    """One notification to several people (``notify``'s arguments but the instant)."""

    recipients: list[uuid.UUID]
    kind: NotificationKind
    subject_id: uuid.UUID
    title: str
    body: str = ""
    record_id: uuid.UUID | None = None


async def notify_each(session: AsyncSession, notices: list[Notice], *, now: datetime) -> int:
    """Several notifications, each as ``notify`` writes it, in one multi-row insert."""
    rows = [
        {
            "id": new_id(),
            "recipient_id": user_id,
            "kind": notice.kind.value,
            "subject_id": notice.subject_id,
            "record_id": notice.record_id,
            "title": notice.title[:300],
            "body": notice.body[:2000],
            "created_at": now,
            "read_at": None,
        }
        for notice in notices
        for user_id in dict.fromkeys(notice.recipients)
    ]
    await repository.insert_all(session, rows)
    return len(rows)


async def feed(
    session: AsyncSession, *, actor: Actor, filters: NotificationFilter, first: int, after: str | None
) -> NotificationPage:
    if not 1 <= first <= 100:
        raise InvalidInput("must be between 1 and 100", field="first")
    principal = actor.principal
    rows = await repository.feed(
        session,
        principal.user_id,
        unread=filters.unread,
        kind=filters.kind,
        after=Cursor.decode(after) if after else None,
        limit=first + 1,
    )
    page = rows[:first]
    visible = await readable_record_ids(
        session, principal, actor.now, {n.record_id for n in page if n.record_id is not None}
    )
    items = [
        NotificationPublic(
            id=n.id,
            kind=n.kind,
            subject_id=n.subject_id,
            record_id=n.record_id if n.record_id in visible else None,
            title=n.title,
            body=n.body,
            created_at=n.created_at,
            read_at=n.read_at,
        )
        for n in page
    ]
    cursor = Cursor(page[-1].created_at, page[-1].id).encode() if len(rows) > first and page else None
    return NotificationPage(
        items=items,
        next_cursor=cursor,
        total_count=await repository.count(
            session, principal.user_id, unread=filters.unread, kind=filters.kind
        ),
        unread_count=await repository.unread_count(session, principal.user_id),
    )


async def mark_read(session: AsyncSession, *, actor: Actor, ids: list[uuid.UUID]) -> MarkReadResult:
    """Only the recipient's own rows change; other ids are ignored, whatever they are."""
    marked = await repository.mark_read(session, actor.principal.user_id, ids, actor.now)
    if marked:
        await record_event(session, actor=actor, action="notification.read", detail=f"{marked} marked read")
    return MarkReadResult(marked=marked)


async def task_assigned(
    session: AsyncSession,
    *,
    actor: Actor,
    task_id: uuid.UUID,
    position_id: uuid.UUID | None,
    user_id: uuid.UUID | None,
) -> int:
    """Tell the new assignee (the user, or the position's holders) who may read the task."""
    position = await repository.position(session, position_id) if position_id else None
    recipients = [user_id] if user_id else []
    if position is not None:
        recipients += await position_holders(session, position, actor.now)
    recipients = [u for u in recipients if u != actor.principal.user_id]
    readers = await readers_among(session, recipients, task_id, actor.now)
    title = "A task was assigned to you"
    if position is not None and user_id is None:
        title = f"A task was assigned to your position: {position.title}"
    return await notify(
        session,
        recipients=readers,
        kind=NotificationKind.TASK_ASSIGNED,
        subject_id=task_id,
        record_id=task_id,
        title=title,
        body=f"Assigned by {actor.principal.agency_code}.",
        now=actor.now,
    )


async def access_requested(
    session: AsyncSession, *, actor: Actor, request_id: uuid.UUID, record_id: uuid.UUID
) -> int:
    """Tell the deciding agency's contact and coordinators, those of them who may read the
    record. A request for a record that does not exist tells nobody anything."""
    record = await repository.record(session, record_id)
    if record is None:
        return 0
    deciders = {record.owner_agency_id} | ({record.originator_agency_id} if record.orcon else set())
    recipients: list[uuid.UUID] = []
    for agency_id in sorted(deciders):
        position = await designated_position(session, agency_id, record.theatre_id)
        recipients += await agency_recipients(session, agency_id, position, actor.now)
    readers = await readers_among(session, recipients, record.id, actor.now)
    return await notify(
        session,
        recipients=[u for u in readers if u != actor.principal.user_id],
        kind=NotificationKind.ACCESS_REQUEST,
        subject_id=request_id,
        record_id=record.id,
        title=f"Access request from {actor.principal.agency_code} to decide",
        body="Approve with an expiring grant, or refuse.",
        now=actor.now,
    )

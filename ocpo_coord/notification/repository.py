"""Notification queries: a user's own rows, and who stands behind a position."""

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import String, cast, func, or_, update
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.db import copy
from ocpo_coord.db.queries import among, execute
from ocpo_coord.models import Notification, Position, Record, Tour, User
from ocpo_coord.models.base import table_of
from ocpo_coord.models.enums import NotificationKind, Role
from ocpo_coord.visibility.pagination import Cursor, Order

FEED_ORDER = Order(col(Notification.created_at), col(Notification.id))
AUTHORISED_ROLES = [Role.AGENCY_ADMIN.value, Role.COORDINATOR.value]


async def designated_positions(session: AsyncSession, agency_id: uuid.UUID) -> list[Position]:
    statement = (
        select(Position)
        .where(Position.agency_id == agency_id, col(Position.deconfliction_contact).is_(True))
        .order_by(col(Position.title), col(Position.id))
    )
    return list((await session.exec(statement)).all())


async def designated_positions_of(
    session: AsyncSession, agency_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[Position]]:
    """``designated_positions`` of several agencies in one statement."""
    found: dict[uuid.UUID, list[Position]] = {a: [] for a in agency_ids}
    if agency_ids:
        statement = (
            select(Position)
            .where(
                among(session, col(Position.agency_id), agency_ids),
                col(Position.deconfliction_contact).is_(True),
            )
            .order_by(col(Position.title), col(Position.id))
        )
        for position in (await session.exec(statement)).all():
            found[position.agency_id].append(position)
    return found


def holds_on(on: date) -> list[object]:
    """A tour that covers the day ``on``."""
    return [col(Tour.start_date) <= on, or_(col(Tour.end_date).is_(None), col(Tour.end_date) >= on)]


async def current_holders(session: AsyncSession, position_id: uuid.UUID, on: date) -> list[uuid.UUID]:
    statement = (
        select(Tour.user_id)
        .join(User, col(User.id) == col(Tour.user_id))
        .where(Tour.position_id == position_id, col(User.active).is_(True), *holds_on(on))  # type: ignore[arg-type]
    )
    return sorted(set((await session.exec(statement)).all()))


async def holders_of(
    session: AsyncSession, positions: dict[uuid.UUID, uuid.UUID], on: date
) -> dict[uuid.UUID, list[uuid.UUID]]:
    """Who stands behind each position (id -> its agency) on the day ``on``: its
    current holders (``current_holders``), or, while it is vacant, its last holder if
    still an active user of the agency (``last_holder``); every position's tours with
    active users in one statement, however many positions are vacant."""
    found: dict[uuid.UUID, list[uuid.UUID]] = {p: [] for p in positions}
    if not positions:
        return found
    statement = (
        sa_select(
            col(Tour.position_id),
            col(Tour.user_id),
            col(Tour.start_date),
            col(Tour.end_date),
            col(User.agency_id),
        )
        .join(User, col(User.id) == col(Tour.user_id))
        .where(among(session, col(Tour.position_id), sorted(positions)), col(User.active).is_(True))
        .order_by(col(Tour.start_date).desc())
    )
    current: dict[uuid.UUID, set[uuid.UUID]] = {p: set() for p in positions}
    last: dict[uuid.UUID, uuid.UUID] = {}
    for position_id, user_id, start, end, agency_id in (await execute(session, statement)).all():
        if start <= on and (end is None or end >= on):
            current[position_id].add(user_id)
        if agency_id == positions[position_id]:
            last.setdefault(position_id, user_id)
    for position_id in positions:
        if current[position_id]:
            found[position_id] = sorted(current[position_id])
        elif position_id in last:
            found[position_id] = [last[position_id]]
    return found


async def last_holder(
    session: AsyncSession, position_id: uuid.UUID, agency_id: uuid.UUID
) -> uuid.UUID | None:
    """The most recent holder, if still an active user of the agency."""
    statement = (
        select(Tour.user_id)
        .join(User, col(User.id) == col(Tour.user_id))
        .where(Tour.position_id == position_id, col(User.active).is_(True), User.agency_id == agency_id)
        .order_by(col(Tour.start_date).desc())
        .limit(1)
    )
    return (await session.exec(statement)).first()


def _holds_any(roles: list[str]) -> Any:
    """A coarse test, in SQL, that the account's roles name one of ``roles``: the JSON
    list's text holds the quoted name. Roles are a JSON list, tested here rather than
    with each database's JSON operators; the caller still checks each candidate's list
    exactly. Without it a big agency sent thousands of accounts for a few dozen."""
    text = cast(col(User.roles), String)
    return or_(*(text.contains(f'"{role}"', autoescape=True) for role in roles))


async def users_with_roles(session: AsyncSession, agency_id: uuid.UUID, roles: list[str]) -> list[uuid.UUID]:
    statement = select(User.id, User.roles).where(
        User.agency_id == agency_id, col(User.active).is_(True), _holds_any(roles)
    )
    wanted = set(roles)
    return [user_id for user_id, held in (await session.exec(statement)).all() if wanted & set(held)]


async def users_with_roles_of(
    session: AsyncSession, agency_ids: list[uuid.UUID], roles: list[str]
) -> dict[uuid.UUID, list[uuid.UUID]]:
    """``users_with_roles`` of several agencies in one statement."""
    found: dict[uuid.UUID, list[uuid.UUID]] = {a: [] for a in agency_ids}
    if agency_ids:
        statement = select(User.agency_id, User.id, User.roles).where(
            among(session, col(User.agency_id), agency_ids), col(User.active).is_(True), _holds_any(roles)
        )
        wanted = set(roles)
        for agency_id, user_id, held in (await session.exec(statement)).all():
            if agency_id is not None and wanted & set(held):
                found[agency_id].append(user_id)
    return found


async def active_user(session: AsyncSession, user_id: uuid.UUID) -> User | None:
    user = await session.get(User, user_id)
    return user if user is not None and user.active else None


async def any_active(session: AsyncSession, user_ids: list[uuid.UUID]) -> bool:
    if not user_ids:
        return False
    statement = (
        select(User.id).where(among(session, col(User.id), user_ids), col(User.active).is_(True)).limit(1)
    )
    return (await session.exec(statement)).first() is not None


async def insert_all(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """One multi-row insert: a hit seen by many agencies tells hundreds of people, and
    building an ORM object per notification cost more than the rest of the write."""
    await copy.insert_all(session, table_of(Notification), rows)


def _filtered(recipient_id: uuid.UUID, unread: bool | None, kind: NotificationKind | None) -> Any:
    statement = select(Notification).where(Notification.recipient_id == recipient_id)
    if unread is not None:
        statement = statement.where(
            col(Notification.read_at).is_(None) if unread else col(Notification.read_at).is_not(None)
        )
    if kind is not None:
        statement = statement.where(Notification.kind == kind)
    return statement


async def count(
    session: AsyncSession, recipient_id: uuid.UUID, *, unread: bool | None, kind: NotificationKind | None
) -> int:
    inner = _filtered(recipient_id, unread, kind).with_only_columns(col(Notification.id)).subquery()
    return int((await session.exec(select(func.count()).select_from(inner))).one())


async def feed(
    session: AsyncSession,
    recipient_id: uuid.UUID,
    *,
    unread: bool | None,
    kind: NotificationKind | None,
    after: Cursor | None,
    limit: int,
) -> list[Notification]:
    statement = _filtered(recipient_id, unread, kind)
    if after is not None:
        statement = statement.where(FEED_ORDER.beyond(after))
    statement = statement.order_by(*FEED_ORDER.by())
    return list((await session.exec(statement.limit(limit))).all())


async def unread_count(session: AsyncSession, recipient_id: uuid.UUID) -> int:
    statement = select(func.count()).where(
        Notification.recipient_id == recipient_id, col(Notification.read_at).is_(None)
    )
    return int((await session.exec(statement)).one())


async def mark_read(
    session: AsyncSession, recipient_id: uuid.UUID, ids: list[uuid.UUID], now: datetime
) -> int:
    statement = update(Notification).where(
        col(Notification.recipient_id) == recipient_id, col(Notification.read_at).is_(None)
    )
    if ids:
        statement = statement.where(among(session, col(Notification.id), ids))
    result = await session.exec(statement.values(read_at=now))
    return int(result.rowcount or 0)


async def notified(
    session: AsyncSession, recipient_id: uuid.UUID, subject_ids: list[uuid.UUID]
) -> set[uuid.UUID]:
    if not subject_ids:
        return set()
    statement = select(Notification.subject_id).where(
        Notification.recipient_id == recipient_id, among(session, col(Notification.subject_id), subject_ids)
    )
    return set((await session.exec(statement)).all())


async def position(session: AsyncSession, position_id: uuid.UUID) -> Position | None:
    return await session.get(Position, position_id)


async def record(session: AsyncSession, record_id: uuid.UUID) -> Record | None:
    return await session.get(Record, record_id)

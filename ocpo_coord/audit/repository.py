"""Audit queries for auditors: an entry is visible only as far as what it describes is.

An entry about a record is shown to those who may read that record, so the log never
tells anyone more than the record itself would. An entry about no record (sharing
administration, for instance) is shown to the acting agency's auditors.
"""

import uuid
from datetime import datetime

from sqlalchemy import and_, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.auth.principal import Principal
from ocpo_coord.models import AuditEvent, Record, User
from ocpo_coord.sharing.visibility import readable


async def visible_events(
    session: AsyncSession,
    principal: Principal,
    now: datetime,
    *,
    record_id: uuid.UUID | None,
    action: str | None,
    actor_login: str | None,
    since: datetime | None,
    before_seq: int | None,
    limit: int,
) -> list[AuditEvent]:
    statement = (
        select(AuditEvent)
        .outerjoin(Record, col(Record.id) == col(AuditEvent.record_id))
        .where(
            or_(
                and_(
                    col(AuditEvent.record_id).is_not(None),
                    col(Record.id).is_not(None),
                    readable(principal, now=now),
                ),
                and_(col(AuditEvent.record_id).is_(None), col(AuditEvent.agency_id) == principal.agency_id),
            )
        )
    )
    if record_id is not None:
        statement = statement.where(col(AuditEvent.record_id) == record_id)
    if action is not None:
        statement = statement.where(col(AuditEvent.action) == action)
    if actor_login is not None:
        statement = statement.where(
            col(AuditEvent.actor_id).in_(select(User.id).where(col(User.login) == actor_login))
        )
    if since is not None:
        statement = statement.where(col(AuditEvent.at) >= since)
    if before_seq is not None:
        statement = statement.where(col(AuditEvent.seq) < before_seq)
    statement = statement.order_by(col(AuditEvent.seq).desc()).limit(limit)
    return list((await session.exec(statement)).all())

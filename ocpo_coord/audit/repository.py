"""Audit queries for auditors: an entry is visible only as far as what it describes is.

An entry about a record is shown to those who may read that record, so the log never
tells anyone more than the record itself would. An entry about several records (a
list page, nested fields) is shown to those who may read at least one of them, and
names only those (``query.py``). An entry about no record (sharing administration,
for instance) is shown to the acting agency's auditors.
"""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, TableValuedAlias, Uuid, and_, cast, exists, func, or_, type_coerce
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from ocpo_coord.auth.principal import Principal
from ocpo_coord.models import AuditEvent, Record, User
from ocpo_coord.visibility.readable import names_readable, readable


def _named(dialect: str) -> tuple[TableValuedAlias, ColumnElement[uuid.UUID]]:
    """The ids an entry's ``record_ids`` names, as rows, and each id as a UUID column.

    The JSON holds UUID text with hyphens; SQLite keeps ``record.id`` as 32 hex digits.
    """
    if dialect == "postgresql":
        named = func.json_array_elements_text(col(AuditEvent.record_ids)).table_valued("value")
        return named, cast(named.c.value, Uuid)
    named = func.json_each(col(AuditEvent.record_ids)).table_valued("value")
    return named, type_coerce(func.replace(named.c.value, "-", ""), Uuid)


def _visible_statement(
    session: AsyncSession,
    principal: Principal,
    now: datetime,
    *,
    record_id: uuid.UUID | None,
    action: str | None,
    actor_login: str | None,
    since: datetime | None,
) -> SelectOfScalar[AuditEvent]:
    named, named_id = _named(session.get_bind().dialect.name)

    def lists_readable(only: uuid.UUID | None = None) -> ColumnElement[bool]:
        """Some id the entry names is readable (and is ``only``, when given)."""
        match = select(Record.id).select_from(named).join(Record, col(Record.id) == named_id)
        if only is not None:
            match = match.where(named_id == only)
        return exists(match.where(readable(principal, now=now)))

    statement = select(AuditEvent).where(
        or_(
            exists(
                select(Record.id).where(
                    col(Record.id) == col(AuditEvent.record_id), readable(principal, now=now)
                )
            ),
            # Shown only when the auditor may read at least one of the ids. An entry
            # none of whose ids the auditor may read is left out altogether: shown
            # empty, it would still say that this person read protected records the
            # auditor may not know of.
            and_(col(AuditEvent.record_ids).is_not(None), lists_readable()),
            and_(
                col(AuditEvent.record_id).is_(None),
                col(AuditEvent.record_ids).is_(None),
                col(AuditEvent.agency_id) == principal.agency_id,
            ),
        )
    )
    if record_id is not None:
        # "Who read this record" finds list and nested reads too: the entries naming it,
        # when the auditor may read it (another readable id must not answer for it).
        # A record the auditor may not read selects nothing, as a missing one would.
        statement = statement.where(
            names_readable(principal, record_id, now=now),
            or_(
                col(AuditEvent.record_id) == record_id,
                and_(col(AuditEvent.record_ids).is_not(None), lists_readable(record_id)),
            ),
        )
    if action is not None:
        statement = statement.where(col(AuditEvent.action) == action)
    if actor_login is not None:
        statement = statement.where(
            col(AuditEvent.actor_id).in_(select(User.id).where(col(User.login) == actor_login))
        )
    if since is not None:
        statement = statement.where(col(AuditEvent.at) >= since)
    return statement


async def visible_events(
    session: AsyncSession,
    principal: Principal,
    now: datetime,
    *,
    before_seq: int | None,
    limit: int,
    **filters: Any,
) -> list[AuditEvent]:
    """Newest first, before ``before_seq``; ``filters``: record_id, action, actor_login, since."""
    statement = _visible_statement(session, principal, now, **filters)
    if before_seq is not None:
        statement = statement.where(col(AuditEvent.seq) < before_seq)
    statement = statement.order_by(col(AuditEvent.seq).desc()).limit(limit)
    return list((await session.exec(statement)).all())


async def count_visible(
    session: AsyncSession, principal: Principal, now: datetime, *, cap: int, **filters: Any
) -> tuple[int, bool]:
    """How many entries match, counted up to ``cap``."""
    statement = _visible_statement(session, principal, now, **filters)
    limited = statement.with_only_columns(col(AuditEvent.seq)).limit(cap + 1).subquery()
    value = int((await session.exec(select(func.count()).select_from(limited))).one())
    return min(value, cap), value > cap


async def visible_entry(
    session: AsyncSession, principal: Principal, now: datetime, entry_id: uuid.UUID
) -> AuditEvent | None:
    """The entry ``entry_id`` when ``principal`` may read it: None whether it is missing
    or unreadable."""
    statement = _visible_statement(
        session, principal, now, record_id=None, action=None, actor_login=None, since=None
    ).where(col(AuditEvent.id) == entry_id)
    return (await session.exec(statement)).first()

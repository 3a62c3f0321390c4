"""Writes audit entries in the caller's transaction, chained to the previous one."""

import uuid
from typing import Any

from sqlalchemy import Row, text
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.audit.canonical import GENESIS_HASH, chain_hash, jsonable
from ocpo_coord.context import Actor
from ocpo_coord.models import AuditEvent

# Any constant works; it only has to be the same for every writer of the chain.
_CHAIN_LOCK_KEY = 0x0C90A0D1


# The columns an entry's hash always covers: everything but the chain columns, the seq
# and ``record_ids``. Appends (``hashed_fields``) and the verifier's fast walk
# (``audit/verify.py``) both read this one list.
HASHED_COLUMNS = (
    "id",
    "at",
    "actor_id",
    "actor_name",
    "agency_id",
    "request_id",
    "action",
    "record_kind",
    "record_id",
    "before",
    "after",
    "detail",
)


def hashed_fields(event: "AuditEvent | Row[Any]") -> dict[str, Any]:
    """The fields the hash covers: ``HASHED_COLUMNS``, and ``record_ids`` (the records
    an entry about several records names) when set; entries without it hash as they
    did before the column existed.
    """
    fields: dict[str, Any] = {name: getattr(event, name) for name in HASHED_COLUMNS}
    if event.record_ids is not None:
        fields["record_ids"] = event.record_ids
    return fields


async def serialize_writes(session: AsyncSession) -> None:
    """Take the audit chain's lock (PostgreSQL; SQLite serialises writers by itself).

    Every write appends to the one chain, so writers queue here anyway. Taking the lock
    before any row lock — at the start of a writing request — keeps one lock order for
    everyone, so two writers can never wait on each other (deadlock). It is held until
    the transaction ends and taking it twice is harmless.
    """
    if session.get_bind().dialect.name == "postgresql":
        await session.exec(text("SELECT pg_advisory_xact_lock(:k)").bindparams(k=_CHAIN_LOCK_KEY))  # type: ignore[call-overload]


async def _last_hash(session: AsyncSession) -> str:
    await serialize_writes(session)
    last = (await session.exec(select(AuditEvent.hash).order_by(col(AuditEvent.seq).desc()).limit(1))).first()
    return last or GENESIS_HASH


async def record_event(
    session: AsyncSession,
    *,
    actor: Actor,
    action: str,
    record_kind: str | None = None,
    record_id: uuid.UUID | None = None,
    record_ids: list[uuid.UUID] | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    detail: str = "",
) -> AuditEvent:
    principal = actor.principal
    event = AuditEvent(
        id=uuid.uuid4(),
        at=actor.now,
        actor_id=principal.user_id,
        actor_name=f"{principal.display_name} ({principal.login})",
        agency_id=principal.agency_id,
        request_id=actor.request_id,
        action=action,
        record_kind=record_kind,
        record_id=record_id,
        record_ids=jsonable(record_ids) if record_ids is not None else None,
        before=jsonable(before) if before is not None else None,
        after=jsonable(after) if after is not None else None,
        detail=detail[:1000],
        prev_hash="",
        hash="",
    )
    event.prev_hash = await _last_hash(session)
    event.hash = chain_hash(event.prev_hash, hashed_fields(event))
    session.add(event)
    await session.flush()
    return event


async def record_refusal(
    session: AsyncSession, *, actor: Actor, record_id: uuid.UUID | None, detail: str
) -> AuditEvent:
    """A refused read or write. The entry names the id asked for and nothing about it:
    whether it exists is for the log's readers who may read that record."""
    return await record_event(
        session, actor=actor, action="access.refused", record_id=record_id, detail=detail
    )

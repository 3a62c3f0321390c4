"""Writes audit entries in the caller's transaction, chained to the previous one."""

import functools
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy import BigInteger, LargeBinary, Row, bindparam, func, insert, text
from sqlalchemy.sql.dml import ReturningInsert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.audit.canonical import GENESIS_HASH, canonical_bytes, chain_hash, jsonable
from ocpo_coord.context import Actor
from ocpo_coord.db import execute
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
    """The chain's head on SQLite, whose transactions here take the write lock when
    they begin (``BEGIN IMMEDIATE``), so no other append can come between."""
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
    if session.get_bind().dialect.name == "postgresql":
        if session.new or session.dirty or session.deleted:
            # The flush below takes row locks: the chain's lock must come first, for
            # writers that did not take it when they started (command-line jobs).
            await serialize_writes(session)
        # What the request changed goes in before its entry, as on the ORM path: a Core
        # insert does not flush the session by itself.
        await session.flush()
        values = {name: getattr(event, name) for name in _APPENDED}
        values["body"] = canonical_bytes(hashed_fields(event))
        values["chain_lock"] = _CHAIN_LOCK_KEY
        event.prev_hash, event.hash = (await execute(session, _chained_insert(), values)).one()
        return event
    event.prev_hash = await _last_hash(session)
    event.hash = chain_hash(event.prev_hash, hashed_fields(event))
    session.add(event)
    await session.flush()
    return event


# What an append writes besides the chain columns: the hashed columns and record_ids.
_APPENDED = (*HASHED_COLUMNS, "record_ids")


@functools.cache
def _chained_insert() -> ReturningInsert[tuple[str, str]]:
    """PostgreSQL: the chain's lock, and the entry chained to the last one, in one
    statement (one round trip: a page's read entry costs no more than that).

    ``audit_chain_head`` (a migration's function) takes the chain's lock — held until
    the transaction ends, as ``serialize_writes`` holds it — and then reads the head
    with a snapshot of its own, taken after the lock was granted, so it sees the entry
    of whoever held the lock before. The hash is ``chain_hash``'s: SHA-256 of the
    previous hash's text followed by the entry's canonical bytes, which Python makes
    (``body``) and the database only prefixes.
    """
    table = AuditEvent.__table__  # type: ignore[attr-defined]
    head = func.audit_chain_head(bindparam("chain_lock", type_=BigInteger()))
    last = sa.select(func.coalesce(head, GENESIS_HASH).label("hash")).subquery("last")
    prefixed = func.convert_to(last.c.hash, "UTF8").op("||")(bindparam("body", type_=LargeBinary()))
    digest = func.encode(func.sha256(prefixed), "hex")
    entry = [bindparam(name, type_=table.c[name].type) for name in _APPENDED]
    rows = sa.select(*entry, last.c.hash, digest).select_from(last)
    return (
        insert(table)
        .from_select([*_APPENDED, "prev_hash", "hash"], rows)
        .returning(table.c.prev_hash, table.c.hash)
    )


async def record_refusal(
    session: AsyncSession, *, actor: Actor, record_id: uuid.UUID | None, detail: str
) -> AuditEvent:
    """A refused read or write. The entry names the id asked for and nothing about it:
    whether it exists is for the log's readers who may read that record."""
    return await record_event(
        session, actor=actor, action="access.refused", record_id=record_id, detail=detail
    )

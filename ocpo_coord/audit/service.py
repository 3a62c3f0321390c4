"""Writes audit entries in the caller's transaction: an insert, and nothing else.

No lock and no read of the log: an entry's place in the log is given after commit
by the sequencer (``sequencer.py``), so appends never wait for one another.
"""

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Row
from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.audit.canonical import canonical_bytes, jsonable
from ocpo_coord.audit.merkle import leaf_hash
from ocpo_coord.context import Actor
from ocpo_coord.db import copy
from ocpo_coord.models import AuditEvent
from ocpo_coord.models.base import table_of

# The columns an entry's bytes always hold: everything but the hash columns, the seq
# and ``record_ids``. Appends, the sequencer (``hashed_fields``) and the verifier's fast
# walk (``audit/verify.py``) all read this one list.
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


def hashed_fields(event: "AuditEvent | Row[Any] | Mapping[str, Any]") -> dict[str, Any]:
    """The fields the hash covers: ``HASHED_COLUMNS``, and ``record_ids`` (the records
    an entry about several records names) when set; entries without it hash as they
    did before the column existed. ``event`` is a row, an entry, or an entry's columns
    by name (one not yet written).
    """
    values = event._mapping if isinstance(event, Row) else event
    if isinstance(values, Mapping):
        fields = {name: values[name] for name in HASHED_COLUMNS}
        record_ids = values.get("record_ids")
    else:
        fields = {name: getattr(values, name) for name in HASHED_COLUMNS}
        record_ids = values.record_ids
    if record_ids is not None:
        fields["record_ids"] = record_ids
    return fields


def _fields(
    actor: Actor,
    *,
    action: str,
    record_kind: str | None = None,
    record_id: uuid.UUID | None = None,
    record_ids: list[uuid.UUID] | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    detail: str = "",
) -> dict[str, Any]:
    """An entry's columns (all but ``seq``, which the database gives)."""
    principal = actor.principal
    fields: dict[str, Any] = {
        "id": uuid.uuid4(),
        "at": actor.now,
        "actor_id": principal.user_id,
        "actor_name": f"{principal.display_name} ({principal.login})",
        "agency_id": principal.agency_id,
        "request_id": actor.request_id,
        "action": action,
        # Plain text, as the row will hold it: an enum member hashes the same but takes
        # the slower of the canonical serialisations (``canonical_bytes``).
        "record_kind": str(record_kind) if record_kind is not None else None,
        "record_id": record_id,
        "record_ids": jsonable(record_ids) if record_ids is not None else None,
        "before": jsonable(before) if before is not None else None,
        "after": jsonable(after) if after is not None else None,
        "detail": detail[:1000],
        "prev_hash": "",
    }
    # The leaf hash the sequencer will give the entry: shown to auditors as the entry's
    # hash (``hash`` is unique, so the entry's own id keeps it unique).
    fields["hash"] = leaf_hash(canonical_bytes(hashed_fields(fields))).hex()
    return fields


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
    event = AuditEvent(
        **_fields(
            actor,
            action=action,
            record_kind=record_kind,
            record_id=record_id,
            record_ids=record_ids,
            before=before,
            after=after,
            detail=detail,
        )
    )
    session.add(event)
    await session.flush()
    return event


async def record_events(session: AsyncSession, *, actor: Actor, entries: list[dict[str, Any]]) -> int:
    """Several entries by one actor, each as ``record_event`` would write it (``entries``
    hold its keyword arguments), in one multi-row insert of plain rows, in the order
    given: a write that raises many hits or imports many records appends its entries in
    one statement, not one round trip (nor one ORM object) each. The trigger queues each
    row for the sequencer as it does any entry. How many were written."""
    rows = [_fields(actor, **entry) for entry in entries]
    await copy.insert_all(session, table_of(AuditEvent), rows)
    return len(rows)


async def record_refusal(
    session: AsyncSession, *, actor: Actor, record_id: uuid.UUID | None, detail: str
) -> AuditEvent:
    """A refused read or write. The entry names the id asked for and nothing about it:
    whether it exists is for the log's readers who may read that record."""
    return await record_event(
        session, actor=actor, action="access.refused", record_id=record_id, detail=detail
    )

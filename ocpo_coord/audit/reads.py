"""Reads of protected records in lists and nested fields, one audit entry per kind.

A single-record read is audited at once (``records.service.audited_read``). A list
page or a nested field returns many records, and one hash-chain append per record
would cost a page as much as fifty writes; so the records a request returns are
noted here as it runs, and ``flush_reads`` writes one entry per (way, kind) naming
every protected id, in the request's own transaction just before it commits. If the
request fails, the notes go with its session and nothing is half-written.
"""

import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TypeVar

from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.audit.service import record_event
from ocpo_coord.context import Actor
from ocpo_coord.models import Record
from ocpo_coord.models.enums import Classification, Tlp

M = TypeVar("M")
T = TypeVar("T")

_KEY = "ocpo.audit.reads"


class ReadWay(StrEnum):
    """How a response came to carry the records: the suffix of the entry's action."""

    LIST = "list"
    NESTED = "read_nested"
    HANDOVER_LINE = "read_handover_line"


_DETAIL = {
    ReadWay.LIST: "returned in a list page",
    ReadWay.NESTED: "returned in nested fields",
    ReadWay.HANDOVER_LINE: "named by handover lines",
}


def is_protected(classification: int, tlp: str) -> bool:
    """Above UNCLASSIFIED or other than TLP:CLEAR: every read of it is audited."""
    return classification != Classification.UNCLASSIFIED or tlp != Tlp.CLEAR


@dataclass(slots=True)
class _Reads:
    actor: Actor
    # Insertion-ordered set: the ids in the order the response first carried them.
    ids: dict[uuid.UUID, None] = field(default_factory=dict)


def note_reads(session: AsyncSession, actor: Actor, way: ReadWay, records: Iterable[Record]) -> None:
    """Remember the protected ones among ``records``, returned to ``actor``; no query."""
    pending: dict[tuple[str, str, ReadWay], _Reads] = session.info.setdefault(_KEY, {})
    for record in records:
        if is_protected(record.classification, record.tlp):
            key = (actor.request_id, str(record.kind), way)
            pending.setdefault(key, _Reads(actor)).ids.setdefault(record.id, None)


def listed(
    actor: Actor,
    assemble: Callable[[AsyncSession, list[tuple[M, Record]]], Awaitable[list[T]]],
    way: ReadWay = ReadWay.LIST,
) -> Callable[[AsyncSession, list[tuple[M, Record]]], Awaitable[list[T]]]:
    """A page assembler that also notes the page's records as returned to ``actor``."""

    async def assemble_and_note(session: AsyncSession, rows: list[tuple[M, Record]]) -> list[T]:
        items = await assemble(session, rows)
        note_reads(session, actor, way, (record for _, record in rows))
        return items

    return assemble_and_note


def discard_reads(session: AsyncSession) -> None:
    session.info.pop(_KEY, None)


async def flush_reads(session: AsyncSession) -> int:
    """Write the noted reads, one chained entry per (actor, way, kind); how many."""
    pending: dict[tuple[str, str, ReadWay], _Reads] = session.info.pop(_KEY, {})
    for (_, kind, way), reads in pending.items():
        # The detail says how, never how many: a count would tell an auditor who may
        # read only some of the ids that others exist.
        await record_event(
            session,
            actor=reads.actor,
            action=f"{kind}.{way.value}",
            record_kind=kind,
            record_ids=list(reads.ids),
            detail=_DETAIL[way],
        )
    return len(pending)

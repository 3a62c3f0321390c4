"""The record kinds, each declared once by its domain: how its readable rows are found,
how they become public models, and how it hangs off a case.

Whatever serves every kind (the GraphQL ``node`` lookup, the per-request loaders, nested
connections) finds a kind here instead of importing its domain, so adding a kind is a
declaration in that kind's own service module.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy import SQLColumnExpression
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.context import Actor
from ocpo_coord.exceptions import NotFound
from ocpo_coord.models import Record
from ocpo_coord.models.enums import RecordKind
from ocpo_coord.records.schemas import MarkingsPublic
from ocpo_coord.records.service import audited_read
from ocpo_coord.visibility.nested import ChildLink
from ocpo_coord.visibility.pagination import Assembler
from ocpo_coord.visibility.repository import RecordRepository, RecordTable


class PublicRecord(Protocol):
    @property
    def id(self) -> uuid.UUID: ...

    @property
    def markings(self) -> MarkingsPublic: ...


M = TypeVar("M", bound=RecordTable)
P = TypeVar("P", bound=PublicRecord)


@dataclass(frozen=True, slots=True)
class RecordKindSpec(Generic[M, P]):
    kind: RecordKind
    # How a refusal names a record of this kind ("intelligence item not found").
    label: str
    repository: Callable[[AsyncSession, Actor], RecordRepository[M]]
    assembler: Callable[[Actor], Assembler[M, P]]
    # How a record of this kind hangs off a case in nested connections: by its own
    # parent, unless a link table joins the two.
    parent: SQLColumnExpression[Any] = field(default_factory=lambda: col(Record.parent_id))
    join: ChildLink | None = None

    async def get(self, session: AsyncSession, actor: Actor, record_id: uuid.UUID) -> P:
        """One record the actor may read; a record they may not read is not found."""
        row = await self.repository(session, actor).get(record_id)
        if row is None:
            raise NotFound(self.label)
        return (await self.assembler(actor)(session, [row]))[0]

    async def read(self, session: AsyncSession, actor: Actor, record_id: uuid.UUID) -> P:
        """A read by a person: audited when the record is above UNCLASSIFIED or TLP:CLEAR."""
        public = await self.get(session, actor, record_id)
        return await audited_read(session, actor=actor, kind=self.kind, public=public)


_KINDS: dict[RecordKind, RecordKindSpec[Any, Any]] = {}


def declare(spec: RecordKindSpec[M, P]) -> RecordKindSpec[M, P]:
    if spec.kind in _KINDS and _KINDS[spec.kind] is not spec:
        raise RuntimeError(f"record kind declared twice: {spec.kind.value}")
    _KINDS[spec.kind] = spec
    return spec


def kind_spec(kind: RecordKind) -> RecordKindSpec[Any, Any]:
    """The declaration of ``kind``; a kind no domain declares is not found."""
    spec = _KINDS.get(kind)
    if spec is None:
        raise NotFound("record")
    return spec

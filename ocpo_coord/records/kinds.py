"""The record kinds, each declared once by its domain: how its readable rows are found,
how they become public models, and how it hangs off a case; with what every kind does
alike on top of that: one record, a page, an edit.

Whatever serves every kind (the GraphQL ``node`` lookup, the per-request loaders, nested
connections, the REST and GraphQL fields) finds a kind here instead of importing its
domain, so adding a kind is a declaration in that kind's own service module.
"""

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy import Select, SQLColumnExpression
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.audit.reads import listed
from ocpo_coord.audit.service import record_event
from ocpo_coord.config import get_settings
from ocpo_coord.context import Actor
from ocpo_coord.exceptions import NotFound
from ocpo_coord.models import Record
from ocpo_coord.models.enums import RecordKind
from ocpo_coord.records.schemas import MarkingsInput
from ocpo_coord.records.service import PublicRecord, audited_read, check_version, set_markings, touch
from ocpo_coord.visibility.nested import ChildLink, children_statement
from ocpo_coord.visibility.pages import assembled_page
from ocpo_coord.visibility.pagination import Assembler, Page
from ocpo_coord.visibility.policy import enforce, may_edit
from ocpo_coord.visibility.repository import RecordRepository, RecordTable


class PublicModel(PublicRecord, Protocol):
    def model_dump(self, *, mode: str) -> dict[str, Any]: ...


class Edit(Protocol):
    """What every kind's update carries: the version edited, and new markings."""

    @property
    def expected_version(self) -> int | None: ...

    @property
    def markings(self) -> MarkingsInput | None: ...


M = TypeVar("M", bound=RecordTable)
P = TypeVar("P", bound=PublicModel)


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

    async def created(self, session: AsyncSession, actor: Actor, record_id: uuid.UUID) -> P:
        """A new record as it reads once flushed, with its entry in the log."""
        await session.flush()
        public = await self.get(session, actor, record_id)
        await record_event(
            session,
            actor=actor,
            action=f"{self.kind.value}.create",
            record_kind=self.kind,
            record_id=record_id,
            after=public.model_dump(mode="json"),
        )
        return public

    async def page(
        self,
        session: AsyncSession,
        actor: Actor,
        statement: Select[*tuple[Any, ...]],
        *,
        first: int,
        after: str | None,
        filtered: bool,
        count: bool = True,
    ) -> Page[P]:
        """A page of ``statement`` (this kind's readable rows, narrowed or not), each
        record on it audited as listed."""
        settings = get_settings()
        return await assembled_page(
            session,
            statement,
            first=first,
            after=after,
            max_page_size=settings.max_page_size,
            count_cap=settings.count_cap,
            assemble=listed(actor, self.assembler(actor)),
            filtered=filtered,
            count=count,
            reader=actor.principal,
            now=actor.now,
            kind=self.kind,
        )

    async def children(
        self, session: AsyncSession, actor: Actor, case_id: uuid.UUID, *, first: int, after: str | None
    ) -> Page[P]:
        """A page of this kind's records that hang off the case ``case_id``."""
        repository = self.repository(session, actor)
        statement = children_statement(repository, join=self.join).where(self.parent == case_id)
        return await self.page(session, actor, statement, first=first, after=after, filtered=True)

    async def update(
        self,
        session: AsyncSession,
        actor: Actor,
        record_id: uuid.UUID,
        data: Edit,
        apply: Callable[[M, Record], Awaitable[None]],
        *,
        settle: Callable[[M], Awaitable[None]] | None = None,
    ) -> tuple[M, Record, P]:
        """An edit as every kind makes it: the row locked, the editor allowed, the version
        the one edited; ``apply`` writes what the kind's fields change, then the markings,
        and ``settle`` checks what must hold once flushed; the entry has the record
        before and after. Returns the row, its record row, and the record as it now reads."""
        row = await self.repository(session, actor).get_for_update(record_id)
        if row is None:
            raise NotFound(self.label)
        item, record = row
        enforce(may_edit(actor.principal, record))
        check_version(record, data.expected_version)
        before = (await self.assembler(actor)(session, [row]))[0].model_dump(mode="json")
        await apply(item, record)
        if data.markings is not None:
            await set_markings(session, actor=actor, record=record, markings=data.markings)
        touch(record, actor)
        await session.flush()
        if settle is not None:
            await settle(item)
        updated = await self.get(session, actor, item.id)
        await record_event(
            session,
            actor=actor,
            action=f"{self.kind.value}.update",
            record_kind=self.kind,
            record_id=item.id,
            before=before,
            after=updated.model_dump(mode="json"),
        )
        return item, record, updated


_KINDS: dict[RecordKind, RecordKindSpec[Any, Any]] = {}


def declare(spec: RecordKindSpec[M, P]) -> RecordKindSpec[M, P]:
    if spec.kind in _KINDS and _KINDS[spec.kind] is not spec:
        raise RuntimeError(f"record kind declared twice: {spec.kind.value}")
    _KINDS[spec.kind] = spec
    return spec


def kind_spec(kind: RecordKind) -> RecordKindSpec[Any, Any]:
    """The declaration of ``kind``. Every kind is declared once its service is imported;
    one that is not is a fault of the program, never an answer to a client."""
    spec = _KINDS.get(kind)
    if spec is None:
        raise RuntimeError(f"record kind {kind.value} is not declared: its service was never imported")
    return spec


def undeclared() -> list[RecordKind]:
    """The record kinds no service has declared (none, once the app is assembled)."""
    return [kind for kind in RecordKind if kind not in _KINDS]

"""Per-request dataloaders: nested fields cost a fixed number of queries per page.

Each loader is built on first use and kept for the request. Records are loaded by kind,
through the kind's declaration (``records.kinds``), so no domain is named here; any other
loader is named by a key that its own domain defines.
"""

import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Generic, TypeVar

from sqlmodel.ext.asyncio.session import AsyncSession
from strawberry.dataloader import DataLoader

from ocpo_coord.audit.reads import ReadWay, note_reads
from ocpo_coord.context import Actor
from ocpo_coord.exceptions import Unauthenticated
from ocpo_coord.gql.nested import ChildKind, NestedPages
from ocpo_coord.models import Record
from ocpo_coord.models.enums import RecordKind
from ocpo_coord.records.kinds import kind_spec

T = TypeVar("T")


class LoaderKey(Generic[T]):
    """A loader a domain defines: how to build it for one request."""

    def __init__(self, build: Callable[["Loaders"], T]) -> None:
        self.build = build


class Loaders:
    def __init__(self, session: AsyncSession, actor: Actor | None) -> None:
        self.session = session
        self._actor = actor
        self._built: dict[object, Any] = {}

    @property
    def actor(self) -> Actor:
        if self._actor is None:
            raise Unauthenticated("authentication required")
        return self._actor

    def get(self, key: LoaderKey[T]) -> T:
        if key not in self._built:
            self._built[key] = key.build(self)
        loader: T = self._built[key]
        return loader

    def records(self, kind: RecordKind) -> DataLoader[uuid.UUID, Any]:
        """Records of ``kind`` by id, as public models; None for one the actor may not read."""
        key = ("records", kind)
        if key not in self._built:
            self._built[key] = DataLoader(lambda ids: self._load_records(kind, ids))
        loader: DataLoader[uuid.UUID, Any] = self._built[key]
        return loader

    def children(self, kind: RecordKind) -> NestedPages:
        """Pages of a case's records of ``kind``."""
        key = ("children", kind)
        if key not in self._built:
            self._built[key] = NestedPages(self.session, lambda: self.actor, lambda: self._child_kind(kind))
        pages: NestedPages = self._built[key]
        return pages

    def _note(self, rows: Iterable[tuple[Any, Record]]) -> None:
        """Every nested field resolves through these loaders: what they return is read."""
        note_reads(self.session, self.actor, ReadWay.NESTED, (record for _, record in rows))

    async def _load_records(self, kind: RecordKind, keys: Sequence[uuid.UUID]) -> list[Any]:
        spec = kind_spec(kind)
        rows = list((await spec.repository(self.session, self.actor).get_many(keys)).values())
        publics = {p.id: p for p in await spec.assembler(self.actor)(self.session, rows)}
        self._note(rows)
        return [publics.get(k) for k in keys]

    def _child_kind(self, kind: RecordKind) -> ChildKind:
        spec = kind_spec(kind)
        return ChildKind(
            spec.repository(self.session, self.actor),
            kind,
            spec.assembler(self.actor),
            parent=spec.parent,
            join=spec.join,
        )

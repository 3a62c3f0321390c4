"""Per-request dataloaders: nested fields cost a fixed number of queries per page."""

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, SQLColumnExpression
from sqlmodel import SQLModel, col
from sqlmodel.ext.asyncio.session import AsyncSession
from strawberry.dataloader import DataLoader

from ocpo_coord.audit.reads import ReadWay, note_reads
from ocpo_coord.case import service as case_service
from ocpo_coord.case.repository import CaseRepository
from ocpo_coord.case.schemas import CasePublic
from ocpo_coord.context import Actor
from ocpo_coord.directory import service as directory_service
from ocpo_coord.directory.schemas import AgencyPublic
from ocpo_coord.evidence import service as evidence_service
from ocpo_coord.evidence.schemas import EvidencePublic
from ocpo_coord.exceptions import Unauthenticated
from ocpo_coord.intel import service as intel_service
from ocpo_coord.intel.repository import IntelRepository
from ocpo_coord.intel.schemas import IntelItemPublic
from ocpo_coord.models import Evidence, IntelCase, IntelItem, Note, Record
from ocpo_coord.models.enums import RecordKind
from ocpo_coord.note import service as note_service
from ocpo_coord.note.schemas import NotePublic
from ocpo_coord.records.nested import first_children
from ocpo_coord.records.repository import RecordRepository
from ocpo_coord.task import service as task_service
from ocpo_coord.task.repository import TaskRepository
from ocpo_coord.task.schemas import TaskPublic

ChildKey = tuple[uuid.UUID, int]  # (parent id, how many)


class Loaders:
    def __init__(self, session: AsyncSession, actor: Actor | None) -> None:
        self.session = session
        self._actor = actor
        self.case = DataLoader(self._load_cases)
        self.agency = DataLoader(self._load_agencies)
        self.case_notes = DataLoader(self._load_notes)
        self.case_evidence = DataLoader(self._load_evidence)
        self.case_tasks = DataLoader(self._load_tasks)
        self.case_intel = DataLoader(self._load_intel)
        self.task = DataLoader(self._load_tasks_by_id)

    @property
    def actor(self) -> Actor:
        if self._actor is None:
            raise Unauthenticated("authentication required")
        return self._actor

    def _note(self, rows: Iterable[tuple[Any, Record]]) -> None:
        """Every nested field resolves through these loaders: what they return is read."""
        note_reads(self.session, self.actor, ReadWay.NESTED, (record for _, record in rows))

    def _repo(self, model: Any, kind: RecordKind) -> RecordRepository[Any]:
        return RecordRepository(self.session, model, kind, principal=self.actor.principal, now=self.actor.now)

    async def _by_id(
        self, keys: Sequence[uuid.UUID], repo: RecordRepository[Any], assemble: Any
    ) -> list[Any]:
        rows = list((await repo.get_many(keys)).values())
        publics = {p.id: p for p in await assemble(self.session, rows)}
        self._note(rows)
        return [publics.get(k) for k in keys]

    async def _load_cases(self, keys: Sequence[uuid.UUID]) -> list[CasePublic | None]:
        repo = CaseRepository(self.session, principal=self.actor.principal, now=self.actor.now)
        return await self._by_id(keys, repo, case_service.to_public)

    async def _load_agencies(self, keys: Sequence[str]) -> list[AgencyPublic | None]:
        agencies = {a.code: a for a in await directory_service.list_agencies(self.session)}
        return [agencies.get(k) for k in keys]

    async def _children(
        self,
        keys: Sequence[ChildKey],
        repo: RecordRepository[Any],
        assemble: Any,
        join: tuple[type[SQLModel], ColumnElement[bool]] | None = None,
        parent: SQLColumnExpression[Any] | None = None,
    ) -> list[list[Any]]:
        result: dict[ChildKey, list[Any]] = {}
        for first in {k[1] for k in keys}:
            parents = [k[0] for k in keys if k[1] == first]
            grouped = await first_children(
                repo, parent if parent is not None else col(Record.parent_id), parents, first, join=join
            )
            rows = [row for rs in grouped.values() for row in rs]
            publics = {p.id: p for p in await assemble(self.session, rows)}
            self._note(rows)
            for parent_id in parents:
                result[(parent_id, first)] = [publics[r[1].id] for r in grouped.get(parent_id, [])]
        return [result[k] for k in keys]

    async def _load_notes(self, keys: Sequence[ChildKey]) -> list[list[NotePublic]]:
        return await self._children(keys, self._repo(Note, RecordKind.NOTE), note_service.to_public)

    async def _load_evidence(self, keys: Sequence[ChildKey]) -> list[list[EvidencePublic]]:
        return await self._children(
            keys, self._repo(Evidence, RecordKind.EVIDENCE), evidence_service.to_public
        )

    async def _load_tasks(self, keys: Sequence[ChildKey]) -> list[list[TaskPublic]]:
        repo = TaskRepository(self.session, principal=self.actor.principal, now=self.actor.now)
        return await self._children(keys, repo, task_service.assembler(self.actor))

    async def _load_tasks_by_id(self, keys: Sequence[uuid.UUID]) -> list[TaskPublic | None]:
        repo = TaskRepository(self.session, principal=self.actor.principal, now=self.actor.now)
        return await self._by_id(keys, repo, task_service.assembler(self.actor))

    async def _load_intel(self, keys: Sequence[ChildKey]) -> list[list[IntelItemPublic]]:
        repo = IntelRepository(self.session, principal=self.actor.principal, now=self.actor.now)
        return await self._children(
            keys,
            repo,
            intel_service.assembler(self.actor),
            join=(IntelCase, col(IntelCase.intel_id) == col(IntelItem.id)),
            parent=col(IntelCase.case_id),
        )

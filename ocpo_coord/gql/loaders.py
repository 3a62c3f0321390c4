"""Per-request dataloaders: nested fields cost a fixed number of queries per page."""

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from sqlmodel import col
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
from ocpo_coord.exceptions import Unauthenticated
from ocpo_coord.gql.nested import ChildKind, NestedPages
from ocpo_coord.intel import service as intel_service
from ocpo_coord.intel.repository import IntelRepository
from ocpo_coord.models import Evidence, IntelCase, IntelItem, Note, Record
from ocpo_coord.models.enums import RecordKind
from ocpo_coord.note import service as note_service
from ocpo_coord.records.repository import RecordRepository
from ocpo_coord.task import service as task_service
from ocpo_coord.task.repository import TaskRepository
from ocpo_coord.task.schemas import TaskPublic


class Loaders:
    def __init__(self, session: AsyncSession, actor: Actor | None) -> None:
        self.session = session
        self._actor = actor
        self.case = DataLoader(self._load_cases)
        self.agency = DataLoader(self._load_agencies)
        self.case_notes = NestedPages(session, lambda: self.actor, self._notes)
        self.case_evidence = NestedPages(session, lambda: self.actor, self._evidence)
        self.case_tasks = NestedPages(session, lambda: self.actor, self._tasks)
        self.case_intel = NestedPages(session, lambda: self.actor, self._intel)
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

    async def _load_tasks_by_id(self, keys: Sequence[uuid.UUID]) -> list[TaskPublic | None]:
        repo = TaskRepository(self.session, principal=self.actor.principal, now=self.actor.now)
        return await self._by_id(keys, repo, task_service.assembler(self.actor))

    def _notes(self) -> ChildKind:
        return ChildKind(self._repo(Note, RecordKind.NOTE), RecordKind.NOTE, note_service.to_public)

    def _evidence(self) -> ChildKind:
        repo = self._repo(Evidence, RecordKind.EVIDENCE)
        return ChildKind(repo, RecordKind.EVIDENCE, evidence_service.to_public)

    def _tasks(self) -> ChildKind:
        repo = TaskRepository(self.session, principal=self.actor.principal, now=self.actor.now)
        return ChildKind(repo, RecordKind.TASK, task_service.assembler(self.actor))

    def _intel(self) -> ChildKind:
        repo = IntelRepository(self.session, principal=self.actor.principal, now=self.actor.now)
        return ChildKind(
            repo,
            RecordKind.INTEL_ITEM,
            intel_service.assembler(self.actor),
            parent=col(IntelCase.case_id),
            join=(IntelCase, col(IntelCase.intel_id) == col(IntelItem.id)),
        )

"""Planned operations: shareable records, deconflicted against other agencies' when planned."""

import uuid

from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.audit.service import record_event
from ocpo_coord.auth.directory import theatre_by_code, theatre_codes
from ocpo_coord.context import Actor
from ocpo_coord.deconfliction import repository, service
from ocpo_coord.deconfliction.repository import OperationRepository
from ocpo_coord.deconfliction.schemas import (
    PlannedOperationCreate,
    PlannedOperationFilter,
    PlannedOperationPublic,
    PlannedOperationUpdate,
)
from ocpo_coord.exceptions import InvalidInput
from ocpo_coord.models import PlannedOperation, Record
from ocpo_coord.models.enums import OperationStatus, RecordKind
from ocpo_coord.records.codes import theatre_filter
from ocpo_coord.records.kinds import RecordKindSpec, declare
from ocpo_coord.records.service import (
    copied_columns,
    create_record,
    markings_public,
)
from ocpo_coord.visibility.pages import any_filter
from ocpo_coord.visibility.pagination import Assembler, Page
from ocpo_coord.visibility.repository import agency_codes, releases_for

# The columns PlannedOperationPublic shows as they are.
_COPIED = copied_columns(PlannedOperationPublic, PlannedOperation)


def _repo(session: AsyncSession, actor: Actor) -> OperationRepository:
    return OperationRepository(session, principal=actor.principal, now=actor.now)


def assembler(actor: Actor) -> Assembler[PlannedOperation, PlannedOperationPublic]:
    async def assemble(
        session: AsyncSession, rows: list[tuple[PlannedOperation, Record]]
    ) -> list[PlannedOperationPublic]:
        ids = [op.id for op, _ in rows]
        codes = await agency_codes(session)
        theatres = await theatre_codes(session)
        releases = await releases_for(session, ids)
        hits = await repository.hit_counts(session, actor.principal, actor.now.date(), ids)
        return [
            PlannedOperationPublic(
                **_COPIED(op, record),
                theatre=theatres.get(record.theatre_id) if record.theatre_id else None,
                markings=markings_public(record, releases.get(op.id, []), codes),
                hits=hits.get(op.id, 0),
            )
            for op, record in rows
        ]

    return assemble


KIND = declare(
    RecordKindSpec(
        RecordKind.PLANNED_OPERATION,
        "planned operation",
        repository=_repo,
        assembler=assembler,
    )
)


async def list_operations(
    session: AsyncSession,
    *,
    actor: Actor,
    filters: PlannedOperationFilter,
    first: int,
    after: str | None,
    count: bool = True,
) -> Page[PlannedOperationPublic]:
    statement = _repo(session, actor).filtered(
        theatre_id=await theatre_filter(session, filters.theatre),
        operation_kind=filters.operation_kind,
        status=filters.status,
    )
    return await KIND.page(
        session, actor, statement, first=first, after=after, filtered=any_filter(filters), count=count
    )


async def create_operation(
    session: AsyncSession, *, actor: Actor, data: PlannedOperationCreate
) -> PlannedOperationPublic:
    """Plan an operation; other agencies' colliding operations raise hits on both sides now,
    before anyone moves."""
    theatre = await theatre_by_code(session, data.theatre)
    if theatre is None:
        raise InvalidInput(f"unknown theatre code: {data.theatre}", field="theatre")
    record = await create_record(
        session, actor=actor, kind=RecordKind.PLANNED_OPERATION, markings=data.markings, theatre_id=theatre.id
    )
    operation = PlannedOperation(
        id=record.id,
        operation_kind=data.operation_kind,
        title=data.title,
        site_name=data.site_name,
        latitude=data.latitude,
        longitude=data.longitude,
        radius_m=data.radius_m,
        starts_at=data.starts_at,
        ends_at=data.ends_at,
        status=data.status,
    )
    session.add(operation)
    await session.flush()
    created = await KIND.get(session, actor, record.id)
    await record_event(
        session,
        actor=actor,
        action="planned_operation.create",
        record_kind=RecordKind.PLANNED_OPERATION,
        record_id=record.id,
        after=created.model_dump(mode="json"),
    )
    if await service.check_operation(session, actor=actor, operation=operation, record=record):
        created = await KIND.get(session, actor, record.id)
    return created


async def update_operation(
    session: AsyncSession, *, actor: Actor, operation_id: uuid.UUID, data: PlannedOperationUpdate
) -> PlannedOperationPublic:
    """Only the owner agency changes its plan; a new place, window or live status is
    deconflicted again (hits already raised for the same pair are not repeated)."""

    changes = data.model_dump(exclude_unset=True, exclude={"expected_version", "markings"})

    async def apply(operation: PlannedOperation, _record: Record) -> None:
        starts_at = changes.get("starts_at", operation.starts_at)
        ends_at = changes.get("ends_at", operation.ends_at)
        if ends_at <= starts_at:
            raise InvalidInput(
                "must be after starts_at", field="ends_at" if "ends_at" in changes else "starts_at"
            )
        operation.sqlmodel_update(changes)

    operation, record, updated = await KIND.update(session, actor, operation_id, data, apply)
    moved = changes.keys() & {"latitude", "longitude", "radius_m", "starts_at", "ends_at", "status"}
    live = operation.status in (OperationStatus.PLANNED, OperationStatus.ACTIVE)
    if (
        moved
        and live
        and await service.check_operation(session, actor=actor, operation=operation, record=record)
    ):
        updated = await KIND.get(session, actor, operation.id)
    return updated

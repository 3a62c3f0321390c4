"""Intelligence rules: grading, case links, and who may change an item."""

import uuid
from collections.abc import Iterable

from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.audit.service import record_event
from ocpo_coord.auth.directory import theatre_codes, theatre_id_by_code
from ocpo_coord.context import Actor
from ocpo_coord.exceptions import InvalidInput, NotFound
from ocpo_coord.intel import repository
from ocpo_coord.intel.repository import IntelRepository
from ocpo_coord.intel.schemas import (
    IntelItemCreate,
    IntelItemFilter,
    IntelItemPublic,
    IntelItemUpdate,
    TearLineCreate,
)
from ocpo_coord.models import IntelCase, IntelItem, Record, RecordRelease
from ocpo_coord.models.enums import RecordKind
from ocpo_coord.records.codes import agency_filter, theatre_filter
from ocpo_coord.records.kinds import RecordKindSpec, declare
from ocpo_coord.records.schemas import MarkingsPublic
from ocpo_coord.records.service import (
    copied_columns,
    create_marked_record,
    create_record,
    created_markings,
    markings_public,
    require_readable,
)
from ocpo_coord.visibility.pages import any_filter
from ocpo_coord.visibility.pagination import Assembler, Page
from ocpo_coord.visibility.policy import enforce, may_widen
from ocpo_coord.visibility.repository import agency_codes, readable_record_ids, releases_for

# The columns IntelItemPublic shows as they are.
_COPIED = copied_columns(IntelItemPublic, IntelItem)


def _repo(session: AsyncSession, actor: Actor) -> IntelRepository:
    return IntelRepository(session, principal=actor.principal, now=actor.now)


def _public(
    item: IntelItem,
    record: Record,
    *,
    theatre: str | None,
    case_ids: Iterable[uuid.UUID],
    markings: MarkingsPublic,
) -> IntelItemPublic:
    """An item as a reader sees it, given what the reader may see of its theatre, its
    linked cases and its markings."""
    return IntelItemPublic(
        **_COPIED(item, record),
        grading=f"{item.source_reliability}{item.information_credibility}",
        theatre=theatre,
        case_ids=sorted(case_ids),
        markings=markings,
    )


def assembler(actor: Actor) -> Assembler[IntelItem, IntelItemPublic]:
    """Linked cases are shown only when the reader may read them too."""

    async def assemble(session: AsyncSession, rows: list[tuple[IntelItem, Record]]) -> list[IntelItemPublic]:
        ids = [item.id for item, _ in rows]
        codes = await agency_codes(session)
        theatres = await theatre_codes(session)
        links = await repository.readable_case_links(session, ids, actor.principal, actor.now)
        releases = await releases_for(session, ids)
        originals = await readable_record_ids(
            session, actor.principal, actor.now, {r.tear_line_of_id for _, r in rows if r.tear_line_of_id}
        )
        return [
            _public(
                item,
                record,
                theatre=theatres.get(record.theatre_id) if record.theatre_id else None,
                case_ids=links.get(item.id, []),
                markings=markings_public(
                    record, releases.get(item.id, []), codes, readable_originals=originals
                ),
            )
            for item, record in rows
        ]

    return assemble


KIND = declare(
    RecordKindSpec(
        RecordKind.INTEL_ITEM,
        "intelligence item",
        repository=_repo,
        assembler=assembler,
        parent=col(IntelCase.case_id),
        join=(IntelCase, col(IntelCase.intel_id) == col(IntelItem.id)),
    )
)


async def list_intel_items(
    session: AsyncSession,
    *,
    actor: Actor,
    filters: IntelItemFilter,
    first: int,
    after: str | None,
    count: bool = True,
) -> Page[IntelItemPublic]:
    statement = _repo(session, actor).filtered(
        theatre_id=await theatre_filter(session, filters.theatre),
        agency_id=await agency_filter(session, filters.agency),
        case_id=filters.case_id,
        source_reliability=filters.source_reliability,
        text=filters.text,
    )
    return await KIND.page(
        session, actor, statement, first=first, after=after, filtered=any_filter(filters), count=count
    )


async def create_intel_item(session: AsyncSession, *, actor: Actor, data: IntelItemCreate) -> IntelItemPublic:
    theatre_id = await theatre_id_by_code(session, data.theatre)
    if theatre_id is None:
        raise InvalidInput(f"unknown theatre code: {data.theatre}", field="theatre")
    case_ids = await require_readable(session, actor, data.case_ids, kind=RecordKind.CASE, field="case_ids")
    record, releases = await create_marked_record(
        session, actor=actor, kind=RecordKind.INTEL_ITEM, markings=data.markings, theatre_id=theatre_id
    )
    item = IntelItem(
        id=record.id,
        **data.model_dump(
            include={
                "title",
                "content",
                "information_date",
                "source_reliability",
                "information_credibility",
                "source_description",
            }
        ),
    )
    session.add(item)
    if case_ids:
        # The item in a flush of its own first: the unit of work orders tables without
        # relationships by class name, not by their foreign keys (``intel_case`` would
        # come before ``intel_item``).
        await session.flush()
        repository.add_case_links(session, item.id, case_ids)
    # Whatever is still pending is written with the audit entry's flush.
    # Answered from what was written, not read back: the linked cases were checked
    # readable above.
    created = await created_item(
        session,
        actor=actor,
        item=item,
        record=record,
        releases=releases,
        theatre=data.theatre.upper(),
        case_ids=case_ids,
    )
    await record_event(
        session,
        actor=actor,
        action="intel_item.create",
        record_kind=RecordKind.INTEL_ITEM,
        record_id=item.id,
        after=created.model_dump(mode="json"),
    )
    return created


async def created_item(
    session: AsyncSession,
    *,
    actor: Actor,
    item: IntelItem,
    record: Record,
    releases: list[RecordRelease],
    theatre: str | None,
    case_ids: list[uuid.UUID],
) -> IntelItemPublic:
    """A new item as its creator reads it, from the objects just written (a new item is
    no tear-line); ``created_markings`` decides whether the creator may read it."""
    return _public(
        item,
        record,
        theatre=theatre,
        case_ids=case_ids,
        markings=await created_markings(
            session, actor=actor, record=record, releases=releases, label="intelligence item"
        ),
    )


async def update_intel_item(
    session: AsyncSession, *, actor: Actor, item_id: uuid.UUID, data: IntelItemUpdate
) -> IntelItemPublic:
    async def apply(item: IntelItem, _record: Record) -> None:
        item.sqlmodel_update(
            data.model_dump(exclude_unset=True, exclude={"expected_version", "case_ids", "markings"})
        )
        if data.case_ids is not None:
            case_ids = await require_readable(
                session, actor, data.case_ids, kind=RecordKind.CASE, field="case_ids"
            )
            # Links to cases this editor cannot see were made by others; they stay.
            existing = (await repository.case_links(session, [item.id])).get(item.id, [])
            seen = await readable_record_ids(session, actor.principal, actor.now, existing)
            hidden = [c for c in existing if c not in seen]
            await repository.replace_case_links(session, item.id, [*case_ids, *hidden])

    _, _, updated = await KIND.update(session, actor, item_id, data, apply)
    return updated


async def publish_tear_line(
    session: AsyncSession, *, actor: Actor, item_id: uuid.UUID, data: TearLineCreate
) -> IntelItemPublic:
    """A sanitised version of an item, released more widely, linked to its original."""
    row = await _repo(session, actor).get_for_update(item_id)
    if row is None:
        raise NotFound("intelligence item")
    original, original_record = row
    # Publishing a wider version is a decision on the original's release.
    enforce(may_widen(actor.principal, original_record))
    record = await create_record(
        session,
        actor=actor,
        kind=RecordKind.INTEL_ITEM,
        markings=data.markings,
        theatre_id=original_record.theatre_id,
    )
    record.tear_line_of_id = original_record.id
    record.provenance = f"{record.provenance}; tear-line of an item of {actor.principal.agency_code}"
    session.add(
        IntelItem(
            id=record.id,
            title=data.title,
            content=data.content,
            information_date=original.information_date,
            source_reliability=original.source_reliability,
            information_credibility=original.information_credibility,
            source_description=data.source_description,
        )
    )
    await session.flush()
    created = await KIND.get(session, actor, record.id)
    await record_event(
        session,
        actor=actor,
        action="intel_item.tear_line",
        record_kind=RecordKind.INTEL_ITEM,
        record_id=record.id,
        before={"original_id": str(original_record.id)},
        after=created.model_dump(mode="json"),
    )
    return created

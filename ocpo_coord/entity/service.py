"""Entities and their selectors; links to records are shown only where readable."""

import uuid

from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.context import Actor
from ocpo_coord.deconfliction import service as deconfliction
from ocpo_coord.entity import repository
from ocpo_coord.entity.repository import EntityRepository
from ocpo_coord.entity.schemas import (
    EntityCreate,
    EntityFilter,
    EntityLinkInput,
    EntityLinkPublic,
    EntityPublic,
    EntityUpdate,
    SelectorInput,
    SelectorPublic,
)
from ocpo_coord.entity.selectors import normalize
from ocpo_coord.exceptions import InvalidInput
from ocpo_coord.models import Entity, Record, RecordEntity, RecordRelease, Selector
from ocpo_coord.models.base import new_id
from ocpo_coord.models.enums import RecordKind, SelectorKind
from ocpo_coord.records.codes import theatre_filter
from ocpo_coord.records.kinds import RecordKindSpec, declare
from ocpo_coord.records.service import (
    copied_columns,
    create_marked_record,
    created_markings,
    markings_public,
)
from ocpo_coord.visibility.pages import any_filter
from ocpo_coord.visibility.pagination import Assembler, Page
from ocpo_coord.visibility.repository import (
    agency_codes,
    readable_record_ids,
    readable_record_kinds,
    record_kinds,
    releases_for,
)

# The columns EntityPublic shows as they are.
_COPIED = copied_columns(EntityPublic, Entity)


def _repo(session: AsyncSession, actor: Actor) -> EntityRepository:
    return EntityRepository(session, principal=actor.principal, now=actor.now)


def assembler(actor: Actor) -> Assembler[Entity, EntityPublic]:
    async def assemble(session: AsyncSession, rows: list[tuple[Entity, Record]]) -> list[EntityPublic]:
        ids = [entity.id for entity, _ in rows]
        codes = await agency_codes(session)
        selectors = await repository.selectors_for(session, ids)
        links = await repository.links_for(session, ids)
        linked = {link.record_id for ls in links.values() for link in ls}
        visible = await readable_record_ids(session, actor.principal, actor.now, linked)
        kinds = await record_kinds(session, visible)
        releases = await releases_for(session, ids)
        return [
            EntityPublic(
                **_COPIED(entity, record),
                selectors=[
                    SelectorPublic(kind=s.kind, value=s.value, normalized=s.normalized)
                    for s in selectors.get(entity.id, [])
                ],
                links=[
                    EntityLinkPublic(
                        record_id=link.record_id, record_kind=kinds[link.record_id], role=link.role
                    )
                    for link in sorted(links.get(entity.id, []), key=lambda x: str(x.record_id))
                    if link.record_id in visible
                ],
                markings=markings_public(record, releases.get(entity.id, []), codes),
            )
            for entity, record in rows
        ]

    return assemble


KIND = declare(
    RecordKindSpec(
        RecordKind.ENTITY,
        "entity",
        repository=_repo,
        assembler=assembler,
    )
)


async def list_entities(
    session: AsyncSession,
    *,
    actor: Actor,
    filters: EntityFilter,
    first: int,
    after: str | None,
    count: bool = True,
) -> Page[EntityPublic]:
    normalized = None
    if filters.selector is not None:
        kind = filters.selector_kind or SelectorKind.NAME
        normalized = normalize(kind, filters.selector)
    statement = _repo(session, actor).filtered(
        entity_kind=filters.entity_kind,
        selector_kind=filters.selector_kind,
        normalized=normalized,
        text=filters.text,
    )
    return await KIND.page(
        session, actor, statement, first=first, after=after, filtered=any_filter(filters), count=count
    )


def _selectors(entity_id: uuid.UUID, items: list[SelectorInput], field: str) -> list[Selector]:
    result: dict[tuple[str, str], Selector] = {}
    for index, item in enumerate(items):
        normalized = normalize(item.kind, item.value)
        if not normalized:
            raise InvalidInput("has nothing left after normalisation", field=f"{field}.{index}.value")
        result.setdefault(
            (item.kind.value, normalized),
            # The id given, not left to the model's factory: pydantic inspects a default
            # factory's signature each time it calls one.
            Selector(
                id=new_id(), entity_id=entity_id, kind=item.kind, value=item.value, normalized=normalized
            ),
        )
    return list(result.values())


async def _links(
    session: AsyncSession, actor: Actor, entity_id: uuid.UUID, items: list[EntityLinkInput]
) -> tuple[list[RecordEntity], dict[uuid.UUID, str]]:
    """The links, each to a record the actor may read, and the kinds of those records
    (asked with the check, for the answer)."""
    wanted = [item.record_id for item in items]
    kinds = await readable_record_kinds(session, actor.principal, actor.now, wanted)
    missing = [str(i) for i in wanted if i not in kinds]
    if missing:
        raise InvalidInput(f"record not found: {', '.join(missing)}", field="links")
    unique = {item.record_id: item for item in items}
    links = [RecordEntity(record_id=i.record_id, entity_id=entity_id, role=i.role) for i in unique.values()]
    return links, kinds


async def created_entity(
    session: AsyncSession,
    *,
    actor: Actor,
    entity: Entity,
    record: Record,
    releases: list[RecordRelease],
    selectors: list[Selector],
    links: list[RecordEntity],
    kinds: dict[uuid.UUID, str] | None = None,
) -> EntityPublic:
    """A new entity as its creator reads it, from the objects just written; its links
    must name records the creator may read (``kinds``: their kinds, when that check
    gave them; asked otherwise), and ``created_markings`` decides whether the creator
    may read the entity."""
    if kinds is None:
        kinds = await record_kinds(session, [link.record_id for link in links])
    return EntityPublic(
        **_COPIED(entity, record),
        selectors=[
            SelectorPublic(kind=s.kind, value=s.value, normalized=s.normalized)
            for s in sorted(selectors, key=lambda s: (s.kind, s.normalized))
        ],
        links=[
            EntityLinkPublic(record_id=link.record_id, record_kind=kinds[link.record_id], role=link.role)
            for link in sorted(links, key=lambda x: str(x.record_id))
        ],
        markings=await created_markings(
            session, actor=actor, record=record, releases=releases, label="entity"
        ),
    )


async def create_entity(session: AsyncSession, *, actor: Actor, data: EntityCreate) -> EntityPublic:
    theatre_id = await theatre_filter(session, data.theatre)
    if data.theatre and theatre_id is not None and theatre_id.int == 0:
        raise InvalidInput(f"unknown theatre code: {data.theatre}", field="theatre")
    record_id = new_id()
    selectors = _selectors(record_id, data.selectors, "selectors")
    links, kinds = await _links(session, actor, record_id, data.links)
    record, releases = await create_marked_record(
        session,
        actor=actor,
        kind=RecordKind.ENTITY,
        markings=data.markings,
        theatre_id=theatre_id,
        record_id=record_id,
    )
    entity = Entity(id=record.id, entity_kind=data.entity_kind, label=data.label, attributes=data.attributes)
    # One flush: the unit of work orders tables without relationships by class name,
    # not by their foreign keys, and that order (entity, record_entity, selector) puts
    # the entity before the rows that name it; its record was written above.
    session.add(entity)
    session.add_all(links)
    session.add_all(selectors)
    await session.flush()
    # Answered from what was written, not read back: every link was checked readable.
    created = await created_entity(
        session,
        actor=actor,
        entity=entity,
        record=record,
        releases=releases,
        selectors=selectors,
        links=links,
        kinds=kinds,
    )
    # The create's audit entry is written with the entries of the hits it raises, in
    # one statement, before them; a new entity has no hits yet to look for.
    await deconfliction.check_selectors(
        session,
        actor=actor,
        entity_id=record.id,
        fresh=True,
        entries=[
            {
                "action": "entity.create",
                "record_kind": RecordKind.ENTITY,
                "record_id": record.id,
                "after": created.model_dump(mode="json"),
            }
        ],
    )
    return created


async def update_entity(
    session: AsyncSession, *, actor: Actor, entity_id: uuid.UUID, data: EntityUpdate
) -> EntityPublic:
    async def apply(entity: Entity, _record: Record) -> None:
        if data.label is not None:
            entity.label = data.label
        if data.attributes is not None:
            entity.attributes = data.attributes
        if data.selectors is not None:
            await repository.replace_selectors(
                session, entity.id, _selectors(entity.id, data.selectors, "selectors")
            )
        if data.links is not None:
            # Links to records this editor cannot see were made by others; they stay.
            existing = (await repository.links_for(session, [entity.id])).get(entity.id, [])
            visible = await readable_record_ids(
                session, actor.principal, actor.now, [x.record_id for x in existing]
            )
            hidden = [
                RecordEntity(record_id=x.record_id, entity_id=entity.id, role=x.role)
                for x in existing
                if x.record_id not in visible
            ]
            links, _ = await _links(session, actor, entity.id, data.links)
            await repository.replace_links(session, entity.id, [*links, *hidden])

    entity, _, updated = await KIND.update(session, actor, entity_id, data, apply)
    if data.selectors is not None:
        await deconfliction.check_selectors(session, actor=actor, entity_id=entity.id)
    return updated

"""The checklist every handover of an agency starts with, edited by its administrators.

An agency without a checklist of its own uses the installation's default. The first
change an agency makes copies the default, so editing never starts from nothing.
"""

import uuid

from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.audit.service import record_event
from ocpo_coord.context import Actor
from ocpo_coord.exceptions import NotFound
from ocpo_coord.handover import repository
from ocpo_coord.handover.schemas import ChecklistItemCreate, ChecklistItemPublic
from ocpo_coord.models import ChecklistTemplateItem
from ocpo_coord.visibility.policy import enforce, may_administer_sharing
from ocpo_coord.visibility.repository import agency_codes


async def _public(session: AsyncSession, items: list[ChecklistTemplateItem]) -> list[ChecklistItemPublic]:
    codes = await agency_codes(session)
    return [
        ChecklistItemPublic(
            id=i.id,
            agency=codes.get(i.agency_id) if i.agency_id else None,
            title=i.title,
            due_days_before_cut_off=i.due_days_before_cut_off,
            sort_order=i.sort_order,
        )
        for i in items
    ]


async def list_items(session: AsyncSession, *, actor: Actor) -> list[ChecklistItemPublic]:
    return await _public(session, await repository.checklist_template(session, actor.principal.agency_id))


async def _own_items(session: AsyncSession, actor: Actor) -> list[ChecklistTemplateItem]:
    agency_id = actor.principal.agency_id
    items = await repository.checklist_template(session, agency_id)
    if items and items[0].agency_id == agency_id:
        return items
    copies = [
        ChecklistTemplateItem(
            agency_id=agency_id,
            title=i.title,
            due_days_before_cut_off=i.due_days_before_cut_off,
            sort_order=i.sort_order,
            created_at=actor.now,
        )
        for i in items
    ]
    session.add_all(copies)
    await session.flush()
    return copies


async def add_item(
    session: AsyncSession, *, actor: Actor, data: ChecklistItemCreate
) -> list[ChecklistItemPublic]:
    enforce(may_administer_sharing(actor.principal))
    await _own_items(session, actor)
    item = ChecklistTemplateItem(
        agency_id=actor.principal.agency_id, created_at=actor.now, **data.model_dump()
    )
    session.add(item)
    await session.flush()
    await record_event(
        session,
        actor=actor,
        action="handover_checklist.add",
        record_kind="checklist_template_item",
        record_id=item.id,
        after=data.model_dump(mode="json"),
    )
    return await list_items(session, actor=actor)


async def remove_item(
    session: AsyncSession, *, actor: Actor, item_id: uuid.UUID
) -> list[ChecklistItemPublic]:
    enforce(may_administer_sharing(actor.principal))
    items = await _own_items(session, actor)
    # The id may name the default item the agency's copy was made from.
    default = await session.get(ChecklistTemplateItem, item_id)
    target = next(
        (
            i
            for i in items
            if i.id == item_id or (default and default.agency_id is None and i.title == default.title)
        ),
        None,
    )
    if target is None:
        raise NotFound("checklist item", field="item_id")
    await session.delete(target)
    await session.flush()
    await record_event(
        session,
        actor=actor,
        action="handover_checklist.remove",
        record_kind="checklist_template_item",
        record_id=target.id,
        before={"title": target.title},
    )
    return await list_items(session, actor=actor)

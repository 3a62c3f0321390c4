"""Selector lists in bulk: a seized phone's contacts, a list of plates, on one entity.

All or nothing: every selector is normalised before anything is written, and the
first one that is not a selector stops the request, named by its index and value.
Idempotent: a selector the entity already holds (after normalisation) is not added
twice, so a retried request adds nothing and raises no hit twice. Every hit is
raised: the entity's selectors are matched in one statement, and the sides, their
notifications and audit entries are written a statement per kind of row
(``deconfliction.service.raise_hits``).

The import is audited as one entry on the entity that names every selector added: the
selectors are the entity's own fields, not records of their own, and one entry keeps
the list whole for the entity's readers.
"""

import uuid

from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.audit.service import record_event
from ocpo_coord.context import Actor
from ocpo_coord.deconfliction import service as deconfliction
from ocpo_coord.entity import repository
from ocpo_coord.entity.repository import EntityRepository
from ocpo_coord.entity.schemas import SelectorBulkCreate, SelectorBulkResult
from ocpo_coord.entity.selectors import normalize
from ocpo_coord.exceptions import InvalidInput, NotFound
from ocpo_coord.models.base import new_id
from ocpo_coord.records.service import touch
from ocpo_coord.visibility.policy import enforce, may_edit


async def add_selectors(
    session: AsyncSession, *, actor: Actor, entity_id: uuid.UUID, data: SelectorBulkCreate
) -> SelectorBulkResult:
    """Attach ``data.selectors`` to the entity; see the module's docstring for the rules."""
    row = await EntityRepository(session, principal=actor.principal, now=actor.now).get_for_update(entity_id)
    if row is None:
        raise NotFound("entity")
    _, record = row
    enforce(may_edit(actor.principal, record))
    wanted: dict[tuple[str, str], dict[str, object]] = {}
    for index, item in enumerate(data.selectors):
        normalized = normalize(item.kind, item.value)
        if not normalized:
            raise InvalidInput(
                f"selector {index} ({item.kind.value} {item.value!r}) has nothing left after normalisation",
                field=f"selectors.{index}.value",
            )
        wanted.setdefault(
            (item.kind.value, normalized),
            {"kind": item.kind.value, "value": item.value, "normalized": normalized},
        )
    held = await repository.selector_keys(session, entity_id)
    added = [
        {"id": new_id(), "entity_id": entity_id, **fields}
        for key, fields in wanted.items()
        if key not in held
    ]
    hits = 0
    if added:
        await repository.insert_selectors(session, added)
        touch(record, actor)
        await session.flush()
        await record_event(
            session,
            actor=actor,
            action="entity.selectors_add",
            record_kind=record.kind,
            record_id=entity_id,
            after={
                "added": [
                    {"kind": s["kind"], "value": s["value"], "normalized": s["normalized"]} for s in added
                ],
                "version": record.version,
            },
        )
        hits = await deconfliction.check_selectors(session, actor=actor, entity_id=entity_id)
    return SelectorBulkResult(
        entity_id=entity_id,
        received=len(data.selectors),
        added=len(added),
        already_present=len(data.selectors) - len(added),
        hits_raised=hits,
    )

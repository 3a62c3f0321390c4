"""Entities referred to by imported reports: people, organisations, places and the
vehicles, vessels, phones and accounts an ocpo-coord export carries as infrastructure.

They come in under the same marking rules as the reports, with their selectors, so that
deconfliction works on imported material too. Agencies and systems (identities that
describe who produced the bundle) are not entities and are left out.
"""

import json
import uuid
from dataclasses import dataclass
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.audit.service import record_event
from ocpo_coord.context import Actor
from ocpo_coord.directory.repository import theatre_by_code
from ocpo_coord.entity.selectors import normalize
from ocpo_coord.entity.service import created_entity
from ocpo_coord.models import Entity, RecordEntity, Selector
from ocpo_coord.models.enums import EntityKind, RecordKind, SelectorKind
from ocpo_coord.records.service import create_marked_record
from ocpo_coord.stix.handling import Handling, enum_or, ocpo

_IDENTITY_KINDS = {
    "individual": EntityKind.PERSON,
    "organization": EntityKind.ORGANISATION,
    "group": EntityKind.ORGANISATION,
}


@dataclass(frozen=True, slots=True)
class EntityCandidate:
    index: int
    stix_id: str
    kind: EntityKind
    label: str
    attributes: dict[str, str]
    selectors: list[tuple[SelectorKind, str]]
    theatre: str | None
    held: Handling


def entity_kind(obj: dict[str, Any]) -> EntityKind | None:
    """What the object is here, or None for what is not an entity (agencies, systems,
    infrastructure of unknown nature)."""
    ext = ocpo(obj)
    if "agency_code" in ext:
        return None
    named = enum_or(EntityKind, ext.get("entity_kind"), None)
    if named is not None:
        return named
    if obj["type"] == "identity":
        return _IDENTITY_KINDS.get(str(obj.get("identity_class")))
    if obj["type"] == "location":
        return EntityKind.LOCATION
    return None


def _attributes(obj: dict[str, Any], ext: dict[str, Any]) -> dict[str, str]:
    raw = ext.get("attributes")
    attributes = {
        str(k)[:100]: str(v)[:1000]
        for k, v in (raw.items() if isinstance(raw, dict) else [])
        if v is not None
    }
    for key in ("latitude", "longitude", "country", "region", "city"):
        if key in obj and key not in attributes:
            attributes[key] = str(obj[key])[:1000]
    return dict(list(attributes.items())[:50])


def _selectors(ext: dict[str, Any]) -> list[tuple[SelectorKind, str]]:
    found: list[tuple[SelectorKind, str]] = []
    for entry in ext.get("selectors") or []:
        if isinstance(entry, dict):
            kind = enum_or(SelectorKind, entry.get("kind"), None)
            value = entry.get("value")
            if kind is not None and isinstance(value, str) and value.strip():
                found.append((kind, value[:300]))
    return found[:50]


def entity_candidate(index: int, obj: dict[str, Any], kind: EntityKind, held: Handling) -> EntityCandidate:
    ext = ocpo(obj)
    label = str(obj.get("name") or obj["id"])[:300]
    theatre = ext.get("theatre")
    return EntityCandidate(
        index=index,
        stix_id=obj["id"],
        kind=kind,
        label=label,
        attributes=_attributes(obj, ext),
        selectors=_selectors(ext),
        theatre=theatre if isinstance(theatre, str) else None,
        held=held,
    )


async def create_entity(
    session: AsyncSession,
    actor: Actor,
    candidate: EntityCandidate,
    record_id: uuid.UUID,
    provenance: str,
    originator_id: uuid.UUID | None,
) -> None:
    theatre = await theatre_by_code(session, candidate.theatre) if candidate.theatre else None
    record, releases = await create_marked_record(
        session,
        actor=actor,
        kind=RecordKind.ENTITY,
        markings=candidate.held.markings,
        theatre_id=theatre.id if theatre else None,
        record_id=record_id,
        field=f"objects.{candidate.index}.markings",
        originator_agency_id=originator_id,
        provenance=provenance,
    )
    entity = Entity(
        id=record.id, entity_kind=candidate.kind, label=candidate.label, attributes=candidate.attributes
    )
    session.add(entity)
    await session.flush()
    unique: dict[tuple[SelectorKind, str], str] = {}
    for kind, value in candidate.selectors:
        normalized = normalize(kind, value)
        if normalized:
            unique.setdefault((kind, normalized), value)
    selectors = [
        Selector(entity_id=record.id, kind=kind, value=value, normalized=normalized)
        for (kind, normalized), value in unique.items()
    ]
    session.add_all(selectors)
    await session.flush()
    created = await created_entity(
        session, actor=actor, entity=entity, record=record, releases=releases, selectors=selectors, links=[]
    )
    await record_event(
        session,
        actor=actor,
        action="entity.import",
        record_kind=RecordKind.ENTITY,
        record_id=record.id,
        after=json.loads(created.model_dump_json()),
        detail=provenance,
    )


async def link(session: AsyncSession, pairs: set[tuple[uuid.UUID, uuid.UUID]]) -> None:
    """(record, entity) links of imported reports to imported entities."""
    session.add_all(RecordEntity(record_id=r, entity_id=e, role="subject") for r, e in sorted(pairs))
    await session.flush()

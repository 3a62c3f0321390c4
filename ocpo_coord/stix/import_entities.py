"""Entities referred to by imported reports: people, organisations, places and the
vehicles, vessels, phones and accounts an ocpo-coord export carries as infrastructure.

They come in under the same marking rules as the reports, with their selectors, so that
deconfliction works on imported material too. Agencies and systems (identities that
describe who produced the bundle) are not entities and are left out.
"""

import uuid
from dataclasses import dataclass
from typing import Any

from ocpo_coord.context import Actor
from ocpo_coord.entity.schemas import EntityPublic, SelectorPublic
from ocpo_coord.entity.selectors import normalize
from ocpo_coord.models import Entity, Selector
from ocpo_coord.models.base import new_row
from ocpo_coord.models.enums import EntityKind, RecordKind, SelectorKind
from ocpo_coord.stix.handling import Handling, enum_or, ocpo
from ocpo_coord.stix.rows import CreatorView, new_record

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


@dataclass(slots=True)
class NewEntity:
    """An entity's rows, built before anything is written."""

    record: dict[str, Any]
    entity: dict[str, Any]
    selectors: list[dict[str, Any]]

    @property
    def id(self) -> uuid.UUID:
        record_id: uuid.UUID = self.record["id"]
        return record_id


def new_entity(
    actor: Actor,
    candidate: EntityCandidate,
    record_id: uuid.UUID,
    theatre_id: uuid.UUID | None,
    provenance: str,
    originator_id: uuid.UUID | None,
) -> NewEntity:
    """The entity as ``entity.service`` would create it, under the object's markings."""
    record = new_record(
        actor,
        kind=RecordKind.ENTITY,
        markings=candidate.held.markings,
        theatre_id=theatre_id,
        record_id=record_id,
        originator_agency_id=originator_id,
        provenance=provenance,
    )
    entity = new_row(
        Entity,
        id=record_id,
        entity_kind=candidate.kind,
        label=candidate.label,
        attributes=candidate.attributes,
    )
    unique: dict[tuple[SelectorKind, str], str] = {}
    for kind, value in candidate.selectors:
        normalized = normalize(kind, value)
        if normalized:
            unique.setdefault((kind, normalized), value)
    selectors = [
        new_row(Selector, entity_id=record_id, kind=kind, value=value, normalized=normalized)
        for (kind, normalized), value in unique.items()
    ]
    return NewEntity(record, entity, selectors)


def audit_entry(view: CreatorView, new: NewEntity) -> dict[str, Any]:
    """The ``entity.import`` entry's fields: the entity as its creator reads it, which is
    what ``entity.service.created_entity`` answers for a new entity without links."""
    record = new.record
    created = EntityPublic(
        id=new.id,
        entity_kind=new.entity["entity_kind"],
        label=new.entity["label"],
        attributes=new.entity["attributes"],
        selectors=[
            SelectorPublic(kind=s["kind"], value=s["value"], normalized=s["normalized"])
            for s in sorted(new.selectors, key=lambda s: (s["kind"], s["normalized"]))
        ],
        links=[],
        created_at=record["created_at"],
        updated_at=record["updated_at"],
        version=record["version"],
        markings=view.markings(record, "entity"),
    )
    return {
        "action": "entity.import",
        "record_kind": RecordKind.ENTITY,
        "record_id": new.id,
        "after": created.model_dump(mode="json"),
        "detail": record["provenance"],
    }

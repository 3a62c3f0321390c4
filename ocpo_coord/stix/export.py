"""STIX 2.1 export: readable intelligence, its entities and cases, with their markings.

Every record in a bundle was selected through the readable statements of its
aggregate, so a bundle never holds, names or counts a record its reader may not read.
Each exported record gets its own audit entry, which inherits that record's markings.
"""

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from typing import Any

import stix2
from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.audit.service import record_event
from ocpo_coord.auth.directory import theatre_codes
from ocpo_coord.case.repository import CaseRepository, crime_types_for
from ocpo_coord.config import get_settings
from ocpo_coord.context import Actor
from ocpo_coord.entity.repository import EntityRepository, selectors_for
from ocpo_coord.exceptions import NotFound
from ocpo_coord.intel.repository import IntelRepository, case_links
from ocpo_coord.models import Agency, Case, Entity, IntelItem, Record, Selector
from ocpo_coord.models.enums import Classification, EntityKind, Tlp
from ocpo_coord.records.codes import agency_filter, theatre_filter
from ocpo_coord.stix import repository
from ocpo_coord.stix.ids import (
    OCPO_EXTENSION,
    OCPO_EXTENSION_SCHEMA,
    agency_identity_id,
    record_stix_id,
    stable_id,
)
from ocpo_coord.stix.markings import confidence_of, statement_marking, statement_text, tlp_marking
from ocpo_coord.stix.schemas import StixExportFilter
from ocpo_coord.visibility.repository import Release, releases_for

_IDENTITY_CLASSES = {
    EntityKind.PERSON: "individual",
    EntityKind.ORGANISATION: "organization",
    EntityKind.COMPANY: "organization",
}


@dataclass
class _Builder:
    """Collects the objects of one bundle; markings and identities once each."""

    installation: str
    agencies: dict[uuid.UUID, Agency]
    releases: dict[uuid.UUID, list[Release]]
    theatres: dict[uuid.UUID, str]
    objects: dict[str, Any] = field(default_factory=dict)

    @property
    def system_id(self) -> str:
        return stable_id("identity", f"installation:{self.installation}")

    def start(self) -> None:
        self.add(
            stix2.v21.Identity(
                id=self.system_id,
                name=self.installation,
                identity_class="system",
                description="The ocpo-coord installation that produced this bundle.",
            )
        )
        self.add(
            stix2.v21.ExtensionDefinition(
                id=OCPO_EXTENSION,
                created="2026-01-01T00:00:00.000Z",
                modified="2026-01-01T00:00:00.000Z",
                created_by_ref=self.system_id,
                name="ocpo-coord handling, grading and provenance",
                description=(
                    "Admiralty grading (source reliability A-F, information credibility 1-6), "
                    "handling markings (classification, TLP 2.0, ORCON, NOHOST, releasable-to) and "
                    "provenance of records exchanged between ocpo-coord installations."
                ),
                schema=OCPO_EXTENSION_SCHEMA,
                version="1.0",
                extension_types=["property-extension"],
            )
        )

    def add(self, obj: Any) -> str:
        self.objects.setdefault(obj.id, obj)
        return str(obj.id)

    def agency_ref(self, agency_id: uuid.UUID) -> str:
        agency = self.agencies[agency_id]
        return self.add(
            stix2.v21.Identity(
                id=agency_identity_id(agency.code),
                created="2008-01-01T00:00:00.000Z",
                modified="2008-01-01T00:00:00.000Z",
                name=agency.name,
                identity_class="organization",
                extensions={
                    OCPO_EXTENSION: {"extension_type": "property-extension", "agency_code": agency.code}
                },
            )
        )

    def common(self, record: Record) -> dict[str, Any]:
        """Properties every exported record carries: author, timestamps, markings."""
        tlp = Tlp(record.tlp)
        statement = statement_text(
            Classification(record.classification), orcon=record.orcon, nohost=record.nohost
        )
        markings = [self.add(tlp_marking(tlp)), self.add(statement_marking(statement, self.system_id))]
        return {
            "created_by_ref": self.agency_ref(record.originator_agency_id),
            "created": record.created_at,
            "modified": max(record.updated_at, record.created_at),
            "object_marking_refs": markings,
        }

    def handling(self, record: Record) -> dict[str, Any]:
        """The markings and provenance in full, for an ocpo-coord installation to read back."""
        codes = {a.id: a.code for a in self.agencies.values()}
        return {
            "extension_type": "property-extension",
            "record_id": str(record.id),
            "installation": self.installation,
            "classification": Classification(record.classification).name,
            "tlp": Tlp(record.tlp).value,
            "orcon": record.orcon,
            "nohost": record.nohost,
            "restricted": record.restricted_case_id is not None,
            "releasable_to": sorted(
                codes[r.agency_id] for r in self.releases.get(record.id, []) if r.agency_id in codes
            ),
            "originator_agency": codes.get(record.originator_agency_id),
            "custodian_agency": codes.get(record.custodian_agency_id),
            "owner_agency": codes.get(record.owner_agency_id),
            "theatre": self.theatres.get(record.theatre_id) if record.theatre_id else None,
            "provenance": record.provenance,
        }


def _compact(extension: dict[str, Any]) -> dict[str, Any]:
    """STIX forbids empty lists and nulls: a property with no value is left out."""
    return {k: v for k, v in extension.items() if v is not None and v != [] and v != {} and v != ""}


def _entity_object(b: _Builder, entity: Entity, record: Record, selectors: list[Selector]) -> Any:
    extension = {
        **b.handling(record),
        "entity_kind": entity.entity_kind,
        "attributes": dict(entity.attributes),
        "selectors": [{"kind": s.kind, "value": s.value} for s in selectors],
    }
    props: dict[str, Any] = {
        **b.common(record),
        "name": entity.label,
        "extensions": {OCPO_EXTENSION: _compact(extension)},
    }
    kind = EntityKind(entity.entity_kind)
    if kind in _IDENTITY_CLASSES:
        return stix2.v21.Identity(
            id=record_stix_id("identity", entity.id), identity_class=_IDENTITY_CLASSES[kind], **props
        )
    if kind is EntityKind.LOCATION:
        return stix2.v21.Location(id=record_stix_id("location", entity.id), **props, **_place(entity))
    # Vehicles, vessels, phones and accounts are resources that serve the activity.
    return stix2.v21.Infrastructure(
        id=record_stix_id("infrastructure", entity.id),
        infrastructure_types=["unknown"],
        description=f"{kind.value}: {entity.label}",
        **props,
    )


def _place(entity: Entity) -> dict[str, Any]:
    """A STIX location needs coordinates, a country or a region."""
    attributes = entity.attributes
    try:
        latitude, longitude = float(attributes["latitude"]), float(attributes["longitude"])
        if -90 <= latitude <= 90 and -180 <= longitude <= 180:
            return {"latitude": latitude, "longitude": longitude}
    except (KeyError, ValueError):
        pass
    country = attributes.get("country", "")
    if len(country) == 2 and country.isalpha():
        return {"country": country.upper()}
    return {"region": "unknown"}


def _report(b: _Builder, item: IntelItem, record: Record, refs: list[str]) -> Any:
    extension = {
        **b.handling(record),
        "grading": f"{item.source_reliability}{item.information_credibility}",
        "source_reliability": str(item.source_reliability),
        "information_credibility": str(item.information_credibility),
        "source_description": item.source_description,
        "information_date": item.information_date.isoformat(),
    }
    common = b.common(record)
    confidence = confidence_of(item.information_credibility)
    return stix2.v21.Report(
        id=record_stix_id("report", item.id),
        name=item.title,
        description=item.content,
        published=datetime.combine(item.information_date, time(0, 0), tzinfo=UTC),
        report_types=["threat-report"],
        # A report must refer to something; without linked entities, to its originator.
        object_refs=refs or [common["created_by_ref"]],
        external_references=[{"source_name": "ocpo-coord", "external_id": str(item.id)}],
        extensions={OCPO_EXTENSION: _compact(extension)},
        **({"confidence": confidence} if confidence is not None else {}),
        **common,
    )


def _grouping(b: _Builder, case: Case, record: Record, crime_types: list[str], refs: list[str]) -> Any:
    codes = {a.id: a.code for a in b.agencies.values()}
    extension = {
        **b.handling(record),
        "reference": case.reference,
        "crime_types": sorted(crime_types),
        "status": case.status,
        "judicial_stage": case.judicial_stage,
        "priority": case.priority,
        "lead_agency": codes.get(case.lead_agency_id),
    }
    return stix2.v21.Grouping(
        id=record_stix_id("grouping", case.id),
        name=f"{case.reference}: {case.title}",
        description=case.summary or None,
        context="suspicious-activity",
        object_refs=refs,
        external_references=[{"source_name": "ocpo-coord", "external_id": case.reference}],
        extensions={OCPO_EXTENSION: _compact(extension)},
        **b.common(record),
    )


async def _selected_intel(
    session: AsyncSession, actor: Actor, selection: StixExportFilter
) -> list[tuple[IntelItem, Record]]:
    intel = IntelRepository(session, principal=actor.principal, now=actor.now)
    if selection.intel_id is not None:
        row = await intel.get(selection.intel_id)
        if row is None:
            raise NotFound("intelligence item")
        return [row]
    if selection.case_id is not None:
        cases = CaseRepository(session, principal=actor.principal, now=actor.now)
        if await cases.get(selection.case_id) is None:
            raise NotFound("case")
    statement = intel.filtered(
        theatre_id=await theatre_filter(session, selection.theatre),
        agency_id=await agency_filter(session, selection.agency),
        case_id=selection.case_id,
        source_reliability=selection.source_reliability,
        text=selection.text,
    )
    return await repository.newest(session, statement, actor.principal, actor.now, selection.limit)


async def _build(
    session: AsyncSession, actor: Actor, rows: list[tuple[IntelItem, Record]], case_id: uuid.UUID | None
) -> tuple[_Builder, list[Record]]:
    """The objects of these readable items, their readable entities and cases; the records built."""
    intel_ids = [item.id for item, _ in rows]
    links = await case_links(session, intel_ids)
    case_ids = {c for cs in links.values() for c in cs}
    if case_id is not None:
        case_ids.add(case_id)
    cases = await CaseRepository(session, principal=actor.principal, now=actor.now).get_many(case_ids)
    entity_links = await repository.entity_links(session, [*intel_ids, *cases])
    entities = await EntityRepository(session, principal=actor.principal, now=actor.now).get_many(
        {e for es in entity_links.values() for e in es}
    )
    records = [r for _, r in rows] + [r for _, r in cases.values()] + [r for _, r in entities.values()]
    builder = _Builder(
        installation=get_settings().installation_name,
        agencies=await repository.agencies_by_id(session),
        releases=await releases_for(session, [r.id for r in records]),
        theatres=await theatre_codes(session),
    )
    builder.start()
    selectors = await selectors_for(session, entities)
    entity_refs = {
        entity_id: builder.add(_entity_object(builder, entity, record, selectors.get(entity_id, [])))
        for entity_id, (entity, record) in sorted(entities.items(), key=lambda kv: str(kv[0]))
    }

    def refs_of(record_id: uuid.UUID) -> list[str]:
        return sorted({entity_refs[e] for e in entity_links.get(record_id, []) if e in entity_refs})

    report_refs: dict[uuid.UUID, str] = {}
    for item, record in rows:
        report_refs[item.id] = builder.add(_report(builder, item, record, refs_of(item.id)))
    crime_types = await crime_types_for(session, cases)
    for case_id_, (case, record) in sorted(cases.items(), key=lambda kv: str(kv[0])):
        members = [report_refs[i] for i in intel_ids if case_id_ in links.get(i, [])]
        refs = sorted({*members, *refs_of(case_id_)})
        if refs:
            builder.add(_grouping(builder, case, record, crime_types.get(case_id_, []), refs))
    return builder, records


async def export_bundle(session: AsyncSession, *, actor: Actor, selection: StixExportFilter) -> str:
    """The selected readable intelligence as a serialised STIX 2.1 bundle."""
    rows = await _selected_intel(session, actor, selection)
    builder, records = await _build(session, actor, rows, selection.case_id)
    bundle = stix2.v21.Bundle(objects=list(builder.objects.values()))
    # A case without exported members is left out, and so is its audit entry.
    exported = {stix_id.split("--", 1)[1] for stix_id in builder.objects}
    for record in records:
        if str(record.id) in exported:
            await record_event(
                session,
                actor=actor,
                action=f"{record.kind}.export",
                record_kind=record.kind,
                record_id=record.id,
                detail=f"STIX 2.1 {bundle.id}",
            )
    serialised: str = bundle.serialize()
    return serialised


async def report_objects(
    session: AsyncSession, *, actor: Actor, rows: list[tuple[IntelItem, Record]]
) -> list[dict[str, Any]]:
    """The STIX reports of these readable items, in their order, as JSON objects.

    Their references name only what the reader may read (entities through their readable
    statement); auditing the read is the caller's, who knows how the reports are served."""
    builder, _ = await _build(session, actor, rows, None)
    return [json.loads(builder.objects[record_stix_id("report", item.id)].serialize()) for item, _ in rows]

"""STIX 2.1 import: reports (and notes) of another system become intelligence items
owned by the importing user's agency, with the entities they refer to.

Markings are read by ``handling`` and never widened; releases to other agencies are not
recreated (the new owner may release again, ORCON permitting). A new record's id is
derived from the importing agency and the STIX id, so importing the same bundle again
creates nothing; the object's ``modified`` is kept with the item, and a later version
updates it. A report exported by this installation names its record (``report--<id>``):
a reader of that record importing it gets nothing new. The whole bundle is one
transaction: a bad object imports nothing.
"""

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from pydantic import ValidationError
from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.audit.service import record_event, record_events
from ocpo_coord.auth.directory import theatre_codes
from ocpo_coord.context import Actor
from ocpo_coord.deconfliction import service as deconfliction
from ocpo_coord.entity.repository import EntityRepository
from ocpo_coord.exceptions import InvalidInput
from ocpo_coord.intel.schemas import IntelItemCreate, IntelItemPublic
from ocpo_coord.intel.service import KIND as INTEL_ITEMS
from ocpo_coord.models import Entity, IntelItem, Record, RecordEntity, Selector, StixImport
from ocpo_coord.models.base import new_row
from ocpo_coord.models.enums import InformationCredibility, RecordKind, SourceReliability
from ocpo_coord.progress import Step
from ocpo_coord.stix import import_entities, repository
from ocpo_coord.stix.handling import (
    Handling,
    bundle_objects,
    check_orcon,
    enum_or,
    handling,
    ocpo,
    source_name,
    theatre_code,
)
from ocpo_coord.stix.ids import stable_uuid
from ocpo_coord.stix.markings import credibility_of
from ocpo_coord.stix.rows import CreatorView, new_record
from ocpo_coord.stix.schemas import ImportedItem, StixImportResult
from ocpo_coord.visibility.policy import enforce, may_create
from ocpo_coord.visibility.repository import (
    agency_codes,
    agency_ids_by_code,
    readable_record_ids,
    record_kinds,
)

_ITEM_TYPES = ("report", "note")
_ITEM_FIELDS = {
    "title",
    "content",
    "information_date",
    "source_reliability",
    "information_credibility",
    "source_description",
}


@dataclass(frozen=True, slots=True)
class _Candidate:
    index: int
    stix_id: str
    data: IntelItemCreate
    held: Handling
    refs: tuple[str, ...]
    modified: datetime


def _information_date(index: int, obj: dict[str, Any], ext: dict[str, Any]) -> date:
    for value in (ext.get("information_date"), obj.get("published"), obj.get("created")):
        if isinstance(value, str):
            try:
                return datetime.fromisoformat(value.replace("Z", "+00:00")).date()
            except ValueError:
                continue
    raise InvalidInput(f"{obj['id']}: no date of information", field=f"objects.{index}")


def _modified(index: int, obj: dict[str, Any]) -> datetime:
    """The object's version (STIX 2.1 section 3.2: ``modified``, else ``created``)."""
    for value in (obj.get("modified"), obj.get("created")):
        if isinstance(value, str):
            try:
                stamp = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                continue
            return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)
    raise InvalidInput(f"{obj['id']}: no modified or created time", field=f"objects.{index}")


def _candidate(index: int, obj: dict[str, Any], held: Handling, theatre: str) -> _Candidate:
    ext = ocpo(obj)
    text = obj.get("description") or obj.get("content") or ""
    title = obj.get("name") or obj.get("abstract") or (text.strip().splitlines() or [obj["id"]])[0]
    reliability = enum_or(SourceReliability, ext.get("source_reliability"), SourceReliability.F)
    credibility = enum_or(
        InformationCredibility, ext.get("information_credibility"), credibility_of(obj.get("confidence"))
    )
    try:
        data = IntelItemCreate(
            title=str(title)[:300],
            content=str(text or title)[:50_000],
            information_date=_information_date(index, obj, ext),
            source_reliability=reliability,
            information_credibility=credibility,
            source_description=str(ext.get("source_description") or f"STIX {obj['type']} {obj['id']}")[:300],
            theatre=theatre,
            markings=held.markings,
        )
    except ValidationError as exc:
        problem = exc.errors()[0]
        where = ".".join(str(p) for p in problem.get("loc", ()))
        raise InvalidInput(f"{obj['id']}: {where}: {problem.get('msg')}", field=f"objects.{index}") from exc
    refs = tuple(r for r in obj.get("object_refs") or [] if isinstance(r, str))
    return _Candidate(index, obj["id"], data, held, refs, _modified(index, obj))


def _provenance(actor: Actor, system: str, stix_id: str, held: Handling) -> str:
    origin = held.originator_code
    return f"imported by {actor.principal.agency_code} from {system} (STIX {stix_id})" + (
        f"; originated by {origin}" if origin else ""
    )


@dataclass(frozen=True, slots=True)
class _Bundle:
    """A bundle read, checked and mapped: nothing written yet."""

    system: str
    theatres: dict[str, uuid.UUID]
    candidates: list[_Candidate]
    entities: dict[str, import_entities.EntityCandidate]
    # Originators named by the bundle that are agencies known here, by code.
    known: dict[str, uuid.UUID]


async def _read(
    session: AsyncSession, actor: Actor, bundle: Any, theatre: str | None, source: str | None
) -> _Bundle:
    """Every object checked (the first bad one refuses the bundle, named by its index and
    id) and mapped to what it becomes here."""
    principal = actor.principal
    assert principal.agency_code is not None
    objects = bundle_objects(bundle)
    definitions = {o["id"]: o for o in objects if o["type"] == "marking-definition"}
    identities = {o["id"]: o for o in objects if o["type"] == "identity"}
    items = [(i, o) for i, o in enumerate(objects) if o["type"] in _ITEM_TYPES]
    if not items:
        raise InvalidInput("the bundle holds no report or note to import", field="objects")
    theatres = {code: theatre_id for theatre_id, code in (await theatre_codes(session)).items()}
    if theatre and theatre.upper() not in theatres:
        raise InvalidInput(f"unknown theatre code: {theatre}", field="theatre")
    own = await _own_theatre(session, actor, theatre)
    candidates = [
        _candidate(
            i,
            o,
            handling(i, o, definitions, identities, actor),
            theatre_code(ocpo(o), theatres, theatre or own, index=i),
        )
        for i, o in items
    ]
    # Entities the reports refer to, each once.
    referred = {r for c in candidates for r in c.refs}
    entities: dict[str, import_entities.EntityCandidate] = {}
    for i, o in enumerate(objects):
        kind = import_entities.entity_kind(o) if o["id"] in referred else None
        if kind is not None and o["id"] not in entities:
            held = handling(i, o, definitions, identities, actor)
            entities[o["id"]] = import_entities.entity_candidate(i, o, kind, held)
    everything = [(c.index, c.stix_id, c.held) for c in candidates] + [
        (e.index, e.stix_id, e.held) for e in entities.values()
    ]
    known = await agency_ids_by_code(
        session, [h.originator_code for _, _, h in everything if h.originator_code]
    )
    for index, stix_id, held in everything:
        check_orcon(index, stix_id, held, principal.agency_code.upper(), set(known))
    return _Bundle(source_name(objects, source), theatres, candidates, entities, known)


async def import_bundle(
    session: AsyncSession,
    *,
    actor: Actor,
    bundle: Any,
    theatre: str | None,
    source: str | None,
    step: Step | None = None,
) -> StixImportResult:
    """Import the bundle's reports and notes with the entities they refer to.

    Every object is read, checked and mapped before anything is written, so the first
    bad one refuses the bundle with nothing written. The new rows are then inserted a
    statement per table, and their audit entries (one per record: an entry takes the
    markings of the record it describes, so one entry naming every record would be read
    under none of them) in one statement; the new entities' selectors are matched in
    one pass. ``step`` is told as each stage begins (command-line progress)."""
    tell = step or (lambda _: None)
    principal = actor.principal
    enforce(may_create(principal))
    assert principal.agency_id is not None
    tell("read and check the objects")
    read = await _read(session, actor, bundle, theatre, source)
    everything = [c.stix_id for c in read.candidates] + list(read.entities)
    ids = {stix_id: stable_uuid(f"import:{principal.agency_id}:{stix_id}") for stix_id in everything}
    taken = await repository.existing_ids(session, ids.values())
    # An item your agency imported before that you may not read (a colleague's TLP:RED
    # import) is neither named in the answer nor updated: the answer would tell you its
    # id, and an update would write what you may not read.
    imported_before = {ids[c.stix_id] for c in read.candidates} & taken
    hidden = imported_before - await readable_record_ids(session, principal, actor.now, imported_before)
    held_here = await _read_here(session, actor, read.candidates)
    # An entity imported before is linked again only while the importer may still read it.
    reusable = set(
        await EntityRepository(session, principal=principal, now=actor.now).get_many(
            ids[s] for s in read.entities if ids[s] in taken
        )
    )
    new_items = [c for c in read.candidates if ids[c.stix_id] not in taken and c.stix_id not in held_here]
    wanted = {r for c in new_items for r in c.refs if r in read.entities}
    tell("build the records")
    view = CreatorView(actor, await agency_codes(session))
    fresh: list[import_entities.NewEntity] = []
    audit: list[dict[str, Any]] = []
    for stix_id in sorted(wanted):
        entity = read.entities[stix_id]
        if ids[stix_id] not in taken:
            provenance = _provenance(actor, read.system, stix_id, entity.held)
            new = import_entities.new_entity(
                actor,
                entity,
                ids[stix_id],
                read.theatres.get(entity.theatre.upper()) if entity.theatre else None,
                provenance,
                read.known.get(entity.held.originator_code or ""),
            )
            fresh.append(new)
            audit.append(import_entities.audit_entry(view, new))
            taken.add(ids[stix_id])
            reusable.add(ids[stix_id])
    created: list[ImportedItem] = []
    skipped: list[ImportedItem] = []
    updates: list[tuple[_Candidate, ImportedItem]] = []
    records: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    versions: list[dict[str, Any]] = []
    links: set[tuple[uuid.UUID, uuid.UUID]] = set()
    for candidate in read.candidates:
        if candidate.stix_id in held_here:
            here = held_here[candidate.stix_id]
            skipped.append(ImportedItem(stix_id=candidate.stix_id, id=here, title=candidate.data.title))
            continue
        record_id = ids[candidate.stix_id]
        if record_id in hidden:
            continue
        entry = ImportedItem(stix_id=candidate.stix_id, id=record_id, title=candidate.data.title)
        if record_id in taken:
            updates.append((candidate, entry))
            continue
        taken.add(record_id)  # the same object twice in one bundle is one item
        code = candidate.data.theatre.upper()
        record, item = _new_item(actor, candidate, record_id, read.theatres[code], read.system, read.known)
        audit.append(_audit_entry(view, candidate, record, item, code, read.system))
        records.append(record)
        rows.append(item)
        versions.append(
            new_row(StixImport, record_id=record_id, stix_id=candidate.stix_id, modified=candidate.modified)
        )
        links |= {(record_id, ids[r]) for r in candidate.refs if r in read.entities and ids[r] in reusable}
        created.append(entry)
    tell("write the records")
    await repository.insert_new(
        session,
        [
            (Record, [new.record for new in fresh] + records),
            (Entity, [new.entity for new in fresh]),
            (Selector, [s for new in fresh for s in new.selectors]),
            (IntelItem, rows),
            (StixImport, versions),
            (RecordEntity, [new_row(RecordEntity, record_id=r, entity_id=e) for r, e in sorted(links)]),
        ],
    )
    tell("audit")
    await record_events(session, actor=actor, entries=audit)
    updated: list[ImportedItem] = []
    if updates:
        tell("update the items imported before")
        known_versions = await repository.import_versions(session, [ids[c.stix_id] for c, _ in updates])
        for candidate, entry in updates:
            version = known_versions.get(entry.id)
            if await _update_if_newer(session, actor, candidate, entry.id, version, read.system):
                updated.append(entry)
            else:
                skipped.append(entry)
    tell("deconflict the new selectors")
    await deconfliction.check_entities(session, actor=actor, entity_ids=[new.id for new in fresh])
    # The answer lists objects in the bundle's order, whatever path each took.
    order = {c.stix_id: c.index for c in read.candidates}
    skipped.sort(key=lambda e: order[e.stix_id])
    return StixImportResult(source=read.system, created=created, already_imported=skipped, updated=updated)


async def _own_theatre(session: AsyncSession, actor: Actor, given: str | None) -> str | None:
    """The importing agency's only theatre, for objects that name none known here."""
    if given:
        return None
    assert actor.principal.agency_id is not None
    own = await repository.theatres_of_agency(session, actor.principal.agency_id)
    return own[0].code if len(own) == 1 else None


async def _read_here(
    session: AsyncSession, actor: Actor, candidates: list[_Candidate]
) -> dict[str, uuid.UUID]:
    """Reports this installation exported (their STIX id names the record) that the
    importer reads here already: importing them again would only copy them."""
    named: dict[str, uuid.UUID] = {}
    for candidate in candidates:
        try:
            named[candidate.stix_id] = uuid.UUID(candidate.stix_id.split("--", 1)[1])
        except (IndexError, ValueError):
            continue
    # One statement decides, under the rule, which of them the importer reads here.
    readable = await readable_record_ids(session, actor.principal, actor.now, named.values())
    kinds = await record_kinds(session, readable)
    return {
        stix_id: record_id
        for stix_id, record_id in named.items()
        if kinds.get(record_id) == RecordKind.INTEL_ITEM
    }


async def _update_if_newer(
    session: AsyncSession,
    actor: Actor,
    candidate: _Candidate,
    record_id: uuid.UUID,
    version: StixImport | None,
    system: str,
) -> bool:
    """A later version of an object imported before updates its item; the same or an
    earlier one changes nothing. An item imported before versions were kept gets its
    version recorded, unchanged."""
    if version is None:
        session.add(StixImport(record_id=record_id, stix_id=candidate.stix_id, modified=candidate.modified))
        await session.flush()
        return False
    if candidate.modified <= version.modified:
        return False
    item = await session.get(IntelItem, record_id)
    assert item is not None
    before = await INTEL_ITEMS.get(session, actor, record_id)
    item.sqlmodel_update(candidate.data.model_dump(include=_ITEM_FIELDS))
    version.modified = candidate.modified
    session.add_all([item, version])
    await session.flush()
    after = await INTEL_ITEMS.get(session, actor, record_id)
    await record_event(
        session,
        actor=actor,
        action="intel_item.import_update",
        record_kind=RecordKind.INTEL_ITEM,
        record_id=record_id,
        before=json.loads(before.model_dump_json()),
        after=json.loads(after.model_dump_json()),
        detail=f"from {system}: {candidate.stix_id} modified {candidate.modified.isoformat()}",
    )
    return True


def _new_item(
    actor: Actor,
    candidate: _Candidate,
    record_id: uuid.UUID,
    theatre_id: uuid.UUID,
    system: str,
    originators: dict[str, uuid.UUID],
) -> tuple[dict[str, Any], dict[str, Any]]:
    data = candidate.data
    origin = candidate.held.originator_code or ""
    record = new_record(
        actor,
        kind=RecordKind.INTEL_ITEM,
        markings=data.markings,
        theatre_id=theatre_id,
        record_id=record_id,
        # The originator known here keeps its ORCON say; an unknown one is named in provenance.
        originator_agency_id=originators.get(origin),
        provenance=_provenance(actor, system, candidate.stix_id, candidate.held),
    )
    return record, new_row(IntelItem, id=record_id, **data.model_dump(include=_ITEM_FIELDS))


def _audit_entry(
    view: CreatorView,
    candidate: _Candidate,
    record: dict[str, Any],
    item: dict[str, Any],
    theatre: str,
    system: str,
) -> dict[str, Any]:
    """The ``intel_item.import`` entry's fields: the item as its creator reads it, which
    is what ``intel.service.created_item`` answers for a new item in no case."""
    created = IntelItemPublic(
        id=record["id"],
        title=item["title"],
        content=item["content"],
        information_date=item["information_date"],
        source_reliability=item["source_reliability"],
        information_credibility=item["information_credibility"],
        grading=f"{item['source_reliability']}{item['information_credibility']}",
        source_description=item["source_description"],
        theatre=theatre,
        case_ids=[],
        created_at=record["created_at"],
        updated_at=record["updated_at"],
        version=record["version"],
        markings=view.markings(record, "intelligence item"),
    )
    return {
        "action": "intel_item.import",
        "record_kind": RecordKind.INTEL_ITEM,
        "record_id": record["id"],
        "after": created.model_dump(mode="json"),
        "detail": f"from {system}: {candidate.stix_id}",
    }

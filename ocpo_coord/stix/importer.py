"""STIX 2.1 import: reports (and notes) of another system become intelligence items
owned by the importing user's agency.

Markings are honoured and never widened: the most restrictive TLP named wins, an
unreadable marking makes the item TLP:RED for the importer alone, no TLP at all makes
it AMBER+STRICT (the importing agency only), no classification makes it the
importer's own clearance, AMBER from another originator is held AMBER+STRICT (the new
owner's sharing agreements would otherwise reach it), and releases to other agencies are
never recreated (the owner may release it again, ORCON permitting). The new record's id is derived from
the importing agency and the STIX id, so importing the same bundle again creates
nothing. The whole bundle is one transaction: a bad object imports nothing.
"""

import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any, TypeVar

import stix2
import stix2.exceptions
from pydantic import ValidationError
from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.audit.service import record_event
from ocpo_coord.context import Actor
from ocpo_coord.directory.repository import theatre_by_code
from ocpo_coord.exceptions import InvalidInput
from ocpo_coord.intel.schemas import IntelItemCreate
from ocpo_coord.intel.service import get_intel_item
from ocpo_coord.models import IntelItem
from ocpo_coord.models.enums import Classification, InformationCredibility, RecordKind, SourceReliability, Tlp
from ocpo_coord.records.repository import agency_ids_by_code
from ocpo_coord.records.schemas import MarkingsInput
from ocpo_coord.records.service import create_record
from ocpo_coord.sharing.policy import enforce, may_create, tlp_rank
from ocpo_coord.stix import repository
from ocpo_coord.stix.ids import OCPO_EXTENSION, stable_uuid
from ocpo_coord.stix.markings import credibility_of, read_markings
from ocpo_coord.stix.schemas import ImportedItem, StixImportResult

MAX_OBJECTS = 5000
E = TypeVar("E", bound=Enum)
D = TypeVar("D")
_ITEM_TYPES = ("report", "note")


def _bundle_objects(bundle: Any) -> list[dict[str, Any]]:
    if not isinstance(bundle, dict) or bundle.get("type") != "bundle":
        raise InvalidInput('is not a STIX bundle: expected an object with "type": "bundle"', field="type")
    objects = bundle.get("objects")
    if not isinstance(objects, list) or not objects:
        raise InvalidInput("a STIX bundle needs a non-empty list of objects", field="objects")
    if len(objects) > MAX_OBJECTS:
        raise InvalidInput(f"at most {MAX_OBJECTS} objects per bundle", field="objects")
    for index, obj in enumerate(objects):
        if (
            not isinstance(obj, dict)
            or not isinstance(obj.get("id"), str)
            or not isinstance(obj.get("type"), str)
        ):
            raise InvalidInput("every object needs a type and an id", field=f"objects.{index}")
        if obj.get("spec_version", "2.1") != "2.1" and obj["type"] != "marking-definition":
            raise InvalidInput(
                f"{obj['id']}: only STIX 2.1 is read (spec_version {obj.get('spec_version')!r})",
                field=f"objects.{index}.spec_version",
            )
        try:
            # The library checks types, required properties and references' forms.
            stix2.parse(obj, allow_custom=True, version="2.1")
        except (stix2.exceptions.STIXError, ValueError, TypeError) as exc:
            raise InvalidInput(f"{obj['id']}: {exc}", field=f"objects.{index}") from exc
    return objects


@dataclass(frozen=True, slots=True)
class _Candidate:
    index: int
    stix_id: str
    data: IntelItemCreate
    originator_code: str | None


def _ocpo(obj: dict[str, Any]) -> dict[str, Any]:
    extension = (obj.get("extensions") or {}).get(OCPO_EXTENSION)
    return extension if isinstance(extension, dict) else {}


def _enum_or(enum: type[E], value: Any, default: D) -> E | D:
    try:
        return enum(value)
    except ValueError:
        return default


def _information_date(obj: dict[str, Any], ext: dict[str, Any]) -> date:
    for value in (ext.get("information_date"), obj.get("published"), obj.get("created")):
        if isinstance(value, str):
            try:
                return datetime.fromisoformat(value.replace("Z", "+00:00")).date()
            except ValueError:
                continue
    raise InvalidInput(f"{obj['id']}: no date of information", field="objects")


def _markings(
    obj: dict[str, Any], ext: dict[str, Any], definitions: dict[str, dict[str, Any]], actor: Actor
) -> MarkingsInput:
    read = read_markings(obj.get("object_marking_refs") or [], definitions)
    tlps = [t for t in (read.tlp, _enum_or(Tlp, ext.get("tlp"), None)) if t is not None]
    if read.unknown_refs:
        tlps.append(Tlp.RED)
    tlp = max(tlps, key=tlp_rank) if tlps else Tlp.AMBER_STRICT
    named = (read.classification, Classification.__members__.get(str(ext.get("classification"))))
    # Not "if c": UNCLASSIFIED is 0.
    levels = [c for c in named if c is not None]
    classification = max(levels) if levels else actor.principal.clearance
    return MarkingsInput(
        classification=classification,
        tlp=tlp,
        orcon=read.orcon or ext.get("orcon") is True,
        nohost=read.nohost or ext.get("nohost") is True,
    )


async def _theatre(session: AsyncSession, actor: Actor, ext: dict[str, Any], default: str | None) -> str:
    code = ext.get("theatre")
    if isinstance(code, str) and await theatre_by_code(session, code) is not None:
        return code
    if default:
        return default
    assert actor.principal.agency_id is not None
    own = await repository.theatres_of_agency(session, actor.principal.agency_id)
    if len(own) == 1:
        return own[0].code
    raise InvalidInput("the bundle names no theatre known here: give ?theatre=CODE", field="theatre")


def _originator(
    obj: dict[str, Any], ext: dict[str, Any], identities: dict[str, dict[str, Any]]
) -> str | None:
    """The originating agency's code: from this product's extension, else from the
    author identity's agency code (an ocpo-coord export names it there)."""
    code = ext.get("originator_agency")
    if not isinstance(code, str):
        author = identities.get(str(obj.get("created_by_ref")), {})
        code = _ocpo(author).get("agency_code")
    return code.upper() if isinstance(code, str) and code else None


def _candidate(
    index: int,
    obj: dict[str, Any],
    definitions: dict[str, dict[str, Any]],
    identities: dict[str, dict[str, Any]],
    actor: Actor,
    theatre: str,
) -> _Candidate:
    ext = _ocpo(obj)
    text = obj.get("description") or obj.get("content") or ""
    title = obj.get("name") or obj.get("abstract") or (text.strip().splitlines() or [obj["id"]])[0]
    reliability = _enum_or(SourceReliability, ext.get("source_reliability"), SourceReliability.F)
    credibility = _enum_or(
        InformationCredibility, ext.get("information_credibility"), credibility_of(obj.get("confidence"))
    )
    markings = _markings(obj, ext, definitions, actor)
    originator = _originator(obj, ext, identities)
    if markings.tlp is Tlp.AMBER and originator != actor.principal.agency_code:
        # The importer becomes the owner, and an owner's sharing agreements reach AMBER
        # material: received AMBER, it is held AMBER+STRICT so that none of them does.
        markings = markings.model_copy(update={"tlp": Tlp.AMBER_STRICT})
    if markings.classification > actor.principal.clearance:
        raise InvalidInput(
            f"{obj['id']} is {markings.classification.name}, above your clearance", field=f"objects.{index}"
        )
    if markings.nohost and actor.principal.host_nation:
        raise InvalidInput(
            f"{obj['id']} is NOHOST: a host-nation agency may not hold it", field=f"objects.{index}"
        )
    try:
        data = IntelItemCreate(
            title=str(title)[:300],
            content=str(text or title)[:50_000],
            information_date=_information_date(obj, ext),
            source_reliability=reliability,
            information_credibility=credibility,
            source_description=str(ext.get("source_description") or f"STIX {obj['type']} {obj['id']}")[:300],
            theatre=theatre,
            markings=markings,
        )
    except ValidationError as exc:
        problem = exc.errors()[0]
        where = ".".join(str(p) for p in problem.get("loc", ()))
        raise InvalidInput(f"{obj['id']}: {where}: {problem.get('msg')}", field=f"objects.{index}") from exc
    return _Candidate(index, obj["id"], data, originator)


def _source(objects: list[dict[str, Any]], given: str | None) -> str:
    if given:
        return given[:200]
    for obj in objects:
        installation = _ocpo(obj).get("installation")
        if isinstance(installation, str) and installation:
            return installation[:200]
    systems = [
        o.get("name") for o in objects if o["type"] == "identity" and o.get("identity_class") == "system"
    ]
    return str(systems[0])[:200] if systems and systems[0] else "unnamed STIX source"


async def import_bundle(
    session: AsyncSession, *, actor: Actor, bundle: Any, theatre: str | None, source: str | None
) -> StixImportResult:
    principal = actor.principal
    enforce(may_create(principal))
    assert principal.agency_id is not None
    assert principal.agency_code is not None
    objects = _bundle_objects(bundle)
    definitions = {o["id"]: o for o in objects if o["type"] == "marking-definition"}
    identities = {o["id"]: o for o in objects if o["type"] == "identity"}
    items = [(i, o) for i, o in enumerate(objects) if o["type"] in _ITEM_TYPES]
    if not items:
        raise InvalidInput("the bundle holds no report or note to import", field="objects")
    if theatre and await theatre_by_code(session, theatre) is None:
        raise InvalidInput(f"unknown theatre code: {theatre}", field="theatre")
    system = _source(objects, source)
    candidates = [
        _candidate(i, o, definitions, identities, actor, await _theatre(session, actor, _ocpo(o), theatre))
        for i, o in items
    ]
    ids = {c.stix_id: stable_uuid(f"import:{principal.agency_id}:{c.stix_id}") for c in candidates}
    taken = await repository.existing_ids(session, ids.values())
    originators = await agency_ids_by_code(
        session, [c.originator_code for c in candidates if c.originator_code]
    )
    for c in candidates:
        foreign = c.originator_code not in (None, principal.agency_code.upper())
        if c.data.markings.orcon and (
            c.originator_code is None or (foreign and c.originator_code not in originators)
        ):
            # The importer would become the originator and could widen it: ORCON forbids that.
            raise InvalidInput(
                f"{c.stix_id} is ORCON and its originator "
                f"{c.originator_code or '(unnamed)'} is not an agency known here: "
                "its release could not stay under the originator's control",
                field=f"objects.{c.index}",
            )
    created: list[ImportedItem] = []
    skipped: list[ImportedItem] = []
    for candidate in candidates:
        record_id = ids[candidate.stix_id]
        entry = ImportedItem(stix_id=candidate.stix_id, id=record_id, title=candidate.data.title)
        if record_id in taken:
            skipped.append(entry)
            continue
        taken.add(record_id)  # the same object twice in one bundle is one item
        await _create(session, actor, candidate, record_id, system, originators)
        created.append(entry)
    return StixImportResult(source=system, created=created, already_imported=skipped)


async def _create(
    session: AsyncSession,
    actor: Actor,
    candidate: _Candidate,
    record_id: uuid.UUID,
    system: str,
    originators: dict[str, uuid.UUID],
) -> None:
    data = candidate.data
    theatre = await theatre_by_code(session, data.theatre)
    assert theatre is not None
    record = await create_record(
        session,
        actor=actor,
        kind=RecordKind.INTEL_ITEM,
        markings=data.markings,
        theatre_id=theatre.id,
        record_id=record_id,
        field=f"objects.{candidate.index}.markings",
    )
    origin = candidate.originator_code or ""
    # The originator known here keeps its ORCON say; an unknown one is named in provenance.
    if origin in originators:
        record.originator_agency_id = originators[origin]
    record.provenance = (
        f"imported by {actor.principal.agency_code} from {system} (STIX {candidate.stix_id})"
        + (f"; originated by {origin}" if origin else "")
    )
    session.add(
        IntelItem(
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
    )
    await session.flush()
    created = await get_intel_item(session, actor=actor, item_id=record.id)
    await record_event(
        session,
        actor=actor,
        action="intel_item.import",
        record_kind=RecordKind.INTEL_ITEM,
        record_id=record.id,
        after=json.loads(created.model_dump_json()),
        detail=f"from {system}: {candidate.stix_id}",
    )

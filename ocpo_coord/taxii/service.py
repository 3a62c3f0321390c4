"""TAXII 2.1 rules: which collections a reader has, what each holds, what a POST becomes.

A collection is a theatre of the reader's agency, holding the intelligence reports of
that theatre that the reader may read: what TAXII consumers (OpenCTI, MISP) pull as
threat intelligence, cut where co-deployed agencies already cut their work. Its objects
are read through the intelligence's readable statement, the rule every list uses, so a
record the reader may not read is absent from objects, manifest and versions, and by id
answers 404 exactly as a missing one. Each record has one version, its current one.
"""

import base64
import binascii
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession
from stix2.utils import STIXdatetime, format_datetime

from ocpo_coord.audit.reads import ReadWay, is_protected, note_reads
from ocpo_coord.audit.service import record_event
from ocpo_coord.context import Actor
from ocpo_coord.exceptions import InvalidInput, NotFound
from ocpo_coord.models import IntelItem, Record, TaxiiStatus, Theatre
from ocpo_coord.models.enums import Classification, RecordKind
from ocpo_coord.stix import export, importer
from ocpo_coord.stix import repository as stix_repository
from ocpo_coord.stix.ids import stable_uuid
from ocpo_coord.taxii import repository
from ocpo_coord.taxii.schemas import (
    MAX_LIMIT,
    STIX_MEDIA_TYPE,
    Collection,
    Collections,
    ManifestRecord,
    ObjectFilter,
    Page,
    Status,
    StatusDetail,
    Versions,
)
from ocpo_coord.visibility.policy import may_create

REPORT = "report"
_ALL_VERSIONS = {"first", "last", "all"}


def collection_id(theatre: Theatre) -> str:
    """Fixed by the theatre's code: the same collection id on every request and restart."""
    return str(stable_uuid(f"taxii-collection:{theatre.code}"))


def taxii_timestamp(stamp: datetime) -> str:
    """Date added, to the microsecond (TAXII 2.1 section 3.3.1), in UTC."""
    return stamp.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def stix_version(record: Record) -> str:
    """The record's ``modified`` exactly as its STIX report serialises it."""
    stamp = max(record.updated_at, record.created_at)
    return str(format_datetime(STIXdatetime(stamp, precision="millisecond", precision_constraint="min")))


def _timestamp(value: str, field: str) -> datetime:
    try:
        stamp = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError as exc:
        raise InvalidInput(f"{value!r} is not an RFC 3339 timestamp", field=field) from exc
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


def _cursor(record: Record) -> str:
    text = f"{record.created_at.astimezone(UTC).isoformat()}|{record.id}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _after(value: str) -> tuple[datetime, uuid.UUID]:
    try:
        text = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
        stamp, _, ident = text.partition("|")
        return datetime.fromisoformat(stamp), uuid.UUID(ident)
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise InvalidInput("not a value this server gave as next", field="next") from exc


def _record_ids(ids: list[str]) -> list[uuid.UUID]:
    """Record ids named by ``report--<uuid>`` ids; any other id names nothing here."""
    found: list[uuid.UUID] = []
    for value in ids:
        kind, _, rest = value.partition("--")
        if kind == REPORT:
            try:
                found.append(uuid.UUID(rest))
            except ValueError:
                continue
    return found


async def _theatres(session: AsyncSession, actor: Actor) -> list[Theatre]:
    principal = actor.principal
    if not principal.reads_agency_data or principal.agency_id is None:
        return []  # installation administrators read no agency's data: no collection
    return await stix_repository.theatres_of_agency(session, principal.agency_id)


async def list_collections(session: AsyncSession, *, actor: Actor) -> Collections:
    writable = may_create(actor.principal) is True
    return Collections(
        collections=[
            Collection(
                id=collection_id(theatre),
                title=f"{theatre.name} intelligence",
                description=(
                    f"Intelligence reports of {theatre.name} ({theatre.code}) that you may read; "
                    "what you post is imported as your agency's, its markings never widened."
                ),
                can_read=True,
                can_write=writable,
                media_types=[STIX_MEDIA_TYPE],
            )
            for theatre in await _theatres(session, actor)
        ]
    )


async def get_collection(session: AsyncSession, *, actor: Actor, collection: str) -> Collection:
    for entry in (await list_collections(session, actor=actor)).collections:
        if entry.id == collection:
            return entry
    raise NotFound("collection")


async def collection_theatre(session: AsyncSession, *, actor: Actor, collection: str) -> Theatre:
    """The theatre behind one of the reader's collections; any other id is not found."""
    for theatre in await _theatres(session, actor):
        if collection_id(theatre) == collection:
            return theatre
    raise NotFound("collection")


async def _rows(
    session: AsyncSession,
    actor: Actor,
    theatre: Theatre,
    filters: ObjectFilter,
    object_id: str | None,
    limit: int,
) -> list[tuple[IntelItem, Record]]:
    ids = [*filters.ids, *([object_id] if object_id is not None else [])]
    if filters.types and REPORT not in filters.types:
        return []
    if filters.spec_versions and "2.1" not in filters.spec_versions:
        return []
    record_ids = _record_ids(ids) if ids else None
    if record_ids == []:
        return []
    versions: list[datetime] | None = None
    if filters.versions and not _ALL_VERSIONS.intersection(filters.versions):
        versions = [_timestamp(v, "match[version]") for v in filters.versions]
    return await repository.readable_intel(
        session,
        principal=actor.principal,
        now=actor.now,
        theatre_id=theatre.id,
        added_after=_timestamp(filters.added_after, "added_after") if filters.added_after else None,
        after=_after(filters.next) if filters.next else None,
        record_ids=record_ids,
        versions=versions,
        limit=limit,
    )


def _manifest(record: Record) -> ManifestRecord:
    return ManifestRecord(
        id=f"{REPORT}--{record.id}",
        date_added=taxii_timestamp(record.created_at),
        version=stix_version(record),
        media_type=STIX_MEDIA_TYPE,
    )


async def page(
    session: AsyncSession,
    *,
    actor: Actor,
    collection: str,
    filters: ObjectFilter,
    with_objects: bool,
    object_id: str | None = None,
) -> Page:
    """One page of a collection's objects (or only their manifest), oldest added first."""
    if not 1 <= filters.limit <= MAX_LIMIT:
        raise InvalidInput(f"must be between 1 and {MAX_LIMIT}", field="limit")
    theatre = await collection_theatre(session, actor=actor, collection=collection)
    rows = await _rows(session, actor, theatre, filters, object_id, filters.limit + 1)
    more = len(rows) > filters.limit
    rows = rows[: filters.limit]
    if object_id is not None and not rows and not _filtered(filters):
        raise NotFound("object")
    records = [record for _, record in rows]
    objects = await export.report_objects(session, actor=actor, rows=rows) if with_objects else []
    await _audit(session, actor, records, single=object_id is not None)
    return Page(
        more=more,
        next=_cursor(records[-1]) if more else None,
        objects=objects,
        manifest=[_manifest(record) for record in records],
        first_added=taxii_timestamp(records[0].created_at) if records else None,
        last_added=taxii_timestamp(records[-1].created_at) if records else None,
    )


def _filtered(filters: ObjectFilter) -> bool:
    """Whether filters other than the object's id narrow a request for one object: then
    an empty answer is an empty envelope, not 404 (TAXII 2.1 section 5.6)."""
    return bool(
        filters.added_after or filters.types or filters.ids or filters.spec_versions or filters.next
    ) or bool(filters.versions and not _ALL_VERSIONS.intersection(filters.versions))


async def _audit(session: AsyncSession, actor: Actor, records: list[Record], *, single: bool) -> None:
    """Reads are audited as REST audits them: one entry for a record asked by id, one per
    page for a page of them (protected records only, as everywhere)."""
    if not single:
        note_reads(session, actor, ReadWay.LIST, records)
        return
    for record in records:
        if is_protected(record.classification, record.tlp):
            await record_event(
                session,
                actor=actor,
                action=f"{RecordKind.INTEL_ITEM.value}.read",
                record_kind=RecordKind.INTEL_ITEM,
                record_id=record.id,
                detail=f"{Classification(record.classification).name} TLP:{record.tlp} over TAXII",
            )


async def versions(
    session: AsyncSession, *, actor: Actor, collection: str, object_id: str, filters: ObjectFilter
) -> Versions:
    """The one version of a readable object (a record keeps only its current one)."""
    found = await page(
        session, actor=actor, collection=collection, filters=filters, with_objects=False, object_id=object_id
    )
    return Versions(more=False, versions=[entry.version for entry in found.manifest])


def _envelope_objects(envelope: Any) -> list[dict[str, Any]]:
    if not isinstance(envelope, dict):
        raise InvalidInput("an envelope is a JSON object with an objects list", field="body")
    objects = envelope.get("objects")
    if not isinstance(objects, list) or not objects:
        raise InvalidInput("an envelope needs a non-empty list of objects", field="objects")
    return objects


def _version(obj: Any) -> str:
    if isinstance(obj, dict):
        for key in ("modified", "created"):
            if isinstance(obj.get(key), str):
                return str(obj[key])
    return ""


async def add_objects(session: AsyncSession, *, actor: Actor, collection: str, envelope: Any) -> Status:
    """Import an envelope's reports and notes (with the objects they refer to) as the
    poster's agency's intelligence, through the STIX import: idempotent, all or nothing."""
    theatre = await collection_theatre(session, actor=actor, collection=collection)
    objects = _envelope_objects(envelope)
    requested = actor.now
    bundle = {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": objects}
    result = await importer.import_bundle(
        session, actor=actor, bundle=bundle, theatre=theatre.code, source=None
    )
    by_id = {obj["id"]: obj for obj in objects}
    kept = {entry.stix_id for entry in (*result.created, *result.updated, *result.already_imported)}
    referenced: set[str] = set()
    for stix_id in kept:
        obj = by_id[stix_id]
        referenced.update(r for r in obj.get("object_refs") or [] if isinstance(r, str))
        referenced.update(r for r in obj.get("object_marking_refs") or [] if isinstance(r, str))
        if isinstance(obj.get("created_by_ref"), str):
            referenced.add(obj["created_by_ref"])
        referenced.update(obj.get("extensions") or {})
    successes: list[dict[str, Any]] = []
    failures: list[dict[str, Any]] = []
    for stix_id, obj in by_id.items():
        if stix_id in kept:
            successes.append({"id": stix_id, "version": _version(obj)})
        elif stix_id in referenced:
            successes.append(
                {"id": stix_id, "version": _version(obj), "message": "read with the reports that refer to it"}
            )
        else:
            failures.append(
                {
                    "id": stix_id,
                    "version": _version(obj),
                    "message": "not kept: a collection holds reports and notes, and what they refer to",
                }
            )
    status = TaxiiStatus(
        id=uuid.uuid4(),
        user_id=actor.principal.user_id,
        collection_id=uuid.UUID(collection),
        request_timestamp=requested,
        total_count=len(by_id),
        successes=successes,
        failures=failures,
    )
    await repository.add_status(session, status)
    return _status(status)


def _status(row: TaxiiStatus) -> Status:
    successes = [StatusDetail.model_validate(s) for s in row.successes]
    failures = [StatusDetail.model_validate(f) for f in row.failures]
    return Status(
        id=str(row.id),
        status="complete",
        request_timestamp=taxii_timestamp(row.request_timestamp),
        total_count=row.total_count,
        success_count=len(successes),
        successes=successes,
        failure_count=len(failures),
        failures=failures,
        pending_count=0,
    )


async def get_status(session: AsyncSession, *, actor: Actor, status_id: str) -> Status:
    try:
        wanted = uuid.UUID(status_id)
    except ValueError as exc:
        raise NotFound("status") from exc
    row = await repository.status_of(session, wanted, actor.principal.user_id)
    if row is None:
        raise NotFound("status")
    return _status(row)

"""Creating and re-marking shareable records: the part every aggregate shares."""

import uuid
from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.audit.reads import is_protected
from ocpo_coord.audit.service import record_event
from ocpo_coord.context import Actor
from ocpo_coord.exceptions import Conflict, InvalidInput, NotFound, StaleVersion
from ocpo_coord.models import Record, RecordRelease
from ocpo_coord.models.base import new_id, utcnow
from ocpo_coord.models.enums import Classification, RecordKind, Tlp
from ocpo_coord.records.schemas import MarkingsInput, MarkingsPublic
from ocpo_coord.visibility.policy import enforce, may_create, may_widen, tlp_rank
from ocpo_coord.visibility.readable import can_read
from ocpo_coord.visibility.repository import (
    Release,
    agency_codes,
    agency_ids_by_code,
    readable_record_kinds,
    releases_for,
    replace_releases,
    usable_group_ids,
    user_ids_by_login,
)
from ocpo_coord.visibility.rule import RecordFacts


async def _releases_from_input(
    session: AsyncSession,
    record_id: uuid.UUID,
    markings: MarkingsInput,
    field: str,
    *,
    agency_id: uuid.UUID | None,
    kept_groups: set[uuid.UUID] | None = None,
) -> list[RecordRelease]:
    if markings.tlp is Tlp.RED and markings.releasable_to:
        raise InvalidInput(
            "TLP:RED is released to named individuals only, not to agencies",
            field=f"{field}.releasable_to",
        )
    if markings.tlp is not Tlp.RED and markings.named_readers:
        raise InvalidInput("named readers apply to TLP:RED only", field=f"{field}.named_readers")
    agencies = await agency_ids_by_code(session, markings.releasable_to)
    unknown = sorted({c.upper() for c in markings.releasable_to} - set(agencies))
    if unknown:
        raise InvalidInput(f"unknown agency code(s): {', '.join(unknown)}", field=f"{field}.releasable_to")
    users = await user_ids_by_login(session, markings.named_readers)
    missing = sorted(set(markings.named_readers) - set(users))
    if missing:
        raise InvalidInput(f"unknown user login(s): {', '.join(missing)}", field=f"{field}.named_readers")
    wanted_groups = set(markings.sharing_group_ids) - (kept_groups or set())
    if wanted_groups:
        # A release may name only groups the releasing agency owns or belongs to; any
        # other id is answered as unknown, whether or not it exists.
        usable = await usable_group_ids(session, agency_id, wanted_groups)
        strangers = sorted(str(g) for g in wanted_groups - usable)
        if strangers:
            raise InvalidInput(
                f"unknown sharing group(s): {', '.join(strangers)}", field=f"{field}.sharing_group_ids"
            )
    # Ids and stamps given, not left to the model's factories: pydantic inspects a
    # default factory's signature each time it calls one.
    stamp = utcnow()

    def release(**target: uuid.UUID) -> RecordRelease:
        return RecordRelease(id=new_id(), record_id=record_id, created_at=stamp, **target)

    releases = [release(agency_id=a) for a in sorted(agencies.values())]
    releases += [release(sharing_group_id=g) for g in sorted(set(markings.sharing_group_ids))]
    releases += [release(user_id=u) for u in sorted(users.values())]
    return releases


async def create_record(
    session: AsyncSession,
    *,
    actor: Actor,
    kind: RecordKind,
    markings: MarkingsInput,
    theatre_id: uuid.UUID | None,
    parent: Record | None = None,
    field: str = "markings",
    record_id: uuid.UUID | None = None,
) -> Record:
    """A new record held and owned by the actor's agency. ``record_id`` is for importers
    whose ids are derived from what they import, so that a re-import is recognised."""
    record, _ = await create_marked_record(
        session,
        actor=actor,
        kind=kind,
        markings=markings,
        theatre_id=theatre_id,
        parent=parent,
        field=field,
        record_id=record_id,
    )
    return record


async def create_marked_record(
    session: AsyncSession,
    *,
    actor: Actor,
    kind: RecordKind,
    markings: MarkingsInput,
    theatre_id: uuid.UUID | None,
    parent: Record | None = None,
    field: str = "markings",
    record_id: uuid.UUID | None = None,
    originator_agency_id: uuid.UUID | None = None,
    provenance: str | None = None,
) -> tuple[Record, list[RecordRelease]]:
    """``create_record``, and the releases it wrote: a create answers with its markings
    without reading back the rows it has just written. The markings are checked before
    anything is added, and the record and its releases are written in one flush.
    Importers name another originator (one known here keeps its ORCON say) and their
    provenance here, before the flush, not by changing the record just written."""
    principal = actor.principal
    enforce(may_create(principal))
    assert principal.agency_id is not None
    if markings.classification > principal.clearance:
        raise InvalidInput("is above your clearance", field=f"{field}.classification")
    record = Record(
        id=record_id or new_id(),
        kind=kind,
        originator_agency_id=originator_agency_id or principal.agency_id,
        custodian_agency_id=principal.agency_id,
        owner_agency_id=principal.agency_id,
        created_by_id=principal.user_id,
        theatre_id=theatre_id,
        parent_id=parent.id if parent else None,
        restricted_case_id=parent.restricted_case_id if parent else None,
        classification=markings.classification,
        tlp=markings.tlp,
        orcon=markings.orcon,
        nohost=markings.nohost,
        provenance=provenance or f"originated by {principal.agency_code}",
        created_at=actor.now,
        updated_at=actor.now,
    )
    releases = await _releases_from_input(session, record.id, markings, field, agency_id=principal.agency_id)
    # One flush, so that the visibility index files the new record from these objects
    # (``visibility/reach.py``). The unit of work orders tables without relationships by
    # class name: ``Record`` before ``RecordRelease``; were that ever to change, every
    # release would break its foreign key loudly, never silently.
    session.add(record)
    session.add_all(releases)
    await session.flush()
    return record, releases


async def created_markings(
    session: AsyncSession, *, actor: Actor, record: Record, releases: list[RecordRelease], label: str
) -> MarkingsPublic:
    """The markings of a record the actor has just created, as its reader sees them,
    from the objects written. The creator sees the answer only if the one rule lets them
    read the record (decided in memory on the same facts the index was filed from);
    otherwise the create answers as a read would: not found."""
    assert record.parent_id is None, "records under a parent are read back"
    if not can_read(actor.principal, actor.now, RecordFacts(record, releases=list(releases)), None):
        raise NotFound(label)
    codes = await agency_codes(session)
    return markings_public(
        record,
        [Release(r.record_id, r.agency_id, r.sharing_group_id, r.user_id) for r in releases],
        codes,
    )


async def set_markings(
    session: AsyncSession,
    *,
    actor: Actor,
    record: Record,
    markings: MarkingsInput,
    field: str = "markings",
) -> None:
    """Replace a record's markings; the caller has checked that it may edit the record.

    Narrowing is the owner's to do and takes effect at once (reads are never cached).
    Anything that widens who can read goes through ``may_widen`` (ORCON: originator only).
    """
    if markings.classification > actor.principal.clearance:
        raise InvalidInput("is above your clearance", field=f"{field}.classification")
    old_releases = (await releases_for(session, [record.id])).get(record.id, [])
    new_releases = await _releases_from_input(
        session,
        record.id,
        markings,
        field,
        agency_id=actor.principal.agency_id,
        kept_groups={r.sharing_group_id for r in old_releases if r.sharing_group_id},
    )
    if _widens(record, old_releases, markings, new_releases):
        enforce(may_widen(actor.principal, record))
    record.classification = markings.classification
    record.tlp = markings.tlp
    record.orcon = markings.orcon
    record.nohost = markings.nohost
    await replace_releases(session, record.id, new_releases)


def _targets(releases: Sequence[Release | RecordRelease]) -> set[tuple[str, uuid.UUID]]:
    found: set[tuple[str, uuid.UUID]] = set()
    for r in releases:
        if r.agency_id:
            found.add(("agency", r.agency_id))
        if r.sharing_group_id:
            found.add(("group", r.sharing_group_id))
        if r.user_id:
            found.add(("user", r.user_id))
    return found


def _widens(
    record: Record,
    old_releases: list[Release],
    markings: MarkingsInput,
    new_releases: list[RecordRelease],
) -> bool:
    return (
        markings.classification < record.classification
        or tlp_rank(markings.tlp) < tlp_rank(record.tlp)
        or (record.orcon and not markings.orcon)
        or (record.nohost and not markings.nohost)
        or not _targets(new_releases) <= _targets(old_releases)
    )


def touch(record: Record, actor: Actor) -> None:
    record.version += 1
    record.updated_at = actor.now


_RECORD_COLUMNS = ("created_at", "updated_at", "version")


def copied_columns(public: type[BaseModel], table: type[SQLModel]) -> Callable[[Any, Record], dict[str, Any]]:
    """The fields a public model takes unchanged from its table's row and from the row's
    ``record`` (its times and version), found by name once: a public model shows what a
    column holds under the column's own name, and only what differs is written out."""
    own = tuple(name for name in public.model_fields if name in table.model_fields)
    common = tuple(name for name in _RECORD_COLUMNS if name in public.model_fields and name not in own)

    def copy(row: Any, record: Record) -> dict[str, Any]:
        values = {name: getattr(row, name) for name in own}
        for name in common:
            values[name] = getattr(record, name)
        return values

    return copy


def markings_public(
    record: Record,
    releases: list[Release],
    codes: dict[uuid.UUID, str],
    *,
    readable_originals: set[uuid.UUID] | frozenset[uuid.UUID] = frozenset(),
) -> MarkingsPublic:
    """The markings as a reader sees them. A tear-line shows its protected original
    only to readers who may read the original too."""
    original = record.tear_line_of_id if record.tear_line_of_id in readable_originals else None
    return MarkingsPublic(
        originator_agency=codes.get(record.originator_agency_id, "?"),
        custodian_agency=codes.get(record.custodian_agency_id, "?"),
        owner_agency=codes.get(record.owner_agency_id, "?"),
        classification=Classification(record.classification),
        tlp=Tlp(record.tlp),
        releasable_to=sorted(codes[r.agency_id] for r in releases if r.agency_id in codes),
        sharing_group_ids=sorted(r.sharing_group_id for r in releases if r.sharing_group_id),
        orcon=record.orcon,
        nohost=record.nohost,
        restricted=record.restricted_case_id is not None,
        tear_line_of_id=original,
        provenance=record.provenance,
    )


def record_snapshot(record: Record) -> dict[str, Any]:
    """The markings as the audit log keeps them, before and after a change."""
    return {
        "classification": Classification(record.classification).name,
        "tlp": record.tlp,
        "orcon": record.orcon,
        "nohost": record.nohost,
        "owner_agency_id": record.owner_agency_id,
        "custodian_agency_id": record.custodian_agency_id,
        "version": record.version,
    }


async def flush_unique(session: AsyncSession, field: str, value: str) -> None:
    """Flush, turning a unique-constraint failure into a 409 that names the field."""
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:
        raise Conflict(f"{value} is already in use", field=field) from exc


def check_version(record: Record, expected: int | None) -> None:
    """Optimistic concurrency: a stale write changes nothing and says why."""
    if expected is not None and expected != record.version:
        raise StaleVersion(
            f"the record was changed meanwhile: it is at version {record.version}, not {expected}",
            field="expected_version",
        )


async def require_readable(
    session: AsyncSession,
    actor: Actor,
    ids: list[uuid.UUID],
    *,
    kind: RecordKind,
    field: str,
) -> list[uuid.UUID]:
    """Links may only point at records the actor can read; others look missing."""
    found = await readable_record_ids_of_kind(session, actor, ids, kind)
    missing = [str(i) for i in dict.fromkeys(ids) if i not in found]
    if missing:
        raise InvalidInput(f"{kind.value} not found: {', '.join(missing)}", field=field)
    return list(dict.fromkeys(ids))


async def readable_record_ids_of_kind(
    session: AsyncSession, actor: Actor, ids: list[uuid.UUID], kind: RecordKind
) -> set[uuid.UUID]:
    kinds = await readable_record_kinds(session, actor.principal, actor.now, ids)
    return {i for i, found in kinds.items() if found == kind.value}


class PublicRecord(Protocol):
    """A record as an API shows it: its id and its markings."""

    @property
    def id(self) -> uuid.UUID: ...

    @property
    def markings(self) -> MarkingsPublic: ...


R = TypeVar("R", bound=PublicRecord)


async def audited_read(session: AsyncSession, *, actor: Actor, kind: RecordKind, public: R) -> R:
    """Record who read a protected record; public, unclassified material is not logged."""
    markings = public.markings
    if is_protected(markings.classification, markings.tlp):
        await record_event(
            session,
            actor=actor,
            action=f"{kind.value}.read",
            record_kind=kind,
            record_id=public.id,
            detail=f"{Classification(markings.classification).name} TLP:{markings.tlp}",
        )
    return public

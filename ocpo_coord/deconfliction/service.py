"""Deconfliction hits: raised when two agencies' records share a selector, or their
operations meet in place and time; acknowledged and resolved by each side.

A hit tells one agency only that another agency holds something matching, the kind
of match, and whom to contact. The other side's record is named only to a reader who
may already read it (the one sharing rule decides). A host-nation agency is never
told about a NOHOST record: that side of the hit is not created at all, so nothing
(list, count, notification, audit entry) can reveal it.
"""

import uuid
from collections.abc import Sequence
from typing import Any, Protocol

from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.audit.service import record_event, record_events
from ocpo_coord.auth.directory import theatre_codes, user_logins
from ocpo_coord.context import Actor
from ocpo_coord.db.queries import rows_by_id
from ocpo_coord.deconfliction import repository
from ocpo_coord.deconfliction.geo import places_overlap, windows_overlap
from ocpo_coord.deconfliction.schemas import HitFilter, HitPublic, HitResolve
from ocpo_coord.exceptions import Conflict, NotFound
from ocpo_coord.metrics import DECONFLICTION_EVENTS
from ocpo_coord.models import DeconflictionHit, PlannedOperation, Position, Record
from ocpo_coord.models.base import new_id
from ocpo_coord.models.enums import HitKind, HitStatus, NotificationKind
from ocpo_coord.notification import service as notifications
from ocpo_coord.visibility.pagination import Page, entity_page
from ocpo_coord.visibility.repository import agency_codes, readable_record_ids, records_by_id

PLACE_AND_TIME = "place_and_time"


def _contact(position: Position | None, agency: str) -> str:
    if position is None:
        return f"{agency} (no designated contact position: ask its coordinators)"
    return f"{position.title} ({agency})"


def _label(match_kind: str) -> str:
    if match_kind == PLACE_AND_TIME:
        return "operation in the same place and time"
    return match_kind.replace("_", " ")


class Side(Protocol):
    """A record as raising a hit reads it: a mapped ``Record`` or a collision's ``Party``."""

    @property
    def id(self) -> uuid.UUID: ...

    @property
    def kind(self) -> str: ...

    @property
    def owner_agency_id(self) -> uuid.UUID: ...

    @property
    def theatre_id(self) -> uuid.UUID | None: ...

    @property
    def nohost(self) -> bool: ...


async def raise_hits(
    session: AsyncSession,
    *,
    actor: Actor,
    hit_kind: HitKind,
    mine: Side,
    collisions: Sequence[tuple[str, Side]],
    hosts: set[uuid.UUID] | None = None,
    fresh: bool = False,
    entries: Sequence[dict[str, Any]] = (),
) -> int:
    """Create the sides of these collisions of ``mine`` (match kind, other record) that
    may exist, tell their agencies, audit each; how many sides were raised
    (``raise_hits_of``, for one record)."""
    return await raise_hits_of(
        session,
        actor=actor,
        hit_kind=hit_kind,
        found=[(mine, collisions)],
        hosts=hosts,
        fresh=fresh,
        entries=entries,
    )


async def raise_hits_of(
    session: AsyncSession,
    *,
    actor: Actor,
    hit_kind: HitKind,
    found: Sequence[tuple[Side, Sequence[tuple[str, Side]]]],
    hosts: set[uuid.UUID] | None = None,
    fresh: bool = False,
    entries: Sequence[dict[str, Any]] = (),
) -> int:
    """Create the sides of the collisions of each record (match kind, other record) that
    may exist, tell their agencies, audit each; how many sides were raised. What every
    side needs (host nations, contact positions, recipients, sides already raised,
    shared theatres) is asked once for all of them, and the sides, notifications and
    audit entries are written one statement per kind of row: a phone held by many
    agencies, or an import of many entities, costs a few round trips, not a dozen per
    agency or per entity.

    ``hosts``: the host nations among the sides' agencies when the caller knows them
    already (the collision query asks). ``fresh``: the records were created in this
    transaction, so no side naming them can exist yet and none is looked for.
    ``entries``: the audit entries of the write that raised these hits, appended before
    the hits' own, in the same statement."""
    collisions = [(mine, match_kind, other) for mine, here in found for match_kind, other in here]
    if not collisions:
        await record_events(session, actor=actor, entries=list(entries))
        return 0
    if hosts is None:
        agencies = {mine.owner_agency_id for mine, _, _ in collisions}
        agencies |= {other.owner_agency_id for _, _, other in collisions}
        hosts = await repository.host_nation_agencies(session, agencies)
    codes = await agency_codes(session)
    raised = (
        set()
        if fresh
        else await repository.existing_sides_of(
            session, {(mine.id, other.id) for mine, _, other in collisions}
        )
    )
    shared = await repository.shared_theatres(
        session,
        {
            (mine.owner_agency_id, other.owner_agency_id)
            for mine, _, other in collisions
            if not (mine.theatre_id or other.theatre_id)
        },
    )
    theatres: list[uuid.UUID | None] = [
        mine.theatre_id or other.theatre_id or shared[mine.owner_agency_id, other.owner_agency_id]
        for mine, _, other in collisions
    ]
    positions = await notifications.designated_positions_for(
        session,
        [
            (agency_id, theatre_id)
            for (mine, _, other), theatre_id in zip(collisions, theatres, strict=True)
            for agency_id in (mine.owner_agency_id, other.owner_agency_id)
        ],
    )
    sides: list[tuple[str, Side, Side, uuid.UUID | None, uuid.UUID]] = []
    for (mine, match_kind, other), theatre_id in zip(collisions, theatres, strict=True):
        pair_id = uuid.uuid4()
        for own, theirs in ((mine, other), (other, mine)):
            if own.owner_agency_id in hosts and theirs.nohost:
                continue  # NOHOST: the host nation is not told, not even that something matches
            side = (own.owner_agency_id, own.id, theirs.id, match_kind)
            if side not in raised:
                raised.add(side)
                sides.append((match_kind, own, theirs, theatre_id, pair_id))
    recipients = await notifications.agency_recipients_for(
        session,
        [(own.owner_agency_id, positions[own.owner_agency_id, t]) for _, own, _, t, _ in sides],
        actor.now,
    )
    # Rows, not ORM objects: nothing in this request reads the hits back, and a phone
    # many agencies hold raises dozens of sides.
    created: list[dict[str, Any]] = []
    notices: list[notifications.Notice] = []
    for match_kind, own, theirs, theatre_id, pair_id in sides:
        recipient = positions[own.owner_agency_id, theatre_id]
        contact = positions[theirs.owner_agency_id, theatre_id]
        hit_id = new_id()
        hit = {
            "id": hit_id,
            "pair_id": pair_id,
            "hit_kind": hit_kind.value,
            "match_kind": match_kind,
            "agency_id": own.owner_agency_id,
            "record_id": own.id,
            "other_agency_id": theirs.owner_agency_id,
            "other_record_id": theirs.id,
            "theatre_id": theatre_id,
            "recipient_position_id": recipient.id if recipient else None,
            "contact_position_id": contact.id if contact else None,
            "status": HitStatus.OPEN.value,
            "created_at": actor.now,
            "acknowledged_by_id": None,
            "acknowledged_at": None,
            "resolved_by_id": None,
            "resolved_at": None,
            "outcome": None,
            "outcome_note": "",
        }
        created.append(hit)
        other_code = codes.get(theirs.owner_agency_id, "?")
        notices.append(
            notifications.Notice(
                recipients=recipients[own.owner_agency_id, recipient.id if recipient else None],
                kind=NotificationKind.DECONFLICTION_HIT,
                subject_id=hit_id,
                record_id=own.id,
                title=f"Deconfliction hit: {other_code} holds a matching {_label(match_kind)}",
                body=f"Contact {_contact(contact, other_code)} before acting.",
            )
        )
    if not created:
        await record_events(session, actor=actor, entries=list(entries))
        return 0
    await repository.insert_hits(session, created)
    DECONFLICTION_EVENTS.labels(kind=str(hit_kind)).inc(len(created))
    await notifications.notify_each(session, notices, now=actor.now)
    # Each filed under the side's own record, naming no other agency: the entry is read
    # by that record's readers, who may not be the hit's.
    kinds = {mine.id: mine.kind for mine, _, _ in collisions} | {
        other.id: other.kind for _, _, other in collisions
    }
    await record_events(
        session,
        actor=actor,
        entries=[
            *entries,
            *(
                {
                    "action": "deconfliction.hit",
                    "record_kind": kinds[hit["record_id"]],
                    "record_id": hit["record_id"],
                    "detail": f"deconfliction hit {hit['id']} ({hit_kind.value}: {hit['match_kind']})",
                }
                for hit in created
            ),
        ],
    )
    return len(created)


async def check_selectors(
    session: AsyncSession,
    *,
    actor: Actor,
    entity_id: uuid.UUID,
    fresh: bool = False,
    entries: Sequence[dict[str, Any]] = (),
) -> int:
    """Compare an entity's selectors with every other agency's, readable or not: one
    query finds every match of every selector. ``fresh`` and ``entries`` as for
    ``raise_hits`` (an entity created in this transaction, and its create's entry)."""
    record = await session.get(Record, entity_id)
    assert record is not None
    collisions, hosts = await repository.selector_collisions(
        session, entity_id=entity_id, owner_agency_id=record.owner_agency_id
    )
    return await raise_hits(
        session,
        actor=actor,
        hit_kind=HitKind.SELECTOR,
        mine=record,
        collisions=collisions,
        hosts=hosts,
        fresh=fresh,
        entries=entries,
    )


async def check_entities(session: AsyncSession, *, actor: Actor, entity_ids: list[uuid.UUID]) -> int:
    """``check_selectors`` for many entities written together (an import): their
    matches in one statement per few hundred entities, then all their hits together."""
    records = await records_by_id(session, entity_ids)
    owners = {entity_id: record.owner_agency_id for entity_id, record in records.items()}
    found = await repository.selector_collisions_of(session, owners)
    return await raise_hits_of(
        session,
        actor=actor,
        hit_kind=HitKind.SELECTOR,
        found=[(records[entity_id], collisions) for entity_id, collisions in found.found.items()],
        hosts=found.hosts,
    )


async def check_operation(
    session: AsyncSession, *, actor: Actor, operation: PlannedOperation, record: Record
) -> int:
    """Compare a new operation with other agencies' live operations in its theatre."""
    if record.theatre_id is None:
        return 0
    collisions = [
        (PLACE_AND_TIME, candidate_record)
        for candidate, candidate_record in await repository.colliding_candidates(
            session,
            theatre_id=record.theatre_id,
            owner_agency_id=record.owner_agency_id,
            starts_at=operation.starts_at,
            ends_at=operation.ends_at,
        )
        if windows_overlap((operation.starts_at, operation.ends_at), (candidate.starts_at, candidate.ends_at))
        and places_overlap(
            (operation.latitude, operation.longitude, operation.radius_m),
            (candidate.latitude, candidate.longitude, candidate.radius_m),
        )
    ]
    return await raise_hits(
        session, actor=actor, hit_kind=HitKind.OPERATION, mine=record, collisions=collisions
    )


async def to_public(session: AsyncSession, actor: Actor, hits: list[DeconflictionHit]) -> list[HitPublic]:
    codes = await agency_codes(session)
    theatres = await theatre_codes(session)
    positions = await rows_by_id(
        session,
        Position,
        {p for h in hits for p in (h.recipient_position_id, h.contact_position_id) if p is not None},
    )
    readable = await readable_record_ids(
        session, actor.principal, actor.now, {r for h in hits for r in (h.record_id, h.other_record_id)}
    )
    logins = await user_logins(
        session, {u for h in hits for u in (h.acknowledged_by_id, h.resolved_by_id) if u is not None}
    )
    result = []
    for h in hits:
        recipient = positions.get(h.recipient_position_id) if h.recipient_position_id else None
        other_code = codes.get(h.other_agency_id, "?")
        result.append(
            HitPublic(
                id=h.id,
                hit_kind=h.hit_kind,
                match_kind=h.match_kind,
                agency=codes.get(h.agency_id, "?"),
                record_id=h.record_id if h.record_id in readable else None,
                other_agency=other_code,
                other_record_id=h.other_record_id if h.other_record_id in readable else None,
                contact=_contact(
                    positions.get(h.contact_position_id) if h.contact_position_id else None, other_code
                ),
                recipient_position=recipient.title if recipient else None,
                theatre=theatres.get(h.theatre_id) if h.theatre_id else None,
                status=h.status,
                created_at=h.created_at,
                acknowledged_by=logins.get(h.acknowledged_by_id) if h.acknowledged_by_id else None,
                acknowledged_at=h.acknowledged_at,
                resolved_by=logins.get(h.resolved_by_id) if h.resolved_by_id else None,
                resolved_at=h.resolved_at,
                outcome=h.outcome,
                outcome_note=h.outcome_note,
            )
        )
    return result


async def list_hits(session: AsyncSession, *, actor: Actor, filters: HitFilter) -> list[HitPublic]:
    """Your agency's sides of hits, if you hold its contact position, were notified, or
    coordinate for it."""
    hits = await repository.visible_hits(
        session, actor.principal, actor.now.date(), status=filters.status, hit_kind=filters.hit_kind
    )
    return await to_public(session, actor, hits)


async def page_hits(
    session: AsyncSession, *, actor: Actor, filters: HitFilter, first: int, after: str | None
) -> Page[HitPublic]:
    """The same hits as ``list_hits``, newest first, a page at a time."""
    statement = repository.hits_statement(
        actor.principal, actor.now.date(), status=filters.status, hit_kind=filters.hit_kind
    )

    return await entity_page(
        session,
        statement,
        first=first,
        after=after,
        order=repository.HIT_ORDER,
        convert=lambda hits: to_public(session, actor, hits),
    )


async def _hit(session: AsyncSession, actor: Actor, hit_id: uuid.UUID) -> DeconflictionHit:
    hit = await repository.visible_hit(session, actor.principal, actor.now.date(), hit_id)
    if hit is None:
        raise NotFound("deconfliction hit")
    return hit


async def other_record(session: AsyncSession, *, actor: Actor, hit_id: uuid.UUID) -> uuid.UUID:
    """The other agency's record of a hit the actor sees: the hit is the handle for an
    access request, so the requester never needs (or learns) the record's id."""
    return (await _hit(session, actor, hit_id)).other_record_id


async def get_hit(session: AsyncSession, *, actor: Actor, hit_id: uuid.UUID) -> HitPublic:
    return (await to_public(session, actor, [await _hit(session, actor, hit_id)]))[0]


def _snapshot(hit: DeconflictionHit) -> dict[str, object]:
    # The note stays out of the log: the log is read by the record's readers, who may
    # not be the hit's.
    return {"hit_id": hit.id, "status": hit.status, "outcome": hit.outcome}


async def acknowledge_hit(session: AsyncSession, *, actor: Actor, hit_id: uuid.UUID) -> HitPublic:
    hit = await _hit(session, actor, hit_id)
    if hit.status != HitStatus.OPEN:
        raise Conflict(f"the hit is already {hit.status}", field="id")
    before = _snapshot(hit)
    hit.status = HitStatus.ACKNOWLEDGED
    hit.acknowledged_by_id = actor.principal.user_id
    hit.acknowledged_at = actor.now
    await session.flush()
    record = await session.get(Record, hit.record_id)
    await record_event(
        session,
        actor=actor,
        action="deconfliction.acknowledge",
        record_kind=record.kind if record else None,
        record_id=hit.record_id,
        before=before,
        after=_snapshot(hit),
    )
    return await get_hit(session, actor=actor, hit_id=hit.id)


async def resolve_hit(
    session: AsyncSession, *, actor: Actor, hit_id: uuid.UUID, data: HitResolve
) -> HitPublic:
    """Resolving records the outcome; an open hit is acknowledged on the way."""
    hit = await _hit(session, actor, hit_id)
    if hit.status == HitStatus.RESOLVED:
        raise Conflict("the hit is already resolved", field="id")
    before = _snapshot(hit)
    if hit.acknowledged_at is None:
        hit.acknowledged_by_id = actor.principal.user_id
        hit.acknowledged_at = actor.now
    hit.status = HitStatus.RESOLVED
    hit.resolved_by_id = actor.principal.user_id
    hit.resolved_at = actor.now
    hit.outcome = data.outcome
    hit.outcome_note = data.note
    await session.flush()
    record = await session.get(Record, hit.record_id)
    await record_event(
        session,
        actor=actor,
        action="deconfliction.resolve",
        record_kind=record.kind if record else None,
        record_id=hit.record_id,
        before=before,
        after=_snapshot(hit),
    )
    return await get_hit(session, actor=actor, hit_id=hit.id)

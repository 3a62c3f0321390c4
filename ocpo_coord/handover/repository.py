"""Queries for handovers, their lines, and the records a handover's scope takes in.

The scope queries select by ownership, not through ``readable``: a handover is the
outgoing agency accounting for everything it holds, and an inventory that silently
skipped what the person pressing the button may not read would drop records. They
return ids and markings only. Whatever a line shows of its subject's content goes
through ``readable`` for the person looking (see service.lines_public).
"""

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import col, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import Select, SelectOfScalar

from ocpo_coord.auth.principal import Principal
from ocpo_coord.db.queries import among
from ocpo_coord.handover.policy import takes_part
from ocpo_coord.handover.schemas import LineFilter
from ocpo_coord.models import (
    Case,
    CaseMember,
    ChecklistTemplateItem,
    Evidence,
    Handover,
    HandoverLine,
    IntelCase,
    IntelItem,
    Note,
    Position,
    Record,
    RecordEntity,
    Responsibility,
    Task,
    Tour,
    User,
)
from ocpo_coord.models.enums import (
    ConsentStatus,
    Disposition,
    HandoverKind,
    HandoverStatus,
    LineKind,
    RecordKind,
    TaskStatus,
)
from ocpo_coord.visibility.pagination import Order
from ocpo_coord.visibility.readable import names_readable
from ocpo_coord.visibility.repository import records_by_id

OPEN_TASK = (TaskStatus.PROPOSED, TaskStatus.ACCEPTED, TaskStatus.IN_PROGRESS, TaskStatus.BLOCKED)
_CHILD_KINDS = {RecordKind.EVIDENCE: LineKind.EVIDENCE, RecordKind.NOTE: LineKind.NOTE}


@dataclass(frozen=True, slots=True)
class ScopeItem:
    """One subject the handover must account for."""

    kind: LineKind
    subject_id: uuid.UUID
    case_id: uuid.UUID | None = None
    originator_agency_id: uuid.UUID | None = None
    nohost: bool = False


async def get(session: AsyncSession, handover_id: uuid.UUID) -> Handover | None:
    return await session.get(Handover, handover_id)


async def get_for_update(session: AsyncSession, handover_id: uuid.UUID) -> Handover | None:
    statement = select(Handover).where(Handover.id == handover_id)
    if session.get_bind().dialect.name == "postgresql":
        statement = statement.with_for_update()
    return (await session.exec(statement)).first()


HANDOVER_ORDER = Order(col(Handover.created_at), col(Handover.id))
CONSENT_ORDER = Order(col(HandoverLine.created_at), col(HandoverLine.id), descending=False)


def handovers_of(principal: Principal, status: HandoverStatus | None) -> SelectOfScalar[Handover]:
    """Handovers the principal takes part in (``policy.side_of``), unordered."""
    statement = select(Handover).where(takes_part(principal))
    if status is not None:
        statement = statement.where(Handover.status == status)
    return statement


async def visible_handovers(
    session: AsyncSession, principal: Principal, status: HandoverStatus | None
) -> list[Handover]:
    statement = handovers_of(principal, status).order_by(col(Handover.created_at).desc(), col(Handover.id))
    return list((await session.exec(statement)).all())


async def reference_taken(session: AsyncSession, reference: str) -> bool:
    return (
        await session.exec(select(Handover.id).where(Handover.reference == reference))
    ).first() is not None


# --- scope ------------------------------------------------------------------------


async def _records(session: AsyncSession, statement: SelectOfScalar[Record]) -> Sequence[Record]:
    return (await session.exec(statement)).all()


def open_tasks_of(user_id: uuid.UUID, position_ids: list[uuid.UUID]) -> SelectOfScalar[Task]:
    """Open tasks assigned to a person or to one of their positions."""
    assigned = [col(Task.assignee_user_id) == user_id]
    if position_ids:
        assigned.append(col(Task.assignee_position_id).in_(position_ids))
    return select(Task).where(or_(*assigned), col(Task.status).in_([s.value for s in OPEN_TASK]))


async def rotation_scope(session: AsyncSession, handover: Handover) -> list[ScopeItem]:
    """A person's positions at the cut-off, their open tasks and their case memberships."""
    assert handover.outgoing_user_id is not None
    positions = (
        await session.exec(
            select(Tour.position_id).where(
                Tour.user_id == handover.outgoing_user_id,
                col(Tour.start_date) <= handover.cut_off,
                or_(col(Tour.end_date).is_(None), col(Tour.end_date) >= handover.cut_off),
            )
        )
    ).all()
    tasks = (await session.exec(open_tasks_of(handover.outgoing_user_id, list(positions)))).all()
    parents = await records_by_id(session, [t.id for t in tasks])
    cases = (
        await session.exec(
            select(Case.id)
            .join(CaseMember, col(CaseMember.case_id) == col(Case.id))
            .where(CaseMember.user_id == handover.outgoing_user_id, col(Case.status) != "closed")
        )
    ).all()
    items = [ScopeItem(LineKind.CASE, case_id, case_id) for case_id in cases]
    items += [
        ScopeItem(LineKind.TASK, t.id, parents[t.id].parent_id if t.id in parents else None) for t in tasks
    ]
    items += [ScopeItem(LineKind.POSITION, pid) for pid in dict.fromkeys(positions)]
    return items


async def scope_of(session: AsyncSession, handover: Handover) -> list[ScopeItem]:
    """Every record, responsibility and position the handover must account for."""
    if handover.kind == HandoverKind.ROTATION:
        return await rotation_scope(session, handover)
    # No date filter on records: whatever the outgoing agency holds when the inventory is
    # built (and again when it completes) is in scope, so a record created after the
    # cut-off but before completion cannot slip through. The cut-off is the day
    # responsibilities and tours pass to the receiver.
    outgoing = handover.outgoing_agency_id
    owned = (
        col(Record.owner_agency_id) == outgoing,
        col(Record.theatre_id) == handover.theatre_id,
    )
    items: list[ScopeItem] = []

    def add(kind: LineKind, record: Record, case_id: uuid.UUID | None) -> None:
        items.append(ScopeItem(kind, record.id, case_id, record.originator_agency_id, record.nohost))

    cases = await _records(
        session,
        select(Record)
        .join(Case, col(Case.id) == col(Record.id))
        .where(*owned, col(Case.lead_agency_id) == outgoing)
        .order_by(col(Record.created_at), col(Record.id)),
    )
    case_ids = [r.id for r in cases]
    for record in cases:
        add(LineKind.CASE, record, record.id)

    seen: set[uuid.UUID] = set(case_ids)
    for chunk in _chunks(case_ids):
        children = await _records(
            session,
            select(Record)
            .outerjoin(Task, col(Task.id) == col(Record.id))
            .where(
                among(session, col(Record.parent_id), chunk),
                or_(
                    col(Record.kind).in_([k.value for k in _CHILD_KINDS]),
                    col(Task.status).in_([s.value for s in OPEN_TASK]),
                ),
            )
            .order_by(col(Record.created_at), col(Record.id)),
        )
        for record in children:
            kind = _CHILD_KINDS.get(RecordKind(record.kind), LineKind.TASK)
            add(kind, record, record.parent_id)
            seen.add(record.id)
        linked = (
            await session.exec(
                select(Record, IntelCase.case_id)
                .join(IntelCase, col(IntelCase.intel_id) == col(Record.id))
                .where(among(session, col(IntelCase.case_id), chunk))
                .order_by(col(Record.created_at), col(Record.id))
            )
        ).all()
        for record, case_id in linked:
            if record.id not in seen:
                add(LineKind.INTEL_ITEM, record, case_id)
                seen.add(record.id)

    own_intel = await _records(
        session,
        select(Record).join(IntelItem, col(IntelItem.id) == col(Record.id)).where(*owned),
    )
    own_tasks = await _records(
        session,
        select(Record)
        .join(Task, col(Task.id) == col(Record.id))
        .where(*owned, col(Record.parent_id).is_(None), col(Task.status).in_([s.value for s in OPEN_TASK])),
    )
    for kind, records in ((LineKind.INTEL_ITEM, own_intel), (LineKind.TASK, own_tasks)):
        for record in records:
            if record.id not in seen:
                add(kind, record, None)
                seen.add(record.id)

    responsibilities = (
        await session.exec(
            select(Responsibility.id).where(
                Responsibility.agency_id == outgoing,
                Responsibility.theatre_id == handover.theatre_id,
                col(Responsibility.valid_from) <= handover.cut_off,
                or_(
                    col(Responsibility.valid_until).is_(None),
                    col(Responsibility.valid_until) >= handover.cut_off,
                ),
            )
        )
    ).all()
    items += [ScopeItem(LineKind.RESPONSIBILITY, rid) for rid in responsibilities]
    positions = (
        await session.exec(
            select(Position.id).where(
                Position.agency_id == outgoing,
                or_(col(Position.theatre_id).is_(None), Position.theatre_id == handover.theatre_id),
            )
        )
    ).all()
    items += [ScopeItem(LineKind.POSITION, pid) for pid in positions]
    return items


def _chunks(ids: list[uuid.UUID], size: int = 500) -> Iterable[list[uuid.UUID]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


# --- lines ------------------------------------------------------------------------


async def existing_subjects(session: AsyncSession, handover_id: uuid.UUID) -> set[tuple[str, uuid.UUID]]:
    rows = (
        await session.exec(
            select(HandoverLine.kind, HandoverLine.subject_id).where(
                HandoverLine.handover_id == handover_id, col(HandoverLine.subject_id).is_not(None)
            )
        )
    ).all()
    return {(kind, subject) for kind, subject in rows if subject is not None}


async def newly_nohost_lines(session: AsyncSession, handover_id: uuid.UUID) -> list[HandoverLine]:
    """Lines still shown to the receiver whose record is NOHOST now."""
    statement = (
        select(HandoverLine)
        .join(Record, col(Record.id) == col(HandoverLine.subject_id))
        .where(
            HandoverLine.handover_id == handover_id,
            col(HandoverLine.hidden_from_incoming).is_(False),
            col(Record.nohost).is_(True),
        )
        .order_by(col(HandoverLine.seq))
    )
    return list((await session.exec(statement)).all())


async def has_checklist(session: AsyncSession, handover_id: uuid.UUID) -> bool:
    statement = select(HandoverLine.id).where(
        HandoverLine.handover_id == handover_id, HandoverLine.kind == LineKind.CHECKLIST
    )
    return (await session.exec(statement)).first() is not None


async def last_seq(session: AsyncSession, handover_id: uuid.UUID) -> int:
    statement = select(func.max(HandoverLine.seq)).where(HandoverLine.handover_id == handover_id)
    return (await session.exec(statement)).one() or 0


def lines_statement(
    handover_id: uuid.UUID,
    *,
    include_hidden: bool,
    kind: LineKind | None = None,
    disposition: Disposition | None = None,
    consent_status: ConsentStatus | None = None,
    case_id: uuid.UUID | None = None,
    line_ids: list[uuid.UUID] | None = None,
) -> SelectOfScalar[HandoverLine]:
    statement = select(HandoverLine).where(HandoverLine.handover_id == handover_id)
    if not include_hidden:
        statement = statement.where(col(HandoverLine.hidden_from_incoming).is_(False))
    if kind is not None:
        statement = statement.where(HandoverLine.kind == kind)
    if disposition is not None:
        statement = statement.where(HandoverLine.disposition == disposition)
    if consent_status is not None:
        statement = statement.where(HandoverLine.consent_status == consent_status)
    if case_id is not None:
        statement = statement.where(HandoverLine.case_id == case_id)
    if line_ids is not None:
        statement = statement.where(col(HandoverLine.id).in_(line_ids))
    return statement.order_by(col(HandoverLine.seq))


def filtered_lines(
    handover_id: uuid.UUID, *, include_hidden: bool, filters: LineFilter
) -> SelectOfScalar[HandoverLine]:
    return lines_statement(
        handover_id,
        include_hidden=include_hidden,
        kind=filters.kind,
        disposition=filters.disposition,
        consent_status=filters.consent_status,
        case_id=filters.case_id,
        line_ids=filters.line_ids,
    )


# Lines whose subject is a shareable record: a reader who may not read it sees a stub.
RECORD_LINE_KINDS = frozenset(
    {LineKind.CASE, LineKind.EVIDENCE, LineKind.NOTE, LineKind.INTEL_ITEM, LineKind.TASK}
)


def as_seen_by(
    statement: SelectOfScalar[HandoverLine], filters: LineFilter, principal: Principal, now: datetime
) -> SelectOfScalar[HandoverLine]:
    """``statement`` narrowed so that a filter tells the reader nothing a stub hides: a
    case they may not read selects no line (as a missing one would), and a record kind
    selects only lines whose subject they may read (a stub does not say its kind)."""
    if filters.case_id is not None:
        statement = statement.where(names_readable(principal, filters.case_id, now=now))
    if filters.kind in RECORD_LINE_KINDS:
        statement = statement.where(names_readable(principal, col(HandoverLine.subject_id), now=now))
    return statement


async def lines(
    session: AsyncSession,
    statement: SelectOfScalar[HandoverLine],
    *,
    after: int | None = None,
    limit: int | None = None,
) -> list[HandoverLine]:
    if after is not None:
        statement = statement.where(col(HandoverLine.seq) > after)
    if limit is not None:
        statement = statement.limit(limit)
    return list((await session.exec(statement)).all())


async def count_lines(session: AsyncSession, statement: SelectOfScalar[HandoverLine]) -> int:
    counted = select(func.count()).select_from(statement.order_by(None).subquery())
    return int((await session.exec(counted)).one())


async def counts_by_disposition(
    session: AsyncSession, handover_id: uuid.UUID, *, include_hidden: bool
) -> dict[str, int]:
    statement = select(HandoverLine.disposition, func.count()).where(HandoverLine.handover_id == handover_id)
    if not include_hidden:
        statement = statement.where(col(HandoverLine.hidden_from_incoming).is_(False))
    rows = (await session.exec(statement.group_by(HandoverLine.disposition))).all()
    return {str(d): int(n) for d, n in rows}


async def pending_consents(session: AsyncSession, handover_id: uuid.UUID) -> int:
    statement = select(func.count()).where(
        HandoverLine.handover_id == handover_id, HandoverLine.consent_status == ConsentStatus.PENDING
    )
    return int((await session.exec(statement)).one())


def consent_requests_to(agency_id: uuid.UUID, status: ConsentStatus | None) -> Select[HandoverLine, Handover]:
    """Lines waiting on (or answered by) the agency's consent, with their handovers, unordered."""
    statement = (
        select(HandoverLine, Handover)
        .join(Handover, col(Handover.id) == col(HandoverLine.handover_id))
        .where(HandoverLine.consent_agency_id == agency_id)
    )
    if status is not None:
        statement = statement.where(HandoverLine.consent_status == status)
    return statement


async def consent_requests(
    session: AsyncSession, agency_id: uuid.UUID, status: ConsentStatus | None
) -> list[tuple[HandoverLine, Handover]]:
    statement = consent_requests_to(agency_id, status)
    rows = (await session.exec(statement.order_by(col(HandoverLine.created_at), col(HandoverLine.seq)))).all()
    return [(line, handover) for line, handover in rows]


async def checklist_template(
    session: AsyncSession, agency_id: uuid.UUID | None
) -> list[ChecklistTemplateItem]:
    """The agency's own checklist if it has one, else the installation default."""
    for owner in (agency_id, None):
        statement = select(ChecklistTemplateItem).where(ChecklistTemplateItem.agency_id == owner)
        rows = list((await session.exec(statement.order_by(col(ChecklistTemplateItem.sort_order)))).all())
        if rows or owner is None:
            return rows
    return []


# --- labels -----------------------------------------------------------------------


async def record_labels(session: AsyncSession, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Titles of records, for lines whose reader may read them (the caller checks)."""
    wanted = list(set(ids))
    labels: dict[uuid.UUID, str] = {}
    if not wanted:
        return labels
    for chunk in _chunks(wanted):
        for case_id, reference, title in (
            await session.exec(
                select(Case.id, Case.reference, Case.title).where(among(session, col(Case.id), chunk))
            )
        ).all():
            labels[case_id] = f"{reference} — {title}"
        for model in (IntelItem, Evidence, Task):
            rows = (
                await session.exec(select(model.id, model.title).where(among(session, col(model.id), chunk)))
            ).all()
            labels.update(dict(rows))
        for note_id, body in (
            await session.exec(select(Note.id, Note.body).where(among(session, col(Note.id), chunk)))
        ).all():
            labels[note_id] = body if len(body) <= 80 else body[:79] + "…"
    return labels


async def entities_linked_to_moved(
    session: AsyncSession, handover_id: uuid.UUID, owner_agency_id: uuid.UUID
) -> list[Record]:
    """Entities of ``owner_agency_id`` linked to records on the handover's accepted lines."""
    moved = select(HandoverLine.subject_id).where(
        HandoverLine.handover_id == handover_id,
        HandoverLine.disposition == Disposition.ACCEPTED,
        col(HandoverLine.hidden_from_incoming).is_(False),
        col(HandoverLine.subject_id).is_not(None),
    )
    linked = select(RecordEntity.entity_id).where(col(RecordEntity.record_id).in_(moved))
    statement = select(Record).where(
        col(Record.id).in_(linked),
        Record.kind == RecordKind.ENTITY,
        Record.owner_agency_id == owner_agency_id,
    )
    return list((await session.exec(statement.order_by(col(Record.id)))).all())


async def user_agencies(session: AsyncSession, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, uuid.UUID | None]:
    wanted = list(set(ids))
    if not wanted:
        return {}
    rows = (
        await session.exec(select(User.id, User.agency_id).where(among(session, col(User.id), wanted)))
    ).all()
    return dict(rows)


async def contact_position(session: AsyncSession, agency_id: uuid.UUID) -> Position | None:
    """The position another agency should ask: its designated contact, if any."""
    statement = (
        select(Position)
        .where(Position.agency_id == agency_id)
        .order_by(col(Position.deconfliction_contact).desc(), col(Position.created_at))
    )
    return (await session.exec(statement)).first()

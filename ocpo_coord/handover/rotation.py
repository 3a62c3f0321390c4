"""Rotation: when a person's tour ends, what they leave behind, and the handover to a successor.

A rotation is a handover inside one agency, from one person to the next. It uses the
same inventory, dispositions, sign-off and completion guard as a mission handover;
only the scope (the person's open tasks, case memberships and positions) and the
effect of completion (reassignment, not a change of owner) differ.
"""

from datetime import timedelta

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.audit.reads import ReadWay, note_reads
from ocpo_coord.auth.directory import theatre_by_code
from ocpo_coord.context import Actor
from ocpo_coord.exceptions import InvalidInput, NotFound
from ocpo_coord.handover import repository
from ocpo_coord.handover.policy import may_open_handover
from ocpo_coord.handover.schemas import (
    HandoverPublic,
    MemberCasePublic,
    OpenTaskPublic,
    RotationCreate,
    TourEndingPublic,
    TourEndReport,
    TourPublic,
)
from ocpo_coord.handover.service import audit_change, new_reference
from ocpo_coord.models import Case, CaseMember, Handover, Position, Tour, User
from ocpo_coord.models.enums import HandoverKind, Role
from ocpo_coord.visibility.policy import Decision, enforce
from ocpo_coord.visibility.repository import agency_codes, readable_record_ids, records_by_id


def may_see_rotation(actor: Actor, user: User) -> Decision:
    principal = actor.principal
    if principal.user_id == user.id:
        return True
    if principal.agency_id != user.agency_id or not principal.has_role(Role.COORDINATOR, Role.AGENCY_ADMIN):
        return "user not found"
    return True


async def _user(session: AsyncSession, actor: Actor, login: str, field: str) -> User:
    user = (await session.exec(select(User).where(User.login == login))).first()
    if user is None or may_see_rotation(actor, user) is not True:
        raise NotFound("user", field=field)
    return user


async def tour_end_report(session: AsyncSession, *, actor: Actor, login: str) -> TourEndReport:
    user = await _user(session, actor, login, "login")
    tours = (
        await session.exec(
            select(Tour, Position)
            .join(Position, col(Position.id) == col(Tour.position_id))
            .where(Tour.user_id == user.id)
            .order_by(col(Tour.start_date))
        )
    ).all()
    position_ids = [p.id for _, p in tours]
    tasks = (await session.exec(repository.open_tasks_of(user.id, position_ids))).all()
    cases = (
        await session.exec(
            select(Case)
            .join(CaseMember, col(CaseMember.case_id) == col(Case.id))
            .where(CaseMember.user_id == user.id)
        )
    ).all()
    readable = await readable_record_ids(
        session, actor.principal, actor.now, [t.id for t in tasks] + [c.id for c in cases]
    )
    codes = await agency_codes(session)
    open_cases = [c for c in cases if c.status != "closed"]
    listed = [t.id for t in tasks] + [c.id for c in open_cases]
    shown = [i for i in listed if i in readable]
    note_reads(session, actor, ReadWay.LIST, (await records_by_id(session, shown)).values())
    return TourEndReport(
        login=user.login,
        display_name=user.display_name,
        agency=codes.get(user.agency_id) if user.agency_id else None,
        tours=[
            TourPublic(position_id=p.id, position=p.title, start_date=t.start_date, end_date=t.end_date)
            for t, p in tours
        ],
        open_tasks=[
            OpenTaskPublic(
                id=t.id,
                title=t.title,
                status=t.status,
                due_date=t.due_date,
                via_position=t.assignee_user_id != user.id,
            )
            for t in tasks
            if t.id in readable
        ],
        cases=[
            MemberCasePublic(id=c.id, reference=c.reference, title=c.title, status=c.status)
            for c in open_cases
            if c.id in readable
        ],
    )


async def tours_ending(session: AsyncSession, *, actor: Actor, within_days: int) -> list[TourEndingPublic]:
    """People of the reader's agency whose tour ends within the coming days."""
    principal = actor.principal
    if not principal.has_role(Role.COORDINATOR, Role.AGENCY_ADMIN) or principal.agency_id is None:
        return []
    today = actor.now.date()
    rows = (
        await session.exec(
            select(Tour, Position, User)
            .join(Position, col(Position.id) == col(Tour.position_id))
            .join(User, col(User.id) == col(Tour.user_id))
            .where(
                Position.agency_id == principal.agency_id,
                col(Tour.end_date).is_not(None),
                col(Tour.end_date) >= today,
                col(Tour.end_date) <= today + timedelta(days=within_days),
            )
            .order_by(col(Tour.end_date))
        )
    ).all()
    return [
        TourEndingPublic(login=u.login, display_name=u.display_name, position=p.title, end_date=t.end_date)
        for t, p, u in rows
        if t.end_date is not None
    ]


async def create_rotation(session: AsyncSession, *, actor: Actor, data: RotationCreate) -> HandoverPublic:
    principal = actor.principal
    enforce(may_open_handover(principal))
    assert principal.agency_id is not None
    outgoing = await _user(session, actor, data.outgoing_user, "outgoing_user")
    incoming = await _user(session, actor, data.incoming_user, "incoming_user")
    if outgoing.id == incoming.id:
        raise InvalidInput("the successor must be another person", field="incoming_user")
    theatre = await theatre_by_code(session, data.theatre)
    if theatre is None or theatre.id not in principal.theatre_ids:
        raise InvalidInput(f"your agency is not deployed in a theatre {data.theatre}", field="theatre")
    handover = Handover(
        reference=await new_reference(session, f"RO-{principal.agency_code}-{data.cut_off.year}-"),
        kind=HandoverKind.ROTATION,
        title=data.title or f"Rotation: {outgoing.display_name} to {incoming.display_name}",
        outgoing_agency_id=principal.agency_id,
        incoming_agency_id=principal.agency_id,
        outgoing_user_id=outgoing.id,
        incoming_user_id=incoming.id,
        theatre_id=theatre.id,
        cut_off=data.cut_off,
        created_by_id=principal.user_id,
        created_at=actor.now,
    )
    session.add(handover)
    await session.flush()
    return await audit_change(session, actor, "create", handover, None)

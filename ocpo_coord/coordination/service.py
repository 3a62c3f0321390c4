"""The responsibility matrix of a theatre, and transfers of responsibility between agencies."""

import uuid
from datetime import date, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.audit.service import record_event
from ocpo_coord.auth.directory import theatre_by_code, theatre_codes, user_logins
from ocpo_coord.context import Actor
from ocpo_coord.coordination import matrix, repository
from ocpo_coord.coordination.policy import may_answer, may_offer, may_see_theatre, may_withdraw
from ocpo_coord.coordination.schemas import (
    Gap,
    MatrixCell,
    MatrixFilter,
    MatrixRow,
    Overlap,
    ResponsibilityMatrix,
    ResponsibilityPublic,
    TransferCreate,
    TransferDecision,
    TransferFilter,
    TransferPublic,
)
from ocpo_coord.db.queries import rows_by_id
from ocpo_coord.exceptions import Conflict, InvalidInput, NotFound
from ocpo_coord.models import Responsibility, ResponsibilityTransfer, Theatre
from ocpo_coord.models.enums import (
    ACTIVITY_AXES,
    ActivityArea,
    NotificationKind,
    ResponsibilityRole,
    TransferStatus,
)
from ocpo_coord.notification import service as notifications
from ocpo_coord.visibility.pagination import Page, empty_page, entity_page
from ocpo_coord.visibility.policy import enforce
from ocpo_coord.visibility.repository import agency_codes, agency_ids_by_code

ROLE_ORDER = list(ResponsibilityRole)


async def _theatre(session: AsyncSession, actor: Actor, code: str) -> Theatre:
    theatre = await theatre_by_code(session, code)
    if theatre is None:
        raise InvalidInput(f"unknown theatre code: {code}", field="theatre")
    enforce(may_see_theatre(actor.principal, theatre.id))
    return theatre


def _public(
    r: Responsibility, codes: dict[uuid.UUID, str], theatres: dict[uuid.UUID, str]
) -> ResponsibilityPublic:
    return ResponsibilityPublic(
        id=r.id,
        theatre=theatres.get(r.theatre_id, "?"),
        region=r.region,
        activity_area=r.activity_area,
        agency=codes.get(r.agency_id, "?"),
        role=r.role,
        valid_from=r.valid_from,
        valid_until=r.valid_until,
        mandate_basis=r.mandate_basis,
    )


def _rows(active: list[Responsibility], codes: dict[uuid.UUID, str]) -> list[MatrixRow]:
    rows = []
    for area in ActivityArea:
        crime, action = ACTIVITY_AXES[area]
        mine = [r for r in active if r.activity_area == area]
        by_agency: dict[str, list[Responsibility]] = {}
        for r in mine:
            by_agency.setdefault(codes.get(r.agency_id, "?"), []).append(r)
        cells = [
            MatrixCell(
                agency=agency,
                roles=sorted({ResponsibilityRole(r.role) for r in rs}, key=ROLE_ORDER.index),
                responsibility_ids=[r.id for r in rs],
            )
            for agency, rs in sorted(by_agency.items())
        ]
        leads = sorted({codes.get(r.agency_id, "?") for r in mine if r.role == ResponsibilityRole.LEAD})
        rows.append(
            MatrixRow(activity_area=area, crime_axis=crime, action_axis=action, cells=cells, leads=leads)
        )
    return rows


async def responsibility_matrix(
    session: AsyncSession, *, actor: Actor, filters: MatrixFilter
) -> ResponsibilityMatrix:
    theatre = await _theatre(session, actor, filters.theatre)
    if filters.region is not None and filters.region not in theatre.regions:
        raise InvalidInput(f"is not a region of {theatre.code}: {', '.join(theatre.regions)}", field="region")
    day = filters.on or actor.now.date()
    found = await repository.in_theatre(session, theatre.id, filters.region)
    codes = await agency_codes(session)
    theatres = await theatre_codes(session)
    active = [r for r in found if matrix.active_on(r, day)]
    overlaps = [
        Overlap(
            activity_area=o.first.activity_area,
            region=o.region,
            agencies=[codes.get(o.first.agency_id, "?"), codes.get(o.second.agency_id, "?")],
            responsibility_ids=[o.first.id, o.second.id],
            overlap_from=o.start,
            overlap_until=o.end,
        )
        for o in matrix.overlaps(found)
    ]
    gaps = [
        Gap(
            activity_area=g.area,
            crime_axis=ACTIVITY_AXES[g.area][0],
            action_axis=ACTIVITY_AXES[g.area][1],
            regional_leads=sorted({codes.get(r.agency_id, "?") for r in g.regional_leads}),
        )
        for g in matrix.gaps(found, day, filters.region)
    ]
    deployed = await repository.deployed_agencies(session, theatre.id)
    return ResponsibilityMatrix(
        theatre=theatre.code,
        region=filters.region,
        on=day,
        agencies=sorted(codes.get(a, "?") for a in deployed),
        rows=_rows(active, codes),
        responsibilities=[_public(r, codes, theatres) for r in found],
        overlaps=overlaps,
        gaps=gaps,
    )


async def transfers_public(
    session: AsyncSession, transfers: list[ResponsibilityTransfer]
) -> list[TransferPublic]:
    codes = await agency_codes(session)
    theatres = await theatre_codes(session)
    resp = await rows_by_id(session, Responsibility, [t.responsibility_id for t in transfers])
    logins = await user_logins(
        session,
        {t.offered_by_id for t in transfers} | {t.decided_by_id for t in transfers if t.decided_by_id},
    )
    result = []
    for t in transfers:
        r = resp[t.responsibility_id]
        result.append(
            TransferPublic(
                id=t.id,
                responsibility_id=t.responsibility_id,
                theatre=theatres.get(r.theatre_id, "?"),
                region=r.region,
                activity_area=r.activity_area,
                role=r.role,
                from_agency=codes.get(t.from_agency_id, "?"),
                to_agency=codes.get(t.to_agency_id, "?"),
                effective_date=t.effective_date,
                status=t.status,
                note=t.note,
                offered_by=logins.get(t.offered_by_id, "?"),
                offered_at=t.offered_at,
                decided_by=logins.get(t.decided_by_id) if t.decided_by_id else None,
                decided_at=t.decided_at,
                decision_note=t.decision_note,
                new_responsibility_id=t.new_responsibility_id,
            )
        )
    return result


async def _one(session: AsyncSession, transfer: ResponsibilityTransfer) -> TransferPublic:
    return (await transfers_public(session, [transfer]))[0]


def _check_effective(r: Responsibility, transfer_date: date, field: str = "effective_date") -> None:
    if transfer_date <= r.valid_from:
        raise InvalidInput(
            f"must be after the responsibility starts ({r.valid_from.isoformat()}): "
            "the old responsibility ends the day before",
            field=field,
        )
    if r.valid_until is not None and transfer_date > r.valid_until:
        raise InvalidInput(
            f"must be on or before the responsibility ends ({r.valid_until.isoformat()})", field=field
        )


async def offer_transfer(session: AsyncSession, *, actor: Actor, data: TransferCreate) -> TransferPublic:
    principal = actor.principal
    responsibility = await repository.get_responsibility(session, data.responsibility_id)
    if responsibility is None or may_see_theatre(principal, responsibility.theatre_id) is not True:
        raise NotFound("responsibility", field="responsibility_id")
    enforce(may_offer(principal, responsibility))
    to_agency = (await agency_ids_by_code(session, [data.to_agency])).get(data.to_agency.upper())
    if to_agency is None:
        raise InvalidInput(f"unknown agency code: {data.to_agency}", field="to_agency")
    if to_agency == responsibility.agency_id:
        raise InvalidInput("is the agency that already holds the responsibility", field="to_agency")
    if to_agency not in await repository.deployed_agencies(session, responsibility.theatre_id):
        raise InvalidInput("is not deployed in the responsibility's theatre", field="to_agency")
    _check_effective(responsibility, data.effective_date)
    if await repository.open_offer(session, responsibility.id) is not None:
        raise Conflict("this responsibility already has an open transfer offer", field="responsibility_id")
    assert principal.agency_id is not None
    transfer = ResponsibilityTransfer(
        responsibility_id=responsibility.id,
        from_agency_id=principal.agency_id,
        to_agency_id=to_agency,
        effective_date=data.effective_date,
        note=data.note,
        offered_by_id=principal.user_id,
        offered_at=actor.now,
    )
    session.add(transfer)
    await session.flush()
    public = await _one(session, transfer)
    await record_event(
        session, actor=actor, action="responsibility_transfer.offer", after=public.model_dump(mode="json")
    )
    position = await notifications.designated_position(session, to_agency, responsibility.theatre_id)
    await notifications.notify(
        session,
        recipients=await notifications.agency_recipients(session, to_agency, position, actor.now),
        kind=NotificationKind.RESPONSIBILITY_TRANSFER,
        subject_id=transfer.id,
        title=f"{public.from_agency} offers {public.activity_area} ({public.role}) in {public.theatre}",
        body=f"From {public.effective_date.isoformat()}. Accept or decline.",
        now=actor.now,
    )
    return public


async def _visible_transfer(
    session: AsyncSession, actor: Actor, transfer_id: uuid.UUID
) -> ResponsibilityTransfer:
    transfer = await repository.get_transfer(session, transfer_id)
    agency = actor.principal.agency_id
    if transfer is None or agency is None or agency not in (transfer.from_agency_id, transfer.to_agency_id):
        raise NotFound("transfer")
    return transfer


def _require_offered(transfer: ResponsibilityTransfer) -> None:
    if transfer.status != TransferStatus.OFFERED:
        raise Conflict(
            f"the transfer is already {transfer.status}; only an open offer can change", field="id"
        )


async def _decide(
    session: AsyncSession,
    actor: Actor,
    transfer: ResponsibilityTransfer,
    status: TransferStatus,
    note: str,
) -> TransferPublic:
    before = (await _one(session, transfer)).model_dump(mode="json")
    transfer.status = status
    transfer.decided_by_id = actor.principal.user_id
    transfer.decided_at = actor.now
    transfer.decision_note = note
    await session.flush()
    public = await _one(session, transfer)
    await record_event(
        session,
        actor=actor,
        action=f"responsibility_transfer.{status.value}",
        before=before,
        after=public.model_dump(mode="json"),
    )
    if status is not TransferStatus.WITHDRAWN:
        await notifications.notify(
            session,
            recipients=[transfer.offered_by_id],
            kind=NotificationKind.RESPONSIBILITY_TRANSFER,
            subject_id=transfer.id,
            title=f"{public.to_agency} {status.value} the transfer of {public.activity_area} in {public.theatre}",
            now=actor.now,
        )
    return public


async def accept_transfer(
    session: AsyncSession, *, actor: Actor, transfer_id: uuid.UUID, decision: TransferDecision
) -> TransferPublic:
    """The old responsibility ends the day before the effective date; the new one starts on it."""
    transfer = await _visible_transfer(session, actor, transfer_id)
    enforce(may_answer(actor.principal, transfer))
    _require_offered(transfer)
    old = await repository.get_responsibility(session, transfer.responsibility_id)
    assert old is not None
    try:
        _check_effective(old, transfer.effective_date, field="id")
    except InvalidInput as exc:
        raise Conflict(
            f"the responsibility changed since the offer: effective date {exc.message}", field="id"
        ) from exc
    codes = await agency_codes(session)
    new = Responsibility(
        theatre_id=old.theatre_id,
        region=old.region,
        activity_area=old.activity_area,
        agency_id=transfer.to_agency_id,
        role=old.role,
        valid_from=transfer.effective_date,
        valid_until=old.valid_until,
        mandate_basis=decision.mandate_basis
        or f"Transferred from {codes.get(old.agency_id, '?')} ({old.mandate_basis})"[:300],
        created_at=actor.now,
    )
    theatres = await theatre_codes(session)
    old_before = _public(old, codes, theatres).model_dump(mode="json")
    old.valid_until = transfer.effective_date - timedelta(days=1)
    session.add(new)
    await session.flush()
    transfer.new_responsibility_id = new.id
    await record_event(
        session,
        actor=actor,
        action="responsibility.transfer",
        before={"ended": old_before},
        after={
            "ended": _public(old, codes, theatres).model_dump(mode="json"),
            "started": _public(new, codes, theatres).model_dump(mode="json"),
            "transfer_id": transfer.id,
        },
    )
    return await _decide(session, actor, transfer, TransferStatus.ACCEPTED, decision.note)


async def decline_transfer(
    session: AsyncSession, *, actor: Actor, transfer_id: uuid.UUID, decision: TransferDecision
) -> TransferPublic:
    transfer = await _visible_transfer(session, actor, transfer_id)
    enforce(may_answer(actor.principal, transfer))
    _require_offered(transfer)
    return await _decide(session, actor, transfer, TransferStatus.DECLINED, decision.note)


async def withdraw_transfer(
    session: AsyncSession, *, actor: Actor, transfer_id: uuid.UUID, decision: TransferDecision
) -> TransferPublic:
    transfer = await _visible_transfer(session, actor, transfer_id)
    enforce(may_withdraw(actor.principal, transfer))
    _require_offered(transfer)
    return await _decide(session, actor, transfer, TransferStatus.WITHDRAWN, decision.note)


async def list_transfers(
    session: AsyncSession, *, actor: Actor, filters: TransferFilter
) -> list[TransferPublic]:
    """Transfers your agency offered or was offered."""
    agency = actor.principal.agency_id
    if agency is None or not actor.principal.reads_agency_data:
        return []
    return await transfers_public(
        session, await repository.transfers_of_agency(session, agency, filters.status)
    )


async def page_transfers(
    session: AsyncSession, *, actor: Actor, filters: TransferFilter, first: int, after: str | None
) -> Page[TransferPublic]:
    """The same transfers as ``list_transfers``, newest offer first, a page at a time."""
    agency = actor.principal.agency_id
    if agency is None or not actor.principal.reads_agency_data:
        return empty_page(first)

    return await entity_page(
        session,
        repository.transfers_statement(agency, filters.status),
        first=first,
        after=after,
        order=repository.TRANSFER_ORDER,
        convert=lambda transfers: transfers_public(session, transfers),
    )

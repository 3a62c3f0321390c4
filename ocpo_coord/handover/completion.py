"""Completing a handover: the guard, then every accepted line moves, in one transaction.

Nothing is copied and nothing is deleted: accepted records keep their id, history and
originator, and gain a provenance line saying how they changed hands. Third-party
material is not the outgoing agency's to give, so it is released to the receiver
(with the originator's consent, which the guard requires) rather than re-owned.
"""

import uuid
from datetime import timedelta

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.audit.service import record_event
from ocpo_coord.auth.directory import user_logins
from ocpo_coord.auth.principal import load_principal
from ocpo_coord.context import Actor
from ocpo_coord.exceptions import Conflict
from ocpo_coord.handover import repository
from ocpo_coord.handover.policy import Side, may_sign
from ocpo_coord.handover.schemas import HandoverPublic
from ocpo_coord.handover.service import (
    audit_change,
    open_problems,
    require_status,
    scope_problems,
    to_public,
    unlined_records,
    visible,
)
from ocpo_coord.models import (
    Agency,
    Case,
    CaseMember,
    CustodyEvent,
    Evidence,
    Handover,
    HandoverLine,
    Position,
    Record,
    RecordRelease,
    Responsibility,
    Task,
    Tour,
)
from ocpo_coord.models.base import column_values
from ocpo_coord.models.enums import (
    CaseStatus,
    ConsentStatus,
    DeclineOutcome,
    Disposition,
    HandoverKind,
    HandoverStatus,
    LineKind,
    TaskStatus,
)
from ocpo_coord.records.service import record_snapshot, touch
from ocpo_coord.visibility.policy import Decision, enforce
from ocpo_coord.visibility.repository import (
    agency_codes,
    readable_record_ids,
    records_by_id,
    released_to_agency,
)


async def dropped_records(session: AsyncSession, handover: Handover) -> int:
    """Subjects in scope today that have no line: must be zero to complete."""
    return await unlined_records(session, handover)


async def complete(session: AsyncSession, *, actor: Actor, handover_id: uuid.UUID) -> HandoverPublic:
    handover = await visible(session, actor, handover_id, lock=True)
    enforce(may_complete(actor, handover))
    require_status(handover, HandoverStatus.REVIEWED, doing="complete")
    problems = await open_problems(session, handover)
    missing = [
        name
        for name, signed in (
            ("outgoing", handover.outgoing_signed_by_id),
            ("incoming", handover.incoming_signed_by_id),
        )
        if signed is None
    ]
    if missing:
        problems.append("no sign-off yet from the " + " and ".join(missing) + " agency")
    problems += await scope_problems(session, handover)
    if problems:
        raise Conflict("cannot complete: " + "; ".join(problems), field="status")
    before = await to_public(session, handover, side=Side.OUTGOING)
    await Transfer(session, actor, handover).run()
    if handover.kind != HandoverKind.ROTATION and (
        unreceivable := await receiver_problems(session, actor, handover)
    ):
        # Raised after the transfer, in its transaction: nothing of it stays.
        raise Conflict("cannot complete: " + "; ".join(unreceivable), field="lines")
    handover.status = HandoverStatus.COMPLETED
    handover.completed_at = actor.now
    handover.dropped_count = 0
    return await audit_change(session, actor, "complete", handover, before)


def _seqs(lines: list[HandoverLine]) -> str:
    shown = ", ".join(str(line.seq) for line in lines[:10])
    return shown + (f" and {len(lines) - 10} more" if len(lines) > 10 else "")


async def receiver_problems(session: AsyncSession, actor: Actor, handover: Handover) -> list[str]:
    """What would make the accepted records unusable by the receiver, checked on the
    transferred state: each must be readable by the administrator who signed for the
    receiving agency (who exports the package for its installation), and each record of a
    restricted case must travel with that case (an import refuses it otherwise)."""
    statement = repository.lines_statement(
        handover.id, include_hidden=False, disposition=Disposition.ACCEPTED
    )
    lines = [
        line
        for line in await repository.lines(session, statement)
        if line.subject_id is not None and line.kind in _RECORD_LINE_KINDS
    ]
    if not lines or handover.incoming_signed_by_id is None:
        return []
    moving = {line.subject_id for line in lines if line.subject_id is not None}
    signer = (await user_logins(session, {handover.incoming_signed_by_id})).get(
        handover.incoming_signed_by_id
    )
    problems = []
    if signer is not None:
        principal = await load_principal(session, signer)
        readable = await readable_record_ids(session, principal, actor.now, moving)
        unreadable = [line for line in lines if line.subject_id not in readable]
        if unreadable:
            problems.append(
                f"{len(unreadable)} accepted records would not be readable by {signer}, who signed "
                f"for the receiving agency (lines {_seqs(unreadable)}); decline them or give "
                "the receiver access first"
            )
    records = await records_by_id(session, moving)
    split = [
        line
        for line in lines
        if (restricted := records[line.subject_id].restricted_case_id if line.subject_id in records else None)
        is not None
        and restricted not in moving
    ]
    if split:
        problems.append(
            f"{len(split)} accepted records belong to a restricted case that does not move with "
            f"them (lines {_seqs(split)}); accept the case too, or decline them"
        )
    return problems


def may_complete(actor: Actor, handover: Handover) -> Decision:
    outgoing = may_sign(actor.principal, handover, Side.OUTGOING)
    return outgoing if outgoing is True else may_sign(actor.principal, handover, Side.INCOMING)


class Transfer:
    """Applies every line's disposition to its subject."""

    def __init__(self, session: AsyncSession, actor: Actor, handover: Handover) -> None:
        self.session = session
        self.actor = actor
        self.handover = handover
        self.codes: dict[uuid.UUID, str] = {}
        # Records the receiver already holds a release of: one query for the handover.
        self.released: set[uuid.UUID] = set()

    @property
    def note(self) -> str:
        h = self.handover
        return (
            f"transferred from {self.codes.get(h.outgoing_agency_id, '?')} to "
            f"{self.codes.get(h.incoming_agency_id, '?')} under handover {h.reference} "
            f"on {self.actor.now.date().isoformat()}"
        )

    async def run(self) -> None:
        self.codes = await agency_codes(self.session)
        statement = repository.lines_statement(self.handover.id, include_hidden=True)
        lines = await repository.lines(self.session, statement)
        records = await records_by_id(
            self.session, [ln.subject_id for ln in lines if ln.subject_id and ln.kind not in _NON_RECORDS]
        )
        self.released = await released_to_agency(self.session, records, self.handover.incoming_agency_id)
        for line in lines:
            if line.subject_id is None:
                continue
            kind = LineKind(line.kind)
            if kind is LineKind.RESPONSIBILITY:
                if line.disposition == Disposition.ACCEPTED:
                    await self._responsibility(line)
            elif kind is LineKind.POSITION:
                if line.disposition == Disposition.ACCEPTED:
                    await self._position(line)
            elif line.subject_id in records:
                await self._record(line, records[line.subject_id])
        await self._linked_entities()

    async def _linked_entities(self) -> None:
        """The persons, vehicles, phones... linked to the records that moved go with them:
        released to the receiver (the giver keeps them for what it retains), so that its
        cases keep their entities and their selectors, in its package too. Material of a
        third party (its consent is not the giver's to give) and NOHOST material bound for
        a host-nation receiver stay."""
        h = self.handover
        if h.kind == HandoverKind.ROTATION:
            return  # inside one agency: nothing to release
        incoming = await self.session.get(Agency, h.incoming_agency_id)
        host_nation = bool(incoming and incoming.host_nation)
        entities = await repository.entities_linked_to_moved(self.session, h.id, h.outgoing_agency_id)
        parties = (h.outgoing_agency_id, h.incoming_agency_id)
        going = [e for e in entities if e.originator_agency_id in parties and not (e.nohost and host_nation)]
        already = await released_to_agency(self.session, [e.id for e in going], h.incoming_agency_id)
        for entity in going:
            if entity.id in already:
                continue
            self.session.add(RecordRelease(record_id=entity.id, agency_id=h.incoming_agency_id))
            self._provenance(
                entity,
                f"released to {self.codes.get(h.incoming_agency_id, '?')} with the records it is "
                f"linked to under handover {h.reference}",
            )
            touch(entity, self.actor)
        if going:
            await self.session.flush()
            await record_event(
                self.session,
                actor=self.actor,
                action="handover.entities_released",
                record_kind="entity",
                record_ids=[e.id for e in going if e.id not in already],
                detail=f"handover {h.reference}",
            )

    async def _record(self, line: HandoverLine, record: Record) -> None:
        h = self.handover
        before = record_snapshot(record)
        if h.kind == HandoverKind.ROTATION:
            await self._reassign(line, record)
            return
        if line.disposition == Disposition.ACCEPTED:
            if record.owner_agency_id == h.outgoing_agency_id:
                record.owner_agency_id = h.incoming_agency_id
                record.custodian_agency_id = h.incoming_agency_id
                self._provenance(record, self.note)
                await self._domain_transfer(line, record)
            elif record.owner_agency_id == h.incoming_agency_id:
                # The receiver's own record (its note on a case that moves): nothing changes
                # hands, and its provenance says only that the handover listed it.
                self._provenance(
                    record,
                    f"listed under handover {h.reference}; already held by "
                    f"{self.codes.get(h.incoming_agency_id, '?')}, nothing changed hands",
                )
            else:
                # Third-party material: the originator consented to release, not to a new owner.
                # A record already released to the receiver keeps its one release.
                if record.id not in self.released:
                    self.session.add(RecordRelease(record_id=record.id, agency_id=h.incoming_agency_id))
                how = (
                    "with the originator's consent"
                    if line.consent_status == ConsentStatus.GRANTED
                    else "without a consent request (its originator is a party to the handover)"
                )
                self._provenance(
                    record,
                    f"released to {self.codes.get(h.incoming_agency_id, '?')} {how} under handover {h.reference}",
                )
        elif (
            line.disposition == Disposition.DECLINED
            and line.decline_outcome == DeclineOutcome.RETURNED_TO_ORIGINATOR
        ):
            record.owner_agency_id = record.originator_agency_id
            record.custodian_agency_id = record.originator_agency_id
            self._provenance(record, f"returned to its originator at handover {h.reference}")
        elif line.disposition == Disposition.CLOSED:
            if not await self._close(line, record):
                return
        else:
            return
        touch(record, self.actor)
        await self.session.flush()
        await record_event(
            self.session,
            actor=self.actor,
            action=f"handover.{line.disposition}",
            record_kind=record.kind,
            record_id=record.id,
            before=before,
            after=record_snapshot(record),
            detail=f"handover {h.reference}, line {line.seq}",
        )

    def _provenance(self, record: Record, text: str) -> None:
        record.provenance = f"{record.provenance}; {text}" if record.provenance else text

    async def _domain_transfer(self, line: HandoverLine, record: Record) -> None:
        h = self.handover
        kind = LineKind(line.kind)
        if kind is LineKind.CASE:
            case = await self.session.get(Case, record.id)
            if case is not None and case.lead_agency_id == h.outgoing_agency_id:
                case.lead_agency_id = h.incoming_agency_id
            if case is not None and case.restricted and h.incoming_signed_by_id is not None:
                # A restricted case is read by its named members only; without one at
                # the receiver, nobody there could open the case it now owns.
                member = await self.session.get(CaseMember, (case.id, h.incoming_signed_by_id))
                if member is None:
                    self.session.add(CaseMember(case_id=case.id, user_id=h.incoming_signed_by_id))
        elif kind is LineKind.TASK:
            task = await self.session.get(Task, record.id)
            if task is not None and task.lead_agency_id == h.outgoing_agency_id:
                task.lead_agency_id = h.incoming_agency_id
        elif kind is LineKind.EVIDENCE:
            evidence = await self.session.get(Evidence, record.id)
            if evidence is not None:
                self.session.add(
                    CustodyEvent(
                        evidence_id=evidence.id,
                        holder_agency_id=h.incoming_agency_id,
                        received_at=self.actor.now,
                        location=evidence.storage_location or "as recorded before the handover",
                        note=f"handed over under {h.reference}",
                    )
                )

    async def _close(self, line: HandoverLine, record: Record) -> bool:
        """A line closed before handover closes its case or task, if still open."""
        kind = LineKind(line.kind)
        if kind is LineKind.CASE:
            case = await self.session.get(Case, record.id)
            if case is not None and case.status != CaseStatus.CLOSED:
                case.status = CaseStatus.CLOSED
                return True
        if kind is LineKind.TASK:
            task = await self.session.get(Task, record.id)
            if task is not None and task.status not in (TaskStatus.DONE, TaskStatus.CANCELLED):
                task.status = TaskStatus.DONE
                return True
        return False

    async def _responsibility(self, line: HandoverLine) -> None:
        h = self.handover
        old = await self.session.get(Responsibility, line.subject_id)
        if old is None:
            return
        before = column_values(old)
        old.valid_until = h.cut_off
        successor = Responsibility(
            theatre_id=old.theatre_id,
            region=old.region,
            activity_area=old.activity_area,
            agency_id=h.incoming_agency_id,
            role=old.role,
            valid_from=h.cut_off + timedelta(days=1),
            valid_until=None,
            mandate_basis=f"handover {h.reference}; before: {old.mandate_basis}"[:300],
            created_at=self.actor.now,
        )
        self.session.add(successor)
        await self.session.flush()
        await record_event(
            self.session,
            actor=self.actor,
            action="handover.responsibility",
            record_kind="responsibility",
            record_id=old.id,
            before=before,
            after={"ended": column_values(old), "successor": column_values(successor)},
            detail=f"handover {h.reference}, line {line.seq}",
        )

    async def _reassign(self, line: HandoverLine, record: Record) -> None:
        """Rotation: the successor takes over the person's tasks and case memberships."""
        h = self.handover
        assert h.outgoing_user_id is not None
        assert h.incoming_user_id is not None
        kind = LineKind(line.kind)
        before: dict[str, object] = {}
        after: dict[str, object] = {}
        if line.disposition == Disposition.ACCEPTED and kind is LineKind.TASK:
            task = await self.session.get(Task, record.id)
            if task is None or task.assignee_user_id != h.outgoing_user_id:
                return  # assigned to a position: it follows the position's new holder
            before, after = (
                {"assignee_user_id": task.assignee_user_id},
                {"assignee_user_id": h.incoming_user_id},
            )
            task.assignee_user_id = h.incoming_user_id
            touch(record, self.actor)
        elif kind is LineKind.CASE and line.disposition in (Disposition.ACCEPTED, Disposition.CLOSED):
            leaving = await self.session.get(CaseMember, (record.id, h.outgoing_user_id))
            if leaving is not None:
                await self.session.delete(leaving)
            members: dict[str, object] = {"removed": h.outgoing_user_id}
            if (
                line.disposition == Disposition.ACCEPTED
                and await self.session.get(CaseMember, (record.id, h.incoming_user_id)) is None
            ):
                self.session.add(CaseMember(case_id=record.id, user_id=h.incoming_user_id))
                members["added"] = h.incoming_user_id
            after = members
        elif line.disposition == Disposition.CLOSED and kind is LineKind.TASK:
            if not await self._close(line, record):
                return
            touch(record, self.actor)
            after = {"status": "done"}
        else:
            return
        await self.session.flush()
        await record_event(
            self.session,
            actor=self.actor,
            action=f"handover.rotation.{line.disposition}",
            record_kind=record.kind,
            record_id=record.id,
            before=before or None,
            after=after,
            detail=f"rotation {h.reference}, line {line.seq}",
        )

    async def _position(self, line: HandoverLine) -> None:
        h = self.handover
        position = await self.session.get(Position, line.subject_id)
        if position is None:
            return
        before = column_values(position)
        position.agency_id = h.incoming_agency_id
        ending = [
            col(Tour.start_date) <= h.cut_off,
            (col(Tour.end_date).is_(None)) | (col(Tour.end_date) > h.cut_off),
        ]
        if h.kind == HandoverKind.ROTATION:
            ending.append(col(Tour.user_id) == h.outgoing_user_id)
        tours = (await self.session.exec(select(Tour).where(Tour.position_id == position.id, *ending))).all()
        for tour in tours:
            tour.end_date = h.cut_off
        if h.kind == HandoverKind.ROTATION and h.incoming_user_id is not None:
            self.session.add(
                Tour(
                    position_id=position.id,
                    user_id=h.incoming_user_id,
                    start_date=h.cut_off + timedelta(days=1),
                )
            )
        await self.session.flush()
        await record_event(
            self.session,
            actor=self.actor,
            action="handover.position",
            record_kind="position",
            record_id=position.id,
            before=before,
            after=column_values(position) | {"tours_ended": len(tours)},
            detail=f"handover {h.reference}, line {line.seq}",
        )


_RECORD_LINE_KINDS = (
    LineKind.CASE.value,
    LineKind.EVIDENCE.value,
    LineKind.NOTE.value,
    LineKind.INTEL_ITEM.value,
    LineKind.TASK.value,
)
_NON_RECORDS = (LineKind.RESPONSIBILITY.value, LineKind.POSITION.value, LineKind.CHECKLIST.value)

"""Handover lifecycle: open, build the inventory, decide every line, submit, review,
sign off, complete or cancel.

draft --build--> in_progress --submit--> submitted --review(approve)--> reviewed
   ^                 ^                       |                             |
   |                 +------review(return)---+               sign-off x2, complete
   +-- cancel from any state before completed                              v
                                                                       completed
Every step is audited in the request's transaction.
"""

import uuid
from datetime import timedelta

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.audit.service import record_event
from ocpo_coord.auth.directory import theatre_by_code, user_logins
from ocpo_coord.context import Actor
from ocpo_coord.exceptions import Conflict, InvalidInput, NotFound
from ocpo_coord.handover import events, repository
from ocpo_coord.handover.policy import (
    Side,
    may_decide,
    may_lead,
    may_open_handover,
    may_sign,
    outcome_problem,
    side_of,
)
from ocpo_coord.handover.schemas import (
    BulkDecision,
    BulkResult,
    CancelInput,
    ChecklistAssignment,
    HandoverCreate,
    HandoverPublic,
    LineDecision,
    LineFilter,
    LinePublic,
    ReviewInput,
)
from ocpo_coord.handover.trees import load_tree
from ocpo_coord.handover.views import LineViews
from ocpo_coord.metrics import HANDOVER_EVENTS
from ocpo_coord.models import Agency, Handover, HandoverLine, Theatre, User
from ocpo_coord.models.enums import ConsentStatus, Disposition, HandoverKind, HandoverStatus, LineKind
from ocpo_coord.records.references import fresh_reference
from ocpo_coord.visibility.pagination import Page, entity_page
from ocpo_coord.visibility.policy import enforce
from ocpo_coord.visibility.repository import agency_codes, agency_ids_by_code


async def to_public(session: AsyncSession, handover: Handover, *, side: Side | None) -> HandoverPublic:
    codes = await agency_codes(session)
    logins = await user_logins(
        session,
        {
            u
            for u in (
                handover.created_by_id,
                handover.reviewed_by_id,
                handover.outgoing_signed_by_id,
                handover.incoming_signed_by_id,
            )
            if u is not None
        },
    )
    theatre = await session.get(Theatre, handover.theatre_id)
    counts = await repository.counts_by_disposition(
        session, handover.id, include_hidden=side is not Side.INCOMING
    )
    return HandoverPublic(
        id=handover.id,
        reference=handover.reference,
        kind=handover.kind,
        title=handover.title,
        scope=handover.scope,
        outgoing_agency=codes.get(handover.outgoing_agency_id, "?"),
        incoming_agency=codes.get(handover.incoming_agency_id, "?"),
        theatre=theatre.code if theatre else "?",
        cut_off=handover.cut_off,
        status=handover.status,
        created_by=logins.get(handover.created_by_id) if handover.created_by_id else None,
        created_at=handover.created_at,
        inventory_built_at=handover.inventory_built_at,
        submitted_at=handover.submitted_at,
        reviewed_by=logins.get(handover.reviewed_by_id) if handover.reviewed_by_id else None,
        reviewed_at=handover.reviewed_at,
        review_note=handover.review_note,
        outgoing_signed_by=logins.get(handover.outgoing_signed_by_id)
        if handover.outgoing_signed_by_id
        else None,
        outgoing_signed_at=handover.outgoing_signed_at,
        incoming_signed_by=logins.get(handover.incoming_signed_by_id)
        if handover.incoming_signed_by_id
        else None,
        incoming_signed_at=handover.incoming_signed_at,
        completed_at=handover.completed_at,
        cancelled_reason=handover.cancelled_reason,
        source_installation=handover.source_installation,
        version=handover.version,
        line_counts={d.value: counts.get(d.value, 0) for d in Disposition},
    )


async def visible(
    session: AsyncSession, actor: Actor, handover_id: uuid.UUID, *, lock: bool = False
) -> Handover:
    """The handover if the actor's agency gives or receives it; otherwise 404."""
    if lock:
        handover = await repository.get_for_update(session, handover_id)
    else:
        handover = await repository.get(session, handover_id)
    if handover is None or side_of(actor.principal, handover) is None:
        raise NotFound("handover")
    return handover


async def line_subject(session: AsyncSession, *, actor: Actor, line_id: uuid.UUID) -> uuid.UUID:
    """The record behind a line its reader sees (a stub's handle, for an access request);
    404 for a line they do not see or one that holds no record."""
    line = await session.get(HandoverLine, line_id)
    handover = await repository.get(session, line.handover_id) if line is not None else None
    if line is None or handover is None or line.subject_id is None:
        raise NotFound("handover line", field="handover_line_id")
    side = side_of(actor.principal, handover)
    asked = line.consent_agency_id is not None and line.consent_agency_id == actor.principal.agency_id
    seen = side is Side.OUTGOING or (side is Side.INCOMING and not line.hidden_from_incoming) or asked
    if not seen or LineKind(line.kind) not in repository.RECORD_LINE_KINDS:
        raise NotFound("handover line", field="handover_line_id")
    return line.subject_id


async def audit_change(
    session: AsyncSession, actor: Actor, action: str, handover: Handover, before: HandoverPublic | None
) -> HandoverPublic:
    handover.version += 1
    await session.flush()
    after = await to_public(session, handover, side=Side.OUTGOING)
    await record_event(
        session,
        actor=actor,
        action=f"handover.{action}",
        record_kind="handover",
        record_id=handover.id,
        before=before.model_dump(mode="json") if before else None,
        after=after.model_dump(mode="json"),
    )
    await events.handover_step(session, actor, handover, action)
    side = side_of(actor.principal, handover)
    # The audit copy is the giver's full view; a giver gets it back as it is.
    return after if side is Side.OUTGOING else await to_public(session, handover, side=side)


def require_status(handover: Handover, *allowed: HandoverStatus, doing: str) -> None:
    if handover.status not in allowed:
        wanted = " or ".join(s.value for s in allowed)
        raise Conflict(
            f"cannot {doing} a handover that is {handover.status}; it must be {wanted}", field="status"
        )


async def create_handover(session: AsyncSession, *, actor: Actor, data: HandoverCreate) -> HandoverPublic:
    principal = actor.principal
    enforce(may_open_handover(principal))
    assert principal.agency_id is not None
    incoming = (await agency_ids_by_code(session, [data.incoming_agency])).get(data.incoming_agency.upper())
    if incoming is None:
        raise InvalidInput(f"no agency with code {data.incoming_agency}", field="incoming_agency")
    if incoming == principal.agency_id:
        raise InvalidInput("a mission hands over to another agency, not to itself", field="incoming_agency")
    theatre = await theatre_by_code(session, data.theatre)
    if theatre is None or theatre.id not in principal.theatre_ids:
        raise InvalidInput(f"your agency is not deployed in a theatre {data.theatre}", field="theatre")
    reference = await new_reference(session, f"HO-{principal.agency_code}-{data.cut_off.year}-")
    handover = Handover(
        reference=reference,
        title=data.title,
        scope=data.scope,
        outgoing_agency_id=principal.agency_id,
        incoming_agency_id=incoming,
        theatre_id=theatre.id,
        cut_off=data.cut_off,
        created_by_id=principal.user_id,
        created_at=actor.now,
    )
    session.add(handover)
    await session.flush()
    return await audit_change(session, actor, "create", handover, None)


async def new_reference(session: AsyncSession, prefix: str) -> str:
    return await fresh_reference(
        prefix, lambda candidate: repository.reference_taken(session, candidate), length=5
    )


async def list_handovers(
    session: AsyncSession, *, actor: Actor, status: HandoverStatus | None
) -> list[HandoverPublic]:
    rows = await repository.visible_handovers(session, actor.principal, status)
    # A rotation concerns two people and their coordinators, not the whole agency.
    return [await to_public(session, h, side=side) for h in rows if (side := side_of(actor.principal, h))]


async def page_handovers(
    session: AsyncSession, *, actor: Actor, status: HandoverStatus | None, first: int, after: str | None
) -> Page[HandoverPublic]:
    """The same handovers as ``list_handovers``, newest first, a page at a time."""

    async def convert(handovers: list[Handover]) -> list[HandoverPublic]:
        return [await to_public(session, h, side=side_of(actor.principal, h)) for h in handovers]

    return await entity_page(
        session,
        repository.handovers_of(actor.principal, status),
        first=first,
        after=after,
        order=repository.HANDOVER_ORDER,
        convert=convert,
    )


async def get_handover(session: AsyncSession, *, actor: Actor, handover_id: uuid.UUID) -> HandoverPublic:
    handover = await visible(session, actor, handover_id)
    return await to_public(session, handover, side=side_of(actor.principal, handover))


async def build_inventory(session: AsyncSession, *, actor: Actor, handover_id: uuid.UUID) -> HandoverPublic:
    """Add a line for everything in scope that has none yet; safe to run again.

    A mission keeps working while it hands over: records that entered the scope since
    the last build get their lines at any stage before completion. Lines added to a
    submitted or reviewed handover make its review and sign-offs stale, so the handover
    is reopened (back to in_progress, review and sign-offs cleared), audited and told to
    both sides."""
    handover = await visible(session, actor, handover_id, lock=True)
    enforce(may_lead(actor.principal, handover, Side.OUTGOING))
    require_status(handover, *_BEFORE_COMPLETION, doing="build the inventory of")
    before = await to_public(session, handover, side=Side.OUTGOING)
    added = await add_scope_lines(session, handover, actor)
    withheld = await withhold_newly_nohost(session, handover, actor)
    reopened = bool(added or withheld) and handover.status in _REOPENABLE
    stale = reopen(handover) if reopened else []
    if handover.status == HandoverStatus.DRAFT:
        handover.status = HandoverStatus.IN_PROGRESS
    handover.inventory_built_at = actor.now
    public = await audit_change(session, actor, "reopen" if reopened else "build_inventory", handover, before)
    await record_event(
        session,
        actor=actor,
        action="handover.lines_added",
        record_kind="handover",
        record_id=handover.id,
        detail=f"{added} lines added"
        + (f", {withheld} withheld as NOHOST" if withheld else "")
        + (f"; reopened, stale: {', '.join(stale)}" if stale else ""),
    )
    return public


_BEFORE_COMPLETION = (
    HandoverStatus.DRAFT,
    HandoverStatus.IN_PROGRESS,
    HandoverStatus.SUBMITTED,
    HandoverStatus.REVIEWED,
)
_REOPENABLE = (HandoverStatus.SUBMITTED, HandoverStatus.REVIEWED)


def reopen(handover: Handover) -> list[str]:
    """Back to in_progress: the review and sign-offs were given to an inventory that has
    changed since. Returns what was cleared."""
    stale = [f"status {handover.status}"]
    if handover.reviewed_by_id is not None:
        stale.append("review")
    for side, signed in (
        ("outgoing", handover.outgoing_signed_by_id),
        ("incoming", handover.incoming_signed_by_id),
    ):
        if signed is not None:
            stale.append(f"{side} sign-off")
    handover.status = HandoverStatus.IN_PROGRESS
    handover.submitted_at = None
    handover.reviewed_by_id = None
    handover.reviewed_at = None
    handover.outgoing_signed_by_id = None
    handover.outgoing_signed_at = None
    handover.incoming_signed_by_id = None
    handover.incoming_signed_at = None
    return stale


async def unlined_records(session: AsyncSession, handover: Handover) -> int:
    """Subjects in scope today that have no line: must be zero to submit, sign or complete."""
    existing = await repository.existing_subjects(session, handover.id)
    scope = await repository.scope_of(session, handover)
    return sum(1 for item in scope if (item.kind.value, item.subject_id) not in existing)


async def scope_problems(session: AsyncSession, handover: Handover) -> list[str]:
    unlined = await unlined_records(session, handover)
    if unlined:
        return [
            f"{unlined} records in scope have no line; build the inventory again (the outgoing "
            "agency: POST .../inventory or `handover build`), which reopens a submitted or "
            "reviewed handover"
        ]
    return []


async def add_scope_lines(session: AsyncSession, handover: Handover, actor: Actor) -> int:
    existing = await repository.existing_subjects(session, handover.id)
    seq = await repository.last_seq(session, handover.id)
    incoming = await session.get(Agency, handover.incoming_agency_id)
    host_nation_receiver = bool(incoming and incoming.host_nation)
    third_parties = {handover.outgoing_agency_id, handover.incoming_agency_id}
    new_lines: list[HandoverLine] = []
    for item in await repository.scope_of(session, handover):
        if (item.kind.value, item.subject_id) in existing:
            continue
        seq += 1
        needs_consent = (
            item.originator_agency_id is not None and item.originator_agency_id not in third_parties
        )
        hidden = item.nohost and host_nation_receiver
        line = HandoverLine(
            handover_id=handover.id,
            seq=seq,
            kind=item.kind,
            subject_id=item.subject_id,
            case_id=item.case_id,
            hidden_from_incoming=hidden,
            consent_agency_id=item.originator_agency_id if needs_consent else None,
            consent_status=ConsentStatus.PENDING if needs_consent else ConsentStatus.NOT_REQUIRED,
            created_at=actor.now,
        )
        if hidden:
            # NOHOST material never goes to a host-nation agency; recorded, not dropped.
            line.disposition = Disposition.WITHHELD
            line.reason = "NOHOST: not releasable to a host-nation agency"
            line.decided_at = actor.now
        new_lines.append(line)
    if not await repository.has_checklist(session, handover.id):
        for template in await repository.checklist_template(session, handover.outgoing_agency_id):
            seq += 1
            new_lines.append(
                HandoverLine(
                    handover_id=handover.id,
                    seq=seq,
                    kind=LineKind.CHECKLIST,
                    title=template.title,
                    due_date=handover.cut_off - timedelta(days=template.due_days_before_cut_off),
                    created_at=actor.now,
                )
            )
    session.add_all(new_lines)
    await session.flush()
    await events.consent_requested(session, actor, handover, new_lines)
    return len(new_lines)


async def withhold_newly_nohost(session: AsyncSession, handover: Handover, actor: Actor) -> int:
    """Lines whose record was re-marked NOHOST since its line was made, for a host-nation
    receiver: hidden from it and withheld, whatever was decided before."""
    incoming = await session.get(Agency, handover.incoming_agency_id)
    if not (incoming and incoming.host_nation):
        return 0
    changed = 0
    for line in await repository.newly_nohost_lines(session, handover.id):
        before = line_snapshot(line)
        line.hidden_from_incoming = True
        line.disposition = Disposition.WITHHELD
        line.reason = "NOHOST: not releasable to a host-nation agency"
        line.decline_outcome = None
        line.decided_by_id = None
        line.decided_at = actor.now
        changed += 1
        await _audit_line(session, actor, "handover.withhold_nohost", handover, line, before)
    await session.flush()
    return changed


async def _audit_line(
    session: AsyncSession,
    actor: Actor,
    action: str,
    handover: Handover,
    line: HandoverLine,
    before: dict[str, object],
) -> None:
    await record_event(
        session,
        actor=actor,
        action=action,
        record_kind="handover_line",
        record_id=line.id,
        before=before,
        after=line_snapshot(line),
        detail=f"handover {handover.reference}",
    )


# --- decisions ----------------------------------------------------------------------


def _decision_problem(
    actor: Actor,
    handover: Handover,
    line: HandoverLine,
    decision: LineDecision,
    decider_sides: dict[uuid.UUID, Side | None],
) -> str | None:
    allowed = may_decide(actor.principal, handover, line, decision.disposition)
    if allowed is not True:
        return allowed
    if line.disposition != Disposition.OPEN and line.decided_by_id is not None:
        previous = decider_sides.get(line.decided_by_id)
        if previous is not side_of(actor.principal, handover):
            return "decided by the other agency; only it may change that decision"
    if line.hidden_from_incoming:
        return "NOHOST material stays withheld from a host-nation agency"
    if decision.disposition is Disposition.ACCEPTED:
        if line.consent_status == ConsentStatus.PENDING:
            return "waiting for the originator's consent"
        if line.consent_status == ConsentStatus.REFUSED:
            return "the originator refused consent"
        if line.kind == LineKind.CHECKLIST and not decision.completion_evidence.strip():
            return "a checklist line is done only with completion_evidence"
    if decision.disposition is Disposition.DECLINED:
        return outcome_problem(line, decision.decline_outcome, line.consent_agency_id is None)
    return None


def _apply(actor: Actor, line: HandoverLine, decision: LineDecision) -> None:
    line.disposition = decision.disposition
    line.reason = decision.reason.strip()
    line.decline_outcome = decision.decline_outcome if decision.disposition is Disposition.DECLINED else None
    if line.kind == LineKind.CHECKLIST and decision.completion_evidence:
        line.completion_evidence = decision.completion_evidence.strip()
    line.decided_by_id = actor.principal.user_id
    line.decided_at = actor.now


def line_snapshot(line: HandoverLine) -> dict[str, object]:
    return {
        "seq": line.seq,
        "kind": line.kind,
        "subject_id": line.subject_id,
        "disposition": line.disposition,
        "reason": line.reason,
        "decline_outcome": line.decline_outcome,
        "completion_evidence": line.completion_evidence,
        "consent_status": line.consent_status,
    }


async def _decider_sides(
    session: AsyncSession, handover: Handover, lines: list[HandoverLine]
) -> dict[uuid.UUID, Side | None]:
    """Which side each earlier decider belongs to, in one query."""
    agencies = await repository.user_agencies(session, {ln.decided_by_id for ln in lines if ln.decided_by_id})
    by_agency = {handover.outgoing_agency_id: Side.OUTGOING, handover.incoming_agency_id: Side.INCOMING}
    return {user_id: by_agency.get(agency) if agency else None for user_id, agency in agencies.items()}


async def decide_lines(
    session: AsyncSession, *, actor: Actor, handover_id: uuid.UUID, data: BulkDecision
) -> BulkResult:
    """Decide every line the filter selects that can take the decision; count the rest."""
    handover = await visible(session, actor, handover_id, lock=True)
    require_status(handover, HandoverStatus.IN_PROGRESS, doing="decide lines of")
    incoming_side = side_of(actor.principal, handover) is Side.INCOMING
    statement = repository.as_seen_by(
        repository.filtered_lines(handover.id, include_hidden=not incoming_side, filters=data.filter),
        data.filter,
        actor.principal,
        actor.now,
    )
    lines = await repository.lines(session, statement)
    sides = await _decider_sides(session, handover, lines)
    tree = await load_tree(session, handover.id) if handover.kind != HandoverKind.ROTATION else None
    decided = 0
    skipped: dict[str, int] = {}
    for line in lines:
        problem = _decision_problem(actor, handover, line, data.decision, sides)
        if problem is None and tree is not None:
            problem = tree.problem(line, data.decision.disposition, receiver=incoming_side)
        if problem is not None:
            skipped[problem] = skipped.get(problem, 0) + 1
            continue
        before = line_snapshot(line)
        _apply(actor, line, data.decision)
        decided += 1
        await _audit_line(session, actor, "handover.decide", handover, line, before)
    await session.flush()
    HANDOVER_EVENTS.labels(event="line_decided").inc(decided)
    return BulkResult(decided=decided, skipped=skipped)


async def decide_line(
    session: AsyncSession, *, actor: Actor, handover_id: uuid.UUID, line_id: uuid.UUID, decision: LineDecision
) -> BulkResult:
    """One line: refused with its reason rather than skipped."""
    result = await decide_lines(
        session,
        actor=actor,
        handover_id=handover_id,
        data=BulkDecision(filter=LineFilter(line_ids=[line_id]), decision=decision),
    )
    if result.decided == 0:
        if not result.skipped:
            raise NotFound("line", field="line_id")
        raise Conflict(next(iter(result.skipped)), field="disposition")
    return result


# --- lifecycle ------------------------------------------------------------------------


async def open_problems(session: AsyncSession, handover: Handover) -> list[str]:
    counts = await repository.counts_by_disposition(session, handover.id, include_hidden=True)
    problems = []
    if counts.get(Disposition.OPEN.value, 0):
        problems.append(f"{counts[Disposition.OPEN.value]} lines are still open")
    pending = await repository.pending_consents(session, handover.id)
    if pending:
        problems.append(f"{pending} lines wait for an originator's consent")
    return problems


async def submit(session: AsyncSession, *, actor: Actor, handover_id: uuid.UUID) -> HandoverPublic:
    handover = await visible(session, actor, handover_id, lock=True)
    enforce(may_lead(actor.principal, handover, Side.OUTGOING))
    require_status(handover, HandoverStatus.IN_PROGRESS, doing="submit")
    problems = await open_problems(session, handover) + await scope_problems(session, handover)
    if problems:
        raise Conflict("cannot submit: " + "; ".join(problems), field="lines")
    before = await to_public(session, handover, side=Side.OUTGOING)
    handover.status = HandoverStatus.SUBMITTED
    handover.submitted_at = actor.now
    return await audit_change(session, actor, "submit", handover, before)


async def review(
    session: AsyncSession, *, actor: Actor, handover_id: uuid.UUID, data: ReviewInput
) -> HandoverPublic:
    handover = await visible(session, actor, handover_id, lock=True)
    enforce(may_lead(actor.principal, handover, Side.INCOMING))
    require_status(handover, HandoverStatus.SUBMITTED, doing="review")
    if data.approve and (problems := await scope_problems(session, handover)):
        raise Conflict("cannot approve: " + "; ".join(problems), field="lines")
    before = await to_public(session, handover, side=Side.OUTGOING)
    handover.status = HandoverStatus.REVIEWED if data.approve else HandoverStatus.IN_PROGRESS
    handover.reviewed_by_id = actor.principal.user_id
    handover.reviewed_at = actor.now
    handover.review_note = data.note
    return await audit_change(session, actor, "review" if data.approve else "return", handover, before)


async def sign_off(session: AsyncSession, *, actor: Actor, handover_id: uuid.UUID) -> HandoverPublic:
    handover = await visible(session, actor, handover_id, lock=True)
    require_status(handover, HandoverStatus.REVIEWED, doing="sign off")
    side = side_of(actor.principal, handover)
    assert side is not None
    enforce(may_sign(actor.principal, handover, side))
    if problems := await scope_problems(session, handover):
        raise Conflict("cannot sign off: " + "; ".join(problems), field="lines")
    before = await to_public(session, handover, side=Side.OUTGOING)
    if side is Side.OUTGOING:
        if handover.outgoing_signed_by_id is not None:
            raise Conflict("the outgoing agency has already signed off", field="status")
        handover.outgoing_signed_by_id = actor.principal.user_id
        handover.outgoing_signed_at = actor.now
    else:
        if handover.incoming_signed_by_id is not None:
            raise Conflict("the incoming agency has already signed off", field="status")
        handover.incoming_signed_by_id = actor.principal.user_id
        handover.incoming_signed_at = actor.now
    return await audit_change(session, actor, f"sign_off.{side.value}", handover, before)


async def cancel(
    session: AsyncSession, *, actor: Actor, handover_id: uuid.UUID, data: CancelInput
) -> HandoverPublic:
    handover = await visible(session, actor, handover_id, lock=True)
    side = side_of(actor.principal, handover)
    assert side is not None
    enforce(may_lead(actor.principal, handover, side))
    require_status(
        handover,
        HandoverStatus.DRAFT,
        HandoverStatus.IN_PROGRESS,
        HandoverStatus.SUBMITTED,
        HandoverStatus.REVIEWED,
        doing="cancel",
    )
    before = await to_public(session, handover, side=Side.OUTGOING)
    handover.status = HandoverStatus.CANCELLED
    handover.cancelled_reason = data.reason
    return await audit_change(session, actor, "cancel", handover, before)


async def assign_checklist_line(
    session: AsyncSession,
    *,
    actor: Actor,
    handover_id: uuid.UUID,
    line_id: uuid.UUID,
    data: ChecklistAssignment,
) -> LinePublic:
    handover = await visible(session, actor, handover_id, lock=True)
    require_status(
        handover, HandoverStatus.DRAFT, HandoverStatus.IN_PROGRESS, doing="assign checklist lines of"
    )
    line = await session.get(HandoverLine, line_id)
    if line is None or line.handover_id != handover.id or line.kind != LineKind.CHECKLIST:
        raise NotFound("checklist line", field="line_id")
    before = line_snapshot(line) | {"owner_user_id": line.owner_user_id, "due_date": line.due_date}
    if data.owner is not None:
        owner = (await session.exec(select(User).where(User.login == data.owner))).first()
        if owner is None or owner.agency_id not in (handover.outgoing_agency_id, handover.incoming_agency_id):
            raise InvalidInput("must be a user of one of the two agencies", field="owner")
        line.owner_user_id = owner.id
    if data.due_date is not None:
        line.due_date = data.due_date
    await session.flush()
    await record_event(
        session,
        actor=actor,
        action="handover.assign_checklist",
        record_kind="handover_line",
        record_id=line.id,
        before=before,
        after=line_snapshot(line) | {"owner_user_id": line.owner_user_id, "due_date": line.due_date},
    )
    views = await LineViews(session, actor).load([line])
    return views.public(line)

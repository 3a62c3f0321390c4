"""Who may do what in a handover: each policy returns True or the reason it refuses."""

from enum import StrEnum

from sqlalchemy import ColumnElement, and_, false, or_, true
from sqlmodel import col

from ocpo_coord.auth.principal import Principal
from ocpo_coord.models import Handover, HandoverLine
from ocpo_coord.models.enums import DeclineOutcome, Disposition, HandoverKind, LineKind, Role
from ocpo_coord.visibility.policy import Decision, may_create

_LEADERS = (Role.AGENCY_ADMIN, Role.COORDINATOR)


class Side(StrEnum):
    OUTGOING = "outgoing"
    INCOMING = "incoming"


def side_of(principal: Principal, handover: Handover) -> Side | None:
    if not principal.reads_agency_data:
        return None
    if handover.kind == HandoverKind.ROTATION:
        # Inside one agency: the successor receives; the person leaving and the
        # agency's coordinators give. Nobody else in the agency takes part.
        if principal.user_id == handover.incoming_user_id:
            return Side.INCOMING
        if principal.agency_id == handover.outgoing_agency_id and (
            principal.user_id == handover.outgoing_user_id or principal.has_role(*_LEADERS)
        ):
            return Side.OUTGOING
        return None
    if principal.agency_id == handover.outgoing_agency_id:
        return Side.OUTGOING
    if principal.agency_id == handover.incoming_agency_id:
        return Side.INCOMING
    return None


def takes_part(principal: Principal) -> ColumnElement[bool]:
    """``side_of(principal, handover) is not None`` as a query condition, for lists."""
    if not principal.reads_agency_data:
        return false()
    agency = principal.agency_id
    leader = true() if principal.has_role(*_LEADERS) else false()
    rotation = col(Handover.kind) == HandoverKind.ROTATION
    return or_(
        and_(
            rotation,
            or_(
                col(Handover.incoming_user_id) == principal.user_id,
                and_(
                    col(Handover.outgoing_agency_id) == agency,
                    or_(col(Handover.outgoing_user_id) == principal.user_id, leader),
                ),
            ),
        ),
        and_(
            ~rotation,
            or_(col(Handover.outgoing_agency_id) == agency, col(Handover.incoming_agency_id) == agency),
        ),
    )


def may_open_handover(principal: Principal) -> Decision:
    created = may_create(principal)
    if created is not True:
        return created
    if not principal.has_role(*_LEADERS):
        return "only coordinators and agency administrators open handovers"
    return True


def may_lead(principal: Principal, handover: Handover, side: Side) -> Decision:
    """Building, submitting, reviewing and cancelling: one side's coordinators."""
    if side_of(principal, handover) is not side:
        return f"only the {side.value} agency may do this"
    if handover.kind == HandoverKind.ROTATION and side is Side.INCOMING:
        return True  # the successor answers for the receiving side
    if not principal.has_role(*_LEADERS):
        return f"only the {side.value} agency's coordinators and administrators may do this"
    return True


def may_sign(principal: Principal, handover: Handover, side: Side) -> Decision:
    if side_of(principal, handover) is not side:
        return f"only the {side.value} agency signs off for its side"
    if handover.kind == HandoverKind.ROTATION:
        if side is Side.INCOMING or principal.has_role(*_LEADERS):
            return True
        return "the agency's coordinators or administrators sign off for the person leaving"
    if not principal.has_role(Role.AGENCY_ADMIN):
        return f"only the {side.value} agency's administrators sign off"
    return True


def may_decide(
    principal: Principal, handover: Handover, line: HandoverLine, disposition: Disposition
) -> Decision:
    """Accepting and declining belong to the receiver; closing and withholding to the giver.

    Checklist lines are work both sides share, so either may record them.
    """
    side = side_of(principal, handover)
    if side is None:
        return "only the two agencies of the handover decide its lines"
    created = may_create(principal)
    if created is not True:
        return created
    if line.kind != LineKind.CHECKLIST:
        wanted = (
            Side.INCOMING if disposition in (Disposition.ACCEPTED, Disposition.DECLINED) else Side.OUTGOING
        )
        if side is not wanted:
            return f"only the {wanted.value} agency may mark a line {disposition.value}"
    elif disposition not in (Disposition.ACCEPTED, Disposition.DECLINED):
        return "a checklist line is either done (accepted) or not applicable (declined)"
    return True


def outcome_problem(
    line: HandoverLine, outcome: DeclineOutcome | None, originator_is_giver: bool
) -> str | None:
    if line.kind == LineKind.CHECKLIST:
        return None
    if outcome is None:
        return "a declined line needs decline_outcome: retained, archived or returned_to_originator"
    if outcome is DeclineOutcome.RETURNED_TO_ORIGINATOR and originator_is_giver:
        return "the outgoing agency originated this record; choose retained or archived"
    return None


def may_answer_consent(principal: Principal, line: HandoverLine) -> Decision:
    if not principal.reads_agency_data or principal.agency_id != line.consent_agency_id:
        return "consent request not found"
    return may_create(principal)


def may_manage_trust(principal: Principal) -> Decision:
    """Whose packages this installation imports is the installation administrators' call."""
    if not principal.has_role(Role.INSTALLATION_ADMIN):
        return "only an installation administrator manages the trusted installations"
    return True

"""Who sees the responsibility matrix, and who offers, accepts or withdraws a transfer.

Responsibilities are coordination data, not secret records: every user of an agency
deployed in a theatre sees the theatre's matrix (the same circle as TLP:GREEN).
Changing them is for an agency's coordinators and administrators: the giving agency
offers and may withdraw, the receiving agency accepts or declines.
"""

import uuid

from ocpo_coord.auth.principal import Principal
from ocpo_coord.models import Responsibility, ResponsibilityTransfer
from ocpo_coord.models.enums import Role
from ocpo_coord.visibility.policy import Decision

AUTHORISED = (Role.AGENCY_ADMIN, Role.COORDINATOR)


def may_see_theatre(principal: Principal, theatre_id: uuid.UUID) -> Decision:
    if not principal.reads_agency_data:
        return "installation administrators read no agency's coordination data"
    if theatre_id not in principal.theatre_ids:
        return "the responsibility matrix is shown to agencies deployed in the theatre"
    return True


def _authorised(principal: Principal) -> Decision:
    if not principal.reads_agency_data:
        return "installation administrators do not transfer agencies' responsibilities"
    if not principal.has_role(*AUTHORISED):
        return "only your agency's coordinators and administrators transfer responsibilities"
    return True


def may_offer(principal: Principal, responsibility: Responsibility) -> Decision:
    authorised = _authorised(principal)
    if authorised is not True:
        return authorised
    if responsibility.agency_id != principal.agency_id:
        return "only the agency holding a responsibility may offer to transfer it"
    return True


def may_answer(principal: Principal, transfer: ResponsibilityTransfer) -> Decision:
    authorised = _authorised(principal)
    if authorised is not True:
        return authorised
    if transfer.to_agency_id != principal.agency_id:
        return "only the receiving agency accepts or declines a transfer"
    return True


def may_withdraw(principal: Principal, transfer: ResponsibilityTransfer) -> Decision:
    authorised = _authorised(principal)
    if authorised is not True:
        return authorised
    if transfer.from_agency_id != principal.agency_id:
        return "only the offering agency withdraws a transfer"
    return True

"""Action policies: each returns True, or the reason it refuses (for the error and audit)."""

from typing import Literal

from ocpo_coord.auth.principal import Principal
from ocpo_coord.exceptions import Forbidden
from ocpo_coord.models import Record, SharingAgreement, SharingGroup
from ocpo_coord.models.enums import Role, Tlp

Decision = Literal[True] | str

_WRITER_ROLES = (
    Role.ANALYST,
    Role.INVESTIGATOR,
    Role.COORDINATOR,
    Role.AGENCY_ADMIN,
)

# Ordered from widest to narrowest release.
TLP_ORDER = [Tlp.CLEAR, Tlp.GREEN, Tlp.AMBER, Tlp.AMBER_STRICT, Tlp.RED]


def enforce(decision: Decision) -> None:
    if decision is not True:
        raise Forbidden(decision)


def may_create(principal: Principal) -> Decision:
    if not principal.reads_agency_data:
        return "installation administrators do not create agency records"
    if not principal.has_role(*_WRITER_ROLES):
        return "your roles do not allow creating records"
    return True


def may_edit(principal: Principal, record: Record) -> Decision:
    """Only the owner agency's authorised users change a record."""
    created = may_create(principal)
    if created is not True:
        return created
    if record.owner_agency_id != principal.agency_id:
        return "only the owner agency's users may change this record"
    return True


def may_add_child(principal: Principal, parent: Record, participant: bool) -> Decision:
    """Notes, evidence and tasks on a case: its owner or a participating agency."""
    created = may_create(principal)
    if created is not True:
        return created
    if parent.owner_agency_id != principal.agency_id and not participant:
        return "only the case's owner or participating agencies may add to it"
    return True


def may_widen(principal: Principal, record: Record) -> Decision:
    """Widening a release (new agencies, groups, grants, a wider TLP, a lower
    classification) is the owner's decision; on ORCON material, the originator's."""
    edit = may_edit(principal, record)
    if edit is not True:
        return edit
    if record.orcon and record.originator_agency_id != principal.agency_id:
        return "ORCON: only the originator may widen the release of this record"
    return True


def tlp_rank(tlp: Tlp | str) -> int:
    """0 for CLEAR (widest) up to 4 for RED (narrowest)."""
    return TLP_ORDER.index(Tlp(tlp))


def may_decide_access(principal: Principal, record: Record) -> Decision:
    """Approving or refusing a request for access is a decision on the record's release."""
    return may_widen(principal, record)


def may_administer_sharing(principal: Principal) -> Decision:
    """Sharing groups and agreements are managed by their own agency's administrators."""
    if not principal.reads_agency_data:
        return "installation administrators manage no agency's sharing"
    if not principal.has_role(Role.AGENCY_ADMIN):
        return "only your agency's administrators manage its sharing groups and agreements"
    return True


def may_change_group(principal: Principal, group: SharingGroup) -> Decision:
    """Renaming, membership and deletion belong to the owner agency's administrators."""
    admin = may_administer_sharing(principal)
    if admin is not True:
        return admin
    if group.owner_agency_id != principal.agency_id:
        return "only the owner agency's administrators may change this sharing group"
    return True


def may_add_group_member(
    principal: Principal, group: SharingGroup, *, carries_others_records: bool
) -> Decision:
    """A new member reads everything released to the group: that widens each record's
    release, which is its owner's decision (on ORCON material, its originator's)."""
    change = may_change_group(principal, group)
    if change is not True:
        return change
    if carries_others_records:
        return (
            "records another agency decides on are released to this group; a new member would "
            "widen their release without that agency's decision"
        )
    return True


def may_end_agreement(principal: Principal, agreement: SharingAgreement) -> Decision:
    """Only the grantor gives, so only the grantor's administrators end or withdraw it."""
    admin = may_administer_sharing(principal)
    if admin is not True:
        return admin
    if agreement.grantor_agency_id != principal.agency_id:
        return "only the grantor agency's administrators may end this agreement"
    return True


def may_audit(principal: Principal) -> Decision:
    """Reading the audit log is for auditors and agency administrators."""
    if not principal.reads_agency_data:
        return "installation administrators do not read agency audit trails"
    if not principal.has_role(Role.HANDOVER_AUDITOR, Role.AGENCY_ADMIN):
        return "only auditors and agency administrators read the audit log"
    return True

"""The one visibility rule. Every read of a shareable record goes through ``readable``.

It is a SQL predicate on ``record`` so that lists are filtered in the database, and
pagination, counts and nested fields stay right: nothing is fetched and discarded.
Default deny: a record is readable only if every restriction passes *and* at least
one reason to release it to the reader holds.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, false, or_
from sqlalchemy.orm import aliased
from sqlmodel import col

from ocpo_coord.auth.principal import Principal
from ocpo_coord.models import (
    CaseMember,
    Record,
    RecordGrant,
    RecordRelease,
    SharingAgreement,
)
from ocpo_coord.models.enums import Tlp


def _restrictions(principal: Principal, R: Any) -> list[ColumnElement[bool]]:
    """Conditions no release can override."""
    conditions: list[ColumnElement[bool]] = [
        # Nothing above the reader's clearance, whatever else is true.
        R.classification <= int(principal.clearance)
    ]
    if principal.host_nation:
        # NOHOST: never visible to host-nation agencies.
        conditions.append(R.nohost == false())
    # A restricted case, and what hangs off it, is for its named members only.
    is_member = exists().where(
        col(CaseMember.case_id) == R.restricted_case_id,
        col(CaseMember.user_id) == principal.user_id,
    )
    conditions.append(or_(R.restricted_case_id.is_(None), is_member))
    return conditions


def _releases(principal: Principal, now: datetime, R: Any) -> list[ColumnElement[bool]]:
    """Reasons a record reaches the reader; any one suffices."""
    agency_id = principal.agency_id
    own_agency = and_(
        R.tlp != Tlp.RED.value,
        or_(
            R.owner_agency_id == agency_id,
            R.custodian_agency_id == agency_id,
            R.originator_agency_id == agency_id,
        ),
    )
    named_individual = and_(
        R.tlp == Tlp.RED.value,
        or_(
            R.created_by_id == principal.user_id,
            exists().where(
                col(RecordRelease.record_id) == R.id,
                col(RecordRelease.user_id) == principal.user_id,
            ),
        ),
    )
    release_targets = [col(RecordRelease.agency_id) == agency_id]
    if principal.sharing_group_ids:
        release_targets.append(col(RecordRelease.sharing_group_id).in_(principal.sharing_group_ids))
    released = and_(
        R.tlp.in_([Tlp.GREEN.value, Tlp.AMBER.value, Tlp.AMBER_STRICT.value]),
        exists().where(col(RecordRelease.record_id) == R.id, or_(*release_targets)),
    )
    same_theatre = (
        and_(R.tlp == Tlp.GREEN.value, R.theatre_id.in_(principal.theatre_ids))
        if principal.theatre_ids
        else false()
    )
    # An agreement sets defaults; it never overrides a stricter marking.
    agreement = and_(
        R.tlp.in_([Tlp.GREEN.value, Tlp.AMBER.value]),
        R.orcon == false(),
        exists().where(
            col(SharingAgreement.grantor_agency_id) == R.owner_agency_id,
            col(SharingAgreement.grantee_agency_id) == agency_id,
            col(SharingAgreement.valid_from) <= now,
            col(SharingAgreement.valid_until) > now,
            col(SharingAgreement.max_classification) >= R.classification,
        ),
    )
    grant = exists().where(
        col(RecordGrant.record_id) == R.id,
        or_(col(RecordGrant.user_id) == principal.user_id, col(RecordGrant.agency_id) == agency_id),
        or_(col(RecordGrant.expires_at).is_(None), col(RecordGrant.expires_at) > now),
    )
    return [
        R.tlp == Tlp.CLEAR.value,
        own_agency,
        named_individual,
        released,
        same_theatre,
        agreement,
        grant,
    ]


def _own_rule(principal: Principal, now: datetime, R: Any) -> ColumnElement[bool]:
    return and_(*_restrictions(principal, R), or_(*_releases(principal, now, R)))


def readable(principal: Principal, *, now: datetime) -> ColumnElement[bool]:
    """True for the ``record`` rows the principal may read at ``now``.

    A record that hangs off a case is readable only if the case is too: otherwise its
    ``case_id`` would tell the reader that an unreadable case exists.
    """
    if not principal.reads_agency_data:
        return false()
    parent = aliased(Record, name="parent_record")
    parent_readable = exists().where(
        col(parent.id) == col(Record.parent_id), _own_rule(principal, now, parent)
    )
    return and_(
        _own_rule(principal, now, Record),
        or_(col(Record.parent_id).is_(None), parent_readable),
    )

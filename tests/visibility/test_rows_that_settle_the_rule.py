"""Which visibility index rows settle the rule (``READ_RULE.settles``), case by case.

A bounded count takes a settled row without asking the rule, so a flag set where a
holder of the scope could be refused would count a record the reader may not read.
The property test in test_sharing_rule.py checks that on random worlds; these name
the cases that must come out one way or the other."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from ocpo_coord.models import Record, RecordGrant, RecordRelease
from ocpo_coord.models.enums import RecordKind, Tlp
from ocpo_coord.visibility.reach import rows_of
from ocpo_coord.visibility.rule import RecordFacts, ReleaseView
from ocpo_coord.visibility.scopes import Scope, ScopeKind

OWNER, PARTNER, GRANTEE, LASTING = (uuid.uuid4() for _ in range(4))
CREATOR, MEMBER = uuid.uuid4(), uuid.uuid4()


def _record(**markings: Any) -> Record:
    return Record(
        kind=RecordKind.INTEL_ITEM,
        originator_agency_id=OWNER,
        custodian_agency_id=OWNER,
        owner_agency_id=OWNER,
        created_by_id=CREATOR,
        **markings,
    )


def _flags(facts: RecordFacts) -> dict[Scope, bool]:
    return {(ScopeKind(row["scope_kind"]), row["scope_id"]): row["settled"] for row in rows_of(facts)}


def _amber_released_and_granted(record: Record) -> RecordFacts:
    later = datetime.now(UTC) + timedelta(days=30)
    return RecordFacts(
        record,
        releases=[RecordRelease(record_id=record.id, agency_id=PARTNER)],
        grants=[
            RecordGrant(record_id=record.id, agency_id=GRANTEE, expires_at=later),
            RecordGrant(record_id=record.id, agency_id=LASTING),
        ],
    )


def test_the_owner_a_release_and_a_lasting_grant_settle_and_a_grant_that_expires_does_not() -> None:
    flags = _flags(_amber_released_and_granted(_record(tlp=Tlp.AMBER)))
    assert flags[(ScopeKind.AGENCY, OWNER)] is True
    assert flags[(ScopeKind.AGENCY, PARTNER)] is True
    assert flags[(ScopeKind.AGENCY, LASTING)] is True
    # Filed, so that the grantee finds it until the grant lapses, but the rule decides.
    assert flags[(ScopeKind.AGENCY, GRANTEE)] is False


def test_nothing_under_a_parent_settles() -> None:
    flags = _flags(_amber_released_and_granted(_record(tlp=Tlp.AMBER, parent_id=uuid.uuid4())))
    assert flags
    assert not any(flags.values())


def test_a_restricted_record_settles_only_for_a_member_who_passes_the_rest_of_the_rule() -> None:
    record = _record(tlp=Tlp.RED, restricted_case_id=uuid.uuid4())
    facts = RecordFacts(record, restricted_members={CREATOR, MEMBER})
    flags = _flags(facts)
    # The creator may read their RED record; the other member is not named in it.
    assert flags.get((ScopeKind.USER, CREATOR)) is True
    assert flags.get((ScopeKind.USER, MEMBER), False) is False
    assert not any(settled for (kind, _), settled in flags.items() if kind is not ScopeKind.USER)
    # An AMBER one is filed under its one member, who need not be of an agency it is
    # released to: being a member settles nothing by itself.
    amber = _record(tlp=Tlp.AMBER, restricted_case_id=uuid.uuid4())
    released: list[ReleaseView] = [RecordRelease(record_id=amber.id, agency_id=PARTNER)]
    flags = _flags(RecordFacts(amber, releases=released, restricted_members={MEMBER}))
    assert flags == {(ScopeKind.USER, MEMBER): False}


def test_an_agreement_scope_settles_and_an_orcon_record_is_not_filed_under_it() -> None:
    green = _flags(RecordFacts(_record(tlp=Tlp.GREEN)))
    assert green[(ScopeKind.AGREEMENTS_OF, OWNER)] is True
    orcon = _flags(RecordFacts(_record(tlp=Tlp.GREEN, orcon=True)))
    assert (ScopeKind.AGREEMENTS_OF, OWNER) not in orcon


def test_a_clear_record_is_settled_under_every_scope() -> None:
    flags = _flags(RecordFacts(_record(tlp=Tlp.CLEAR)))
    assert flags
    assert all(flags.values())

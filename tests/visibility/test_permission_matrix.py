"""The permission matrix: each marking x reader relationship, with its expected answer.

Every row is checked twice — by the database filter and by the single-record
decision — on both databases, so a rule that drifts in either face fails here.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, col, select

from ocpo_coord.auth.principal import Principal
from ocpo_coord.db.engine import make_sync_engine
from ocpo_coord.models import (
    Agency,
    AgencyTheatre,
    Case,
    CaseMember,
    Record,
    RecordGrant,
    RecordRelease,
    SharingAgreement,
    SharingGroup,
    SharingGroupMember,
    Theatre,
    User,
)
from ocpo_coord.models.enums import AgencyKind, Classification, RecordKind, Role, Tlp
from ocpo_coord.visibility.readable import can_read, readable
from ocpo_coord.visibility.rule import RecordFacts

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


@dataclass
class Scene:
    """Owner agency OWN (UNMIK-like), reader agency OTHER (KFOR-like), host agency HOST."""

    session: Session
    theatre: Theatre
    far_theatre: Theatre
    own: Agency
    other: Agency
    host: Agency
    rows: list[object] = field(default_factory=list)

    def user(
        self, agency: Agency | None, clearance: Classification = Classification.SECRET, admin: bool = False
    ) -> User:
        user = User(
            login=f"user-{len(self.rows)}",
            display_name="Reader",
            agency_id=agency.id if agency else None,
            roles=[Role.INSTALLATION_ADMIN] if admin else [Role.ANALYST],
            clearance=clearance,
        )
        self.add(user)
        return user

    def record(self, **markings: object) -> Record:
        values: dict[str, object] = {
            "kind": RecordKind.INTEL_ITEM,
            "originator_agency_id": self.own.id,
            "custodian_agency_id": self.own.id,
            "owner_agency_id": self.own.id,
            "theatre_id": self.theatre.id,
            "classification": Classification.RESTRICTED,
            "tlp": Tlp.AMBER,
            "created_at": NOW,
            "updated_at": NOW,
        }
        values.update(markings)
        record = Record(**values)  # type: ignore[arg-type]
        self.add(record)
        return record

    def add(self, row: object) -> None:
        self.session.add(row)
        self.session.flush()
        self.rows.append(row)

    def principal(self, user: User) -> Principal:
        agency = self.session.get(Agency, user.agency_id) if user.agency_id else None
        theatres = self.session.exec(
            select(AgencyTheatre.theatre_id).where(AgencyTheatre.agency_id == user.agency_id)
        ).all()
        groups = self.session.exec(
            select(SharingGroupMember.sharing_group_id).where(SharingGroupMember.agency_id == user.agency_id)
        ).all()
        return Principal(
            user_id=user.id,
            login=user.login,
            display_name=user.display_name,
            agency_id=user.agency_id,
            agency_code=agency.code if agency else None,
            host_nation=agency.host_nation if agency else False,
            clearance=Classification(user.clearance),
            roles=frozenset(Role(r) for r in user.roles),
            theatre_ids=frozenset(theatres),
            sharing_group_ids=frozenset(groups),
        )

    def facts(self, record: Record) -> RecordFacts:
        s = self.session
        return RecordFacts(
            record=record,
            releases=list(s.exec(select(RecordRelease).where(RecordRelease.record_id == record.id)).all()),
            grants=list(s.exec(select(RecordGrant).where(RecordGrant.record_id == record.id)).all()),
            restricted_members=set(
                s.exec(
                    select(CaseMember.user_id).where(CaseMember.case_id == record.restricted_case_id)
                ).all()
            ),
            agreements=list(
                s.exec(
                    select(SharingAgreement).where(
                        SharingAgreement.grantor_agency_id == record.owner_agency_id
                    )
                ).all()
            ),
        )

    def decide(self, user: User, record: Record, at: datetime = NOW) -> bool:
        principal = self.principal(user)
        in_db = bool(
            self.session.exec(
                select(Record.id).where(Record.id == record.id, readable(principal, now=at))
            ).all()
        )
        parent = self.session.get(Record, record.parent_id) if record.parent_id else None
        in_memory = can_read(principal, at, self.facts(record), self.facts(parent) if parent else None)
        assert in_db == in_memory, "the database filter and the single-record decision disagree"
        return in_db


@pytest.fixture
def scene(db_url: str) -> Iterator[Scene]:
    engine = make_sync_engine(db_url)
    with engine.connect() as connection:
        transaction = connection.begin()
        session = Session(bind=connection)
        theatre = Theatre(code="ZZT", name="Test theatre", country="Z")
        far = Theatre(code="ZZF", name="Far theatre", country="F")
        own = Agency(code="ZOWN", name="Owner mission", kind=AgencyKind.MISSION)
        other = Agency(code="ZOTH", name="Other force", kind=AgencyKind.MISSION)
        host = Agency(code="ZHOST", name="Host police", kind=AgencyKind.HOST_NATION, host_nation=True)
        session.add_all([theatre, far, own, other, host])
        session.flush()
        session.add_all([AgencyTheatre(agency_id=a.id, theatre_id=theatre.id) for a in (own, other, host)])
        session.flush()
        yield Scene(session, theatre, far, own, other, host)
        session.close()
        transaction.rollback()
    engine.dispose()


Row = Callable[[Scene], bool]


def _own_analyst_reads_own_record(s: Scene) -> bool:
    return s.decide(s.user(s.own), s.record())


def _clearance_is_absolute(s: Scene) -> bool:
    record = s.record(classification=Classification.SECRET, tlp=Tlp.CLEAR)
    return s.decide(s.user(s.own, Classification.CONFIDENTIAL), record)


def _clearance_equal_suffices(s: Scene) -> bool:
    return s.decide(
        s.user(s.own, Classification.CONFIDENTIAL), s.record(classification=Classification.CONFIDENTIAL)
    )


def _amber_unreleased_is_hidden(s: Scene) -> bool:
    return s.decide(s.user(s.other), s.record(tlp=Tlp.AMBER))


def _amber_released_to_agency(s: Scene) -> bool:
    record = s.record(tlp=Tlp.AMBER)
    s.add(RecordRelease(record_id=record.id, agency_id=s.other.id))
    return s.decide(s.user(s.other), record)


def _amber_strict_released_to_agency(s: Scene) -> bool:
    record = s.record(tlp=Tlp.AMBER_STRICT)
    s.add(RecordRelease(record_id=record.id, agency_id=s.other.id))
    return s.decide(s.user(s.other), record)


def _released_through_group(s: Scene) -> bool:
    group = SharingGroup(owner_agency_id=s.own.id, name="Task force")
    s.add(group)
    s.add(SharingGroupMember(sharing_group_id=group.id, agency_id=s.other.id))
    record = s.record(tlp=Tlp.AMBER)
    s.add(RecordRelease(record_id=record.id, sharing_group_id=group.id))
    return s.decide(s.user(s.other), record)


def _group_non_member_not_reached(s: Scene) -> bool:
    group = SharingGroup(owner_agency_id=s.own.id, name="Task force")
    s.add(group)
    record = s.record(tlp=Tlp.AMBER)
    s.add(RecordRelease(record_id=record.id, sharing_group_id=group.id))
    return s.decide(s.user(s.other), record)


def _green_same_theatre(s: Scene) -> bool:
    return s.decide(s.user(s.other), s.record(tlp=Tlp.GREEN))


def _green_other_theatre(s: Scene) -> bool:
    return s.decide(s.user(s.other), s.record(tlp=Tlp.GREEN, theatre_id=s.far_theatre.id))


def _clear_reaches_everyone(s: Scene) -> bool:
    return s.decide(s.user(s.other), s.record(tlp=Tlp.CLEAR, theatre_id=s.far_theatre.id))


def _red_not_for_own_agency_colleague(s: Scene) -> bool:
    author = s.user(s.own)
    return s.decide(s.user(s.own), s.record(tlp=Tlp.RED, created_by_id=author.id))


def _red_for_its_author(s: Scene) -> bool:
    author = s.user(s.own)
    return s.decide(author, s.record(tlp=Tlp.RED, created_by_id=author.id))


def _red_for_named_individual(s: Scene) -> bool:
    reader = s.user(s.other)
    record = s.record(tlp=Tlp.RED)
    s.add(RecordRelease(record_id=record.id, user_id=reader.id))
    return s.decide(reader, record)


def _red_released_agency_is_not_enough(s: Scene) -> bool:
    record = s.record(tlp=Tlp.RED)
    s.add(RecordRelease(record_id=record.id, agency_id=s.other.id))
    return s.decide(s.user(s.other), record)


def _nohost_beats_release(s: Scene) -> bool:
    record = s.record(tlp=Tlp.AMBER, nohost=True)
    s.add(RecordRelease(record_id=record.id, agency_id=s.host.id))
    return s.decide(s.user(s.host), record)


def _nohost_beats_clear(s: Scene) -> bool:
    return s.decide(s.user(s.host), s.record(tlp=Tlp.CLEAR, nohost=True))


def _nohost_beats_grant(s: Scene) -> bool:
    reader = s.user(s.host)
    record = s.record(nohost=True)
    s.add(RecordGrant(record_id=record.id, user_id=reader.id))
    return s.decide(reader, record)


def _nohost_does_not_hide_from_others(s: Scene) -> bool:
    record = s.record(tlp=Tlp.AMBER, nohost=True)
    s.add(RecordRelease(record_id=record.id, agency_id=s.other.id))
    return s.decide(s.user(s.other), record)


def _agreement_in_force(s: Scene) -> bool:
    s.add(
        SharingAgreement(
            title="MoU",
            grantor_agency_id=s.own.id,
            grantee_agency_id=s.other.id,
            valid_from=NOW - DAY,
            valid_until=NOW + DAY,
            max_classification=Classification.RESTRICTED,
        )
    )
    return s.decide(s.user(s.other), s.record(tlp=Tlp.AMBER))


def _agreement_ended_exactly_now(s: Scene) -> bool:
    s.add(
        SharingAgreement(
            title="MoU",
            grantor_agency_id=s.own.id,
            grantee_agency_id=s.other.id,
            valid_from=NOW - DAY,
            valid_until=NOW,
            max_classification=Classification.SECRET,
        )
    )
    return s.decide(s.user(s.other), s.record(tlp=Tlp.AMBER))


def _agreement_not_yet_started(s: Scene) -> bool:
    s.add(
        SharingAgreement(
            title="MoU",
            grantor_agency_id=s.own.id,
            grantee_agency_id=s.other.id,
            valid_from=NOW + timedelta(seconds=1),
            valid_until=NOW + DAY,
            max_classification=Classification.SECRET,
        )
    )
    return s.decide(s.user(s.other), s.record(tlp=Tlp.AMBER))


def _agreement_below_classification(s: Scene) -> bool:
    s.add(
        SharingAgreement(
            title="MoU",
            grantor_agency_id=s.own.id,
            grantee_agency_id=s.other.id,
            valid_from=NOW - DAY,
            valid_until=NOW + DAY,
            max_classification=Classification.RESTRICTED,
        )
    )
    return s.decide(s.user(s.other), s.record(tlp=Tlp.AMBER, classification=Classification.CONFIDENTIAL))


def _agreement_never_overrides_orcon(s: Scene) -> bool:
    s.add(
        SharingAgreement(
            title="MoU",
            grantor_agency_id=s.own.id,
            grantee_agency_id=s.other.id,
            valid_from=NOW - DAY,
            valid_until=NOW + DAY,
            max_classification=Classification.SECRET,
        )
    )
    return s.decide(s.user(s.other), s.record(tlp=Tlp.AMBER, orcon=True))


def _agreement_never_overrides_amber_strict(s: Scene) -> bool:
    s.add(
        SharingAgreement(
            title="MoU",
            grantor_agency_id=s.own.id,
            grantee_agency_id=s.other.id,
            valid_from=NOW - DAY,
            valid_until=NOW + DAY,
            max_classification=Classification.SECRET,
        )
    )
    return s.decide(s.user(s.other), s.record(tlp=Tlp.AMBER_STRICT))


def _agreement_runs_one_way(s: Scene) -> bool:
    s.add(
        SharingAgreement(
            title="MoU",
            grantor_agency_id=s.other.id,
            grantee_agency_id=s.own.id,
            valid_from=NOW - DAY,
            valid_until=NOW + DAY,
            max_classification=Classification.SECRET,
        )
    )
    return s.decide(s.user(s.other), s.record(tlp=Tlp.AMBER))


def _grant_to_user(s: Scene) -> bool:
    reader = s.user(s.other)
    record = s.record(tlp=Tlp.AMBER_STRICT)
    s.add(RecordGrant(record_id=record.id, user_id=reader.id, expires_at=NOW + DAY))
    return s.decide(reader, record)


def _grant_expired_exactly_now(s: Scene) -> bool:
    reader = s.user(s.other)
    record = s.record()
    s.add(RecordGrant(record_id=record.id, user_id=reader.id, expires_at=NOW))
    return s.decide(reader, record)


def _grant_to_agency(s: Scene) -> bool:
    record = s.record()
    s.add(RecordGrant(record_id=record.id, agency_id=s.other.id))
    return s.decide(s.user(s.other), record)


def _grant_respects_clearance(s: Scene) -> bool:
    reader = s.user(s.other, Classification.RESTRICTED)
    record = s.record(classification=Classification.SECRET)
    s.add(RecordGrant(record_id=record.id, user_id=reader.id))
    return s.decide(reader, record)


def _restricted_case_member(s: Scene) -> bool:
    return _restricted(s, member=True)


def _restricted_case_non_member_of_owner_agency(s: Scene) -> bool:
    return _restricted(s, member=False)


def _restricted(s: Scene, *, member: bool) -> bool:
    reader = s.user(s.own)
    case = s.record(kind=RecordKind.CASE)
    case.restricted_case_id = case.id
    s.add(
        Case(
            id=case.id,
            reference="ZOWN-2026-0001",
            title="Restricted",
            lead_agency_id=s.own.id,
            restricted=True,
        )
    )
    if member:
        s.add(CaseMember(case_id=case.id, user_id=reader.id))
    return s.decide(reader, case)


def _child_of_unreadable_case_hidden(s: Scene) -> bool:
    case = s.record(kind=RecordKind.CASE, tlp=Tlp.AMBER)
    note = s.record(
        kind=RecordKind.NOTE, tlp=Tlp.CLEAR, classification=Classification.UNCLASSIFIED, parent_id=case.id
    )
    return s.decide(s.user(s.other), note)


def _child_of_readable_case_shown(s: Scene) -> bool:
    case = s.record(kind=RecordKind.CASE, tlp=Tlp.GREEN)
    note = s.record(kind=RecordKind.NOTE, tlp=Tlp.GREEN, parent_id=case.id)
    return s.decide(s.user(s.other), note)


def _installation_admin_reads_nothing(s: Scene) -> bool:
    return s.decide(
        s.user(None, admin=True), s.record(tlp=Tlp.CLEAR, classification=Classification.UNCLASSIFIED)
    )


def _custodian_agency_reads(s: Scene) -> bool:
    return s.decide(s.user(s.other), s.record(custodian_agency_id=s.other.id))


MATRIX: list[tuple[Row, bool]] = [
    (_own_analyst_reads_own_record, True),
    (_clearance_is_absolute, False),
    (_clearance_equal_suffices, True),
    (_amber_unreleased_is_hidden, False),
    (_amber_released_to_agency, True),
    (_amber_strict_released_to_agency, True),
    (_released_through_group, True),
    (_group_non_member_not_reached, False),
    (_green_same_theatre, True),
    (_green_other_theatre, False),
    (_clear_reaches_everyone, True),
    (_red_not_for_own_agency_colleague, False),
    (_red_for_its_author, True),
    (_red_for_named_individual, True),
    (_red_released_agency_is_not_enough, False),
    (_nohost_beats_release, False),
    (_nohost_beats_clear, False),
    (_nohost_beats_grant, False),
    (_nohost_does_not_hide_from_others, True),
    (_agreement_in_force, True),
    (_agreement_ended_exactly_now, False),
    (_agreement_not_yet_started, False),
    (_agreement_below_classification, False),
    (_agreement_never_overrides_orcon, False),
    (_agreement_never_overrides_amber_strict, False),
    (_agreement_runs_one_way, False),
    (_grant_to_user, True),
    (_grant_expired_exactly_now, False),
    (_grant_to_agency, True),
    (_grant_respects_clearance, False),
    (_restricted_case_member, True),
    (_restricted_case_non_member_of_owner_agency, False),
    (_child_of_unreadable_case_hidden, False),
    (_child_of_readable_case_shown, True),
    (_installation_admin_reads_nothing, False),
    (_custodian_agency_reads, True),
]


def test_permission_matrix(scene: Scene) -> None:
    wrong = []
    for row, expected in MATRIX:
        savepoint = scene.session.begin_nested()
        if row(scene) != expected:
            wrong.append(row.__name__)
        savepoint.rollback()
    assert not wrong, f"rows answered wrongly: {wrong}"


def test_expired_grant_stops_at_once(scene: Scene) -> None:
    reader = scene.user(scene.other)
    record = scene.record()
    scene.add(RecordGrant(record_id=record.id, user_id=reader.id, expires_at=NOW + timedelta(minutes=1)))
    assert scene.decide(reader, record, at=NOW)
    assert not scene.decide(reader, record, at=NOW + timedelta(minutes=1))
    ids = scene.session.exec(select(Record.id).where(col(Record.id) == record.id)).all()
    assert ids == [record.id]

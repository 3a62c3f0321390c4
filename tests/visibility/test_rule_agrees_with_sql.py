"""The database filter and the single-record decision agree, on random worlds.

Hypothesis builds agencies (some host-nation), theatres, sharing groups, agreements in
and out of their validity, users of every clearance, and records with random markings,
releases, grants (expired or not), restricted cases with members and child records.
For every user and every record, ``readable`` (SQL, run by the real database) and
``can_read`` (Python, on the record's facts) must give the same answer; and every
record a user may read must be filed in the visibility index under a scope that user
holds, both by the rule's ``reach`` face and in the rows the flush hooks wrote; and
every row written as settled must name a record each reader holding its scope (at the
walk's ceiling) may read, at every instant tried.
"""

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
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
    RecordReach,
    RecordRelease,
    SharingAgreement,
    SharingGroup,
    SharingGroupMember,
    Theatre,
    User,
)
from ocpo_coord.models.enums import AgencyKind, Classification, RecordKind, Role, Tlp
from ocpo_coord.visibility.readable import at_instant, can_read, readable, readable_template
from ocpo_coord.visibility.rule import READ_RULE, RecordFacts
from ocpo_coord.visibility.scopes import ScopeKind, held_by

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@dataclass
class World:
    theatres: list[Theatre] = field(default_factory=list)
    agencies: list[Agency] = field(default_factory=list)
    deployments: list[AgencyTheatre] = field(default_factory=list)
    groups: list[SharingGroup] = field(default_factory=list)
    memberships: list[SharingGroupMember] = field(default_factory=list)
    agreements: list[SharingAgreement] = field(default_factory=list)
    users: list[User] = field(default_factory=list)
    records: list[Record] = field(default_factory=list)
    cases: list[Case] = field(default_factory=list)
    members: list[CaseMember] = field(default_factory=list)
    releases: list[RecordRelease] = field(default_factory=list)
    grants: list[RecordGrant] = field(default_factory=list)


# Whole days around NOW, so validity and expiry boundaries fall exactly on it.
# NOW last, so that the checks after the loop below are about NOW.
INSTANTS = (NOW - timedelta(days=1, hours=1), NOW + timedelta(days=1, hours=1), NOW)
offsets = st.integers(min_value=-2, max_value=2).map(lambda d: NOW + timedelta(days=d))
# Weighted so that the narrow paths (agreements, grants, boundaries) decide often.
mostly_false = st.integers(0, 3).map(lambda n: n == 0)
tlps = st.sampled_from([Tlp.AMBER, Tlp.AMBER, Tlp.GREEN, Tlp.GREEN, Tlp.AMBER_STRICT, Tlp.RED, Tlp.CLEAR])
clearances = st.sampled_from([*Classification, Classification.SECRET, Classification.CONFIDENTIAL])


@st.composite
def worlds(draw: st.DrawFn) -> World:
    w = World()
    tag = uuid.uuid4().hex[:6]
    w.theatres = [Theatre(code=f"T{tag}{i}", name="t", country="c") for i in range(draw(st.integers(1, 2)))]
    w.agencies = [
        Agency(code=f"A{tag}{i}", name="a", kind=AgencyKind.MISSION, host_nation=draw(st.booleans()))
        for i in range(draw(st.integers(2, 3)))
    ]
    for agency in w.agencies:
        for theatre in w.theatres:
            if draw(st.booleans()):
                w.deployments.append(AgencyTheatre(agency_id=agency.id, theatre_id=theatre.id))
    for i in range(draw(st.integers(0, 2))):
        group = SharingGroup(owner_agency_id=draw(st.sampled_from(w.agencies)).id, name=f"g{i}")
        w.groups.append(group)
        for agency in draw(st.lists(st.sampled_from(w.agencies), max_size=3, unique_by=lambda a: a.id)):
            w.memberships.append(SharingGroupMember(sharing_group_id=group.id, agency_id=agency.id))
    for _ in range(draw(st.integers(0, 4))):
        grantor, grantee = draw(st.permutations(w.agencies))[:2]
        start = draw(offsets)
        w.agreements.append(
            SharingAgreement(
                title="mou",
                grantor_agency_id=grantor.id,
                grantee_agency_id=grantee.id,
                valid_from=start,
                valid_until=start + timedelta(days=draw(st.integers(1, 2))),
                max_classification=draw(st.sampled_from(Classification)),
            )
        )
    w.users = [
        User(
            login=f"u{tag}{i}",
            display_name="u",
            agency_id=draw(st.sampled_from(w.agencies)).id,
            roles=[Role.ANALYST] if draw(st.integers(0, 9)) else [Role.INSTALLATION_ADMIN],
            clearance=draw(clearances),
        )
        for i in range(draw(st.integers(1, 5)))
    ]
    for i in range(draw(st.integers(1, 7))):
        owner, originator, custodian = (draw(st.sampled_from(w.agencies)) for _ in range(3))
        parent = draw(st.sampled_from([None, *w.records])) if w.records else None
        record = Record(
            kind=RecordKind.NOTE if parent else RecordKind.CASE,
            originator_agency_id=originator.id,
            custodian_agency_id=custodian.id,
            owner_agency_id=owner.id,
            created_by_id=draw(st.sampled_from([None, *(u.id for u in w.users)])),
            theatre_id=draw(st.sampled_from([None, *(t.id for t in w.theatres)])),
            parent_id=parent.id if parent else None,
            classification=draw(st.sampled_from(Classification)),
            tlp=draw(tlps),
            orcon=draw(mostly_false),
            nohost=draw(mostly_false),
            created_at=NOW,
            updated_at=NOW,
        )
        if parent is not None:
            record.restricted_case_id = parent.restricted_case_id
        elif draw(st.booleans()):
            record.restricted_case_id = record.id
            w.cases.append(
                Case(
                    id=record.id, reference=f"C{tag}-{i}", title="c", lead_agency_id=owner.id, restricted=True
                )
            )
            for user in draw(st.lists(st.sampled_from(w.users), max_size=3, unique_by=lambda u: u.id)):
                w.members.append(CaseMember(case_id=record.id, user_id=user.id))
        w.records.append(record)
        # A record is released to each target once (the database refuses a second).
        released: set[tuple[uuid.UUID | None, uuid.UUID | None, uuid.UUID | None]] = set()
        for _ in range(draw(st.integers(0, 3))):
            target = draw(st.sampled_from(["agency", "group", "user"] if w.groups else ["agency", "user"]))
            release = RecordRelease(record_id=record.id)
            if target == "agency":
                release.agency_id = draw(st.sampled_from(w.agencies)).id
            elif target == "group":
                release.sharing_group_id = draw(st.sampled_from(w.groups)).id
            else:
                release.user_id = draw(st.sampled_from(w.users)).id
            key = (release.agency_id, release.sharing_group_id, release.user_id)
            if key not in released:
                released.add(key)
                w.releases.append(release)
        for _ in range(draw(st.integers(0, 2))):
            grant = RecordGrant(record_id=record.id, expires_at=draw(st.one_of(st.none(), offsets)))
            if draw(st.booleans()):
                grant.agency_id = draw(st.sampled_from(w.agencies)).id
            else:
                grant.user_id = draw(st.sampled_from(w.users)).id
            w.grants.append(grant)
    return w


def _principal(w: World, user: User) -> Principal:
    agency = next(a for a in w.agencies if a.id == user.agency_id)
    return Principal(
        user_id=user.id,
        login=user.login,
        display_name=user.display_name,
        agency_id=user.agency_id,
        agency_code=agency.code,
        host_nation=agency.host_nation,
        clearance=Classification(user.clearance),
        roles=frozenset(Role(r) for r in user.roles),
        theatre_ids=frozenset(d.theatre_id for d in w.deployments if d.agency_id == agency.id),
        sharing_group_ids=frozenset(m.sharing_group_id for m in w.memberships if m.agency_id == agency.id),
    )


def _facts(w: World, record: Record) -> RecordFacts:
    return RecordFacts(
        record=record,
        releases=[r for r in w.releases if r.record_id == record.id],
        grants=[g for g in w.grants if g.record_id == record.id],
        restricted_members={m.user_id for m in w.members if m.case_id == record.restricted_case_id},
        agreements=[a for a in w.agreements if a.grantor_agency_id == record.owner_agency_id],
    )


def _in_force(w: World, user: User, at: datetime) -> list[tuple[uuid.UUID, Classification]]:
    """The grantor and ceiling of each agreement naming the user's agency in force at ``at``."""
    return [
        (a.grantor_agency_id, a.max_classification)
        for a in w.agreements
        if a.grantee_agency_id == user.agency_id and a.valid_from <= at < a.valid_until
    ]


@pytest.fixture
def engine_url(db_url: str) -> str:
    return db_url


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(world=worlds())
def test_database_filter_and_single_record_decision_agree(engine_url: str, world: World) -> None:
    engine = make_sync_engine(engine_url)
    try:
        with engine.connect() as connection:
            transaction = connection.begin()
            with Session(bind=connection) as session:
                for batch in (
                    world.theatres,
                    world.agencies,
                    world.deployments,
                    world.groups,
                    world.memberships,
                    world.agreements,
                    world.users,
                    world.records,
                    world.cases,
                    world.members,
                    world.releases,
                    world.grants,
                ):
                    session.add_all(batch)
                    session.flush()
                record_ids = [r.id for r in world.records]
                by_id = {r.id: r for r in world.records}
                settled_rows = [
                    (
                        row.record_id,
                        (ScopeKind(row.scope_kind), row.scope_id),
                        row.classification,
                        row.nohost,
                    )
                    for row in session.exec(
                        select(RecordReach).where(
                            col(RecordReach.record_id).in_(record_ids), col(RecordReach.settled)
                        )
                    ).all()
                ]
                for user in world.users:
                    principal = _principal(world, user)
                    # The same reader at other instants too: the parts of the rule's
                    # expression that do not depend on the time are built once per
                    # reader, and agreements and grants must still be judged at each.
                    for at in INSTANTS:
                        statement = select(Record.id).where(
                            col(Record.id).in_(record_ids), readable(principal, now=at)
                        )
                        in_database = set(session.exec(statement).all())
                        in_memory = {
                            record.id
                            for record in world.records
                            if can_read(
                                principal,
                                at,
                                _facts(world, record),
                                _facts(world, by_id[record.parent_id]) if record.parent_id else None,
                            )
                        }
                        assert in_database == in_memory, (user.login, at, principal, in_database ^ in_memory)
                        # The rule kept for list pages, with the instant given when it runs.
                        kept = select(Record.id).where(
                            col(Record.id).in_(record_ids), readable_template(principal)
                        )
                        in_kept = set(session.exec(kept, params=at_instant(at)).all())
                        assert in_kept == in_memory, (user.login, at, principal, in_kept ^ in_memory)
                        # Every row filed as settled, under a scope the reader holds at
                        # this instant and that a walk offers them, is one they may read:
                        # a count takes those rows without asking the rule.
                        held_now = held_by(principal, _in_force(world, user, at))
                        settled = {
                            record_id
                            for record_id, scope, level, nohost in settled_rows
                            if scope in held_now
                            and level <= held_now[scope]
                            and not (nohost and principal.host_nation)
                        }
                        assert settled <= in_memory, (user.login, at, principal, settled - in_memory)

                    held = held_by(principal, _in_force(world, user, NOW))
                    # Every readable record is filed under a scope the reader holds, at
                    # or below that scope's ceiling: a walk of that scope offers it.
                    for record_id in in_memory:
                        record = by_id[record_id]
                        offered = {
                            scope
                            for scope in READ_RULE.reach(_facts(world, record))
                            if scope in held and record.classification <= held[scope]
                        }
                        assert offered, (record_id, held)
                    filed = select(
                        RecordReach.record_id,
                        RecordReach.scope_kind,
                        RecordReach.scope_id,
                        RecordReach.classification,
                    ).where(col(RecordReach.record_id).in_(record_ids))
                    indexed = {
                        rid
                        for rid, kind, scope, level in session.exec(filed).all()
                        if (ScopeKind(kind), scope) in held and level <= held[(ScopeKind(kind), scope)]
                    }
                    assert in_database <= indexed, (user.login, in_database - indexed)
            transaction.rollback()
    finally:
        engine.dispose()

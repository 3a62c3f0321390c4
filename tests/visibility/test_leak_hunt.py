"""Property-based leak hunt: random records, every read path of both APIs, every reader.

Hypothesis writes records of every kind with random markings, releases, grants,
restrictions and links into the demo theatre. Each record carries a unique token in
its text. For every demo user, the records the in-memory rule says they may not read
must leave no trace — neither id nor token — in any REST or GraphQL answer, and the
records they may read must be found where they belong.
"""

import asyncio
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, select

from ocpo_coord.app import create_app
from ocpo_coord.auth.principal import Principal
from ocpo_coord.db.engine import make_sync_engine
from ocpo_coord.models import (
    Agency,
    AgencyTheatre,
    Case,
    CaseMember,
    Entity,
    Evidence,
    IntelCase,
    IntelItem,
    Note,
    Record,
    RecordEntity,
    RecordGrant,
    RecordRelease,
    SharingAgreement,
    SharingGroupMember,
    Task,
    Theatre,
    User,
)
from ocpo_coord.models.enums import (
    ActivityArea,
    Classification,
    EntityKind,
    EvidenceKind,
    InformationCredibility,
    RecordKind,
    Role,
    SourceReliability,
    Tlp,
)
from ocpo_coord.visibility.readable import can_read, readable
from ocpo_coord.visibility.rule import RecordFacts, ReleaseView
from tests.conftest import auth

READERS = ["unmik.analyst", "kfor.j2", "kp.investigator", "eulex.prosecutor", "admin"]
AUTHORS = ["unmik.analyst", "unmik.chief", "kfor.j2", "kp.investigator", "eulex.prosecutor"]
CHILD_KINDS = [RecordKind.NOTE, RecordKind.TASK, RecordKind.EVIDENCE]


@dataclass
class Spec:
    kind: RecordKind
    author: str
    classification: Classification
    tlp: Tlp
    nohost: bool
    orcon: bool
    restricted: bool
    parent: int | None
    release_to: list[str]
    named: list[str]
    grant_to: list[str]
    members: list[str]
    link_to: int | None


@st.composite
def specs(draw: st.DrawFn) -> list[Spec]:
    result: list[Spec] = []
    for _ in range(draw(st.integers(4, 9))):
        cases = [i for i, s in enumerate(result) if s.kind is RecordKind.CASE]
        kinds = [RecordKind.CASE, RecordKind.INTEL_ITEM, RecordKind.ENTITY] + (CHILD_KINDS if cases else [])
        kind = draw(st.sampled_from(kinds))
        result.append(
            Spec(
                kind=kind,
                author=draw(st.sampled_from(AUTHORS)),
                classification=draw(st.sampled_from(list(Classification)[:3])),
                tlp=draw(
                    st.sampled_from([Tlp.AMBER, Tlp.AMBER, Tlp.GREEN, Tlp.AMBER_STRICT, Tlp.RED, Tlp.CLEAR])
                ),
                nohost=draw(st.integers(0, 3).map(lambda n: n == 0)),
                orcon=draw(st.booleans()),
                restricted=kind is RecordKind.CASE and draw(st.integers(0, 3).map(lambda n: n == 0)),
                parent=draw(st.sampled_from(cases)) if kind in CHILD_KINDS else None,
                release_to=draw(
                    st.lists(st.sampled_from(["UNMIK", "KFOR", "KP", "EULEX", "MINUSTAH"]), max_size=3)
                ),
                named=draw(st.lists(st.sampled_from(READERS[:-1]), max_size=1)),
                grant_to=draw(st.lists(st.sampled_from(READERS[:-1]), max_size=1)),
                members=draw(st.lists(st.sampled_from(READERS[:-1]), max_size=2)),
                # Links across records are where nested paths could leak: make them common.
                link_to=draw(st.sampled_from([None, *range(len(result)), *range(len(result))]))
                if result
                else None,
            )
        )
    return result


@dataclass
class Written:
    records: list[Record] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)
    facts: dict[uuid.UUID, RecordFacts] = field(default_factory=dict)
    # Every record in the database (demo included) each reader may not read.
    hidden: dict[str, set[uuid.UUID]] = field(default_factory=dict)


def _write(db_url: str, plan: list[Spec]) -> tuple[Written, dict[str, Principal]]:
    engine = make_sync_engine(db_url)
    written = Written()
    now = datetime.now(UTC)
    try:
        with Session(engine, expire_on_commit=False) as session:
            users = {u.login: u for u in session.exec(select(User)).all()}
            agencies = {a.code: a for a in session.exec(select(Agency)).all()}
            kos = session.exec(select(Theatre).where(Theatre.code == "KOS")).one()
            for i, spec in enumerate(plan):
                token = f"tok{uuid.uuid4().hex[:12]}"
                author = users[spec.author]
                assert author.agency_id is not None
                parent = written.records[spec.parent] if spec.parent is not None else None
                record = Record(
                    kind=spec.kind,
                    originator_agency_id=author.agency_id,
                    custodian_agency_id=author.agency_id,
                    owner_agency_id=author.agency_id,
                    created_by_id=author.id,
                    theatre_id=kos.id,
                    parent_id=parent.id if parent else None,
                    restricted_case_id=parent.restricted_case_id if parent else None,
                    classification=spec.classification,
                    tlp=spec.tlp,
                    orcon=spec.orcon,
                    nohost=spec.nohost,
                    created_at=now + timedelta(microseconds=i),
                    updated_at=now,
                )
                if spec.restricted:
                    record.restricted_case_id = record.id
                session.add(record)
                session.flush()
                session.add(_domain_row(spec, record, token, author))
                session.flush()
                releases = [
                    RecordRelease(record_id=record.id, agency_id=agencies[c].id) for c in set(spec.release_to)
                ]
                if spec.tlp is Tlp.RED:
                    releases = [
                        RecordRelease(record_id=record.id, user_id=users[n].id) for n in set(spec.named)
                    ]
                grants = [
                    RecordGrant(record_id=record.id, user_id=users[g].id, expires_at=now + timedelta(days=1))
                    for g in set(spec.grant_to)
                ]
                members = {users[m].id for m in spec.members} | {author.id} if spec.restricted else set()
                session.add_all([*releases, *grants])
                session.add_all([CaseMember(case_id=record.id, user_id=m) for m in members])
                if spec.link_to is not None:
                    target = written.records[spec.link_to]
                    if spec.kind is RecordKind.INTEL_ITEM and target.kind == RecordKind.CASE:
                        session.add(IntelCase(intel_id=record.id, case_id=target.id))
                    if spec.kind is RecordKind.ENTITY:
                        session.add(RecordEntity(record_id=target.id, entity_id=record.id))
                session.flush()
                written.records.append(record)
                written.tokens.append(token)
                restricted_members = set(
                    session.exec(
                        select(CaseMember.user_id).where(CaseMember.case_id == record.restricted_case_id)
                    ).all()
                )
                written.facts[record.id] = RecordFacts(
                    record=record,
                    releases=list[ReleaseView](releases),
                    grants=grants,
                    restricted_members=restricted_members,
                    agreements=list(
                        session.exec(
                            select(SharingAgreement).where(
                                SharingAgreement.grantor_agency_id == record.owner_agency_id
                            )
                        ).all()
                    ),
                )
            session.commit()
            principals = {login: _principal(session, users[login]) for login in READERS}
            everything = set(session.exec(select(Record.id)).all())
            for login, principal in principals.items():
                visible = set(session.exec(select(Record.id).where(readable(principal, now=now))).all())
                written.hidden[login] = everything - visible
    finally:
        engine.dispose()
    return written, principals


def _domain_row(spec: Spec, record: Record, token: str, author: User) -> Any:
    assert author.agency_id is not None
    if spec.kind is RecordKind.CASE:
        return Case(
            id=record.id,
            reference=f"ZZ-{token}",
            title=f"Case {token}",
            lead_agency_id=author.agency_id,
            restricted=spec.restricted,
        )
    if spec.kind is RecordKind.INTEL_ITEM:
        return IntelItem(
            id=record.id,
            title=f"Intel {token}",
            content=token,
            information_date=date(2008, 5, 1),
            source_reliability=SourceReliability.B,
            information_credibility=InformationCredibility.PROBABLY_TRUE,
        )
    if spec.kind is RecordKind.NOTE:
        return Note(id=record.id, body=f"Note {token}")
    if spec.kind is RecordKind.TASK:
        return Task(
            id=record.id,
            title=f"Task {token}",
            activity_area=ActivityArea.INFORMATION_GATHERING,
            lead_agency_id=author.agency_id,
        )
    if spec.kind is RecordKind.EVIDENCE:
        return Evidence(id=record.id, evidence_kind=EvidenceKind.PHYSICAL, title=f"Evidence {token}")
    return Entity(id=record.id, entity_kind=EntityKind.PERSON, label=f"Person {token}")


def _principal(session: Session, user: User) -> Principal:
    agency = session.get(Agency, user.agency_id) if user.agency_id else None
    return Principal(
        user_id=user.id,
        login=user.login,
        display_name=user.display_name,
        agency_id=user.agency_id,
        agency_code=agency.code if agency else None,
        host_nation=agency.host_nation if agency else False,
        clearance=Classification(user.clearance),
        roles=frozenset(Role(r) for r in user.roles),
        theatre_ids=frozenset(
            session.exec(
                select(AgencyTheatre.theatre_id).where(AgencyTheatre.agency_id == user.agency_id)
            ).all()
        ),
        sharing_group_ids=frozenset(
            session.exec(
                select(SharingGroupMember.sharing_group_id).where(
                    SharingGroupMember.agency_id == user.agency_id
                )
            ).all()
        ),
    )


REST_GET = {
    RecordKind.CASE: "/api/v1/cases/{}",
    RecordKind.INTEL_ITEM: "/api/v1/intel-items/{}",
    RecordKind.NOTE: "/api/v1/notes/{}",
    RecordKind.TASK: "/api/v1/tasks/{}",
    RecordKind.EVIDENCE: "/api/v1/evidence/{}",
    RecordKind.ENTITY: "/api/v1/entities/{}",
}
LISTS = ["/api/v1/cases", "/api/v1/intel-items", "/api/v1/tasks", "/api/v1/evidence", "/api/v1/entities"]
NESTED = """{
  cases(first: 100) { totalCount edges { node { id reference title
    notes(first: 100) { nodes { id body } } evidence(first: 100) { nodes { id title } }
    tasks(first: 100) { nodes { id title dependsOn } } intelItems(first: 100) { nodes { id title } } } } }
  intelItems(first: 100) { totalCount nodes { id title content caseIds cases { id title } } }
  tasks(first: 100) { totalCount nodes { id title caseId case { id title } } }
  entities(first: 100) { totalCount nodes { id label links { recordId } } }
}"""


async def _everything_seen(client: httpx.AsyncClient, login: str, written: Written) -> str:
    headers = auth(login)
    seen: list[str] = []
    for path in LISTS:
        response = await client.get(path, params={"limit": 100}, headers=headers)
        seen.append(response.text)
    for record in written.records:
        response = await client.get(REST_GET[RecordKind(record.kind)].format(record.id), headers=headers)
        seen.append(
            response.text if response.status_code == 200 else f"<{response.status_code}:{response.text}>"
        )
        if record.kind == RecordKind.CASE:
            seen.append((await client.get(f"/api/v1/cases/{record.id}/notes", headers=headers)).text)
            seen.append(
                (
                    await client.get("/api/v1/evidence", params={"case_id": str(record.id)}, headers=headers)
                ).text
            )
            seen.append(
                (await client.get("/api/v1/tasks", params={"case_id": str(record.id)}, headers=headers)).text
            )
    graph = await client.post("/graphql", json={"query": NESTED}, headers=headers)
    seen.append(graph.text)
    nodes = " ".join(
        f'n{i}: node(id: "{record.id}") {{ id ... on Case {{ title }} ... on Note {{ body }} ... on Task {{ title }} }}'
        for i, record in enumerate(written.records)
    )
    seen.append((await client.post("/graphql", json={"query": "{ " + nodes + " }"}, headers=headers)).text)
    return "\n".join(seen)


@settings(
    max_examples=3,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plan=specs())
def test_no_read_path_leaks_an_unreadable_record(db_url: str, plan: list[Spec]) -> None:
    written, principals = _write(db_url, plan)
    now = datetime.now(UTC)

    async def hunt() -> None:
        app = create_app(database_url=db_url)
        try:
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://ocpo.test"
            ) as client:
                await _check_readers(client, written, principals, now)
        finally:
            await app.state.sessionmaker.kw["bind"].dispose()

    asyncio.run(hunt())


async def _check_readers(
    client: httpx.AsyncClient, written: Written, principals: dict[str, Principal], now: datetime
) -> None:
    if True:
        for login in READERS:
            principal = principals[login]
            text = await _everything_seen(client, login, written)
            for record, token in zip(written.records, written.tokens, strict=True):
                facts = written.facts[record.id]
                parent = written.facts.get(record.parent_id) if record.parent_id else None
                if can_read(principal, now, facts, parent):
                    assert token in text, f"{login} should find readable {record.kind} {token}"
                else:
                    assert token not in text, f"{login} saw the token of unreadable {record.kind}"
                    assert str(record.id) not in text, f"{login} saw the id of unreadable {record.kind}"
            leaked = [hidden for hidden in written.hidden[login] if str(hidden) in text]
            assert not leaked, f"{login} saw ids of records it may not read: {leaked}"
            await _filters_treat_unreadable_as_missing(client, login, written, principal, now)


CASE_FILTERS = ["/api/v1/intel-items", "/api/v1/tasks", "/api/v1/evidence"]


async def _filters_treat_unreadable_as_missing(
    client: httpx.AsyncClient, login: str, written: Written, principal: Principal, now: datetime
) -> None:
    """A filter naming a case the reader may not read answers exactly as one naming no case."""
    missing = str(uuid.uuid4())
    for record in written.records:
        if record.kind != RecordKind.CASE or can_read(principal, now, written.facts[record.id], None):
            continue
        for path in CASE_FILTERS:
            answers = [
                (await client.get(path, params={"case_id": case_id}, headers=auth(login))).json()
                for case_id in (str(record.id), missing)
            ]
            assert answers[0] == answers[1], f"{login}: {path}?case_id= tells an unreadable case from none"

"""Many clients writing at once: nothing acknowledged is lost, nothing refused is kept,
one of N racing updates wins, and the audit chain stays one unbroken chain.

Clients are concurrent asyncio tasks sending requests through the ASGI app, each with the
token of a demo user; they create cases, notes and tasks, and race to update one case
with the same ``expected_version``, over REST and GraphQL. Afterwards the database itself
is read: every 2xx write is there with its audit entry, every stale update (409, or a
GraphQL ``ConflictError``) changed nothing and left no audit entry, and
``verify_database`` walks an intact chain.

Both backends run it. On PostgreSQL the writers really overlap: the contested row is
locked with ``SELECT ... FOR UPDATE`` and audit appends serialise on an advisory lock.
SQLite lets one writer in at a time (``BEGIN IMMEDIATE``), so there it checks that the
version test and the write share one transaction; the invariants are the same.
"""

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlmodel import col, select

from ocpo_coord.audit.verify import verify_database
from ocpo_coord.db.engine import make_async_engine, make_sync_engine, sessionmaker_for
from ocpo_coord.models import AuditEvent, Case, Note, Record, Task
from tests.conftest import auth, gql
from tests.fixtures.audit_log import integrate

WRITERS = ("unmik.analyst", "unmik.chief", "eulex.prosecutor", "kfor.j2", "kp.investigator")
# UNMIK owns the contested case: both of its users may edit it.
EDITORS = ("unmik.analyst", "unmik.chief")
RACERS = 12
ROUNDS = 4

UPDATE_CASE = """
  mutation($input: UpdateCaseInput!) {
    updateCase(input: $input) {
      __typename
      ... on CasePayload { case { version title } }
      ... on UserError { message field }
    }
  }"""
NOTE_THEN_UPDATE = """
  mutation($note: CreateNoteInput!, $update: UpdateCaseInput!) {
    note: createNote(input: $note) { __typename ... on NotePayload { note { id } } }
    update: updateCase(input: $update) {
      __typename
      ... on CasePayload { case { version title } }
      ... on UserError { message field }
    }
  }"""


@dataclass
class Ledger:
    """What the clients were told: the writes acknowledged and the updates refused."""

    created: dict[str, list[tuple[str, dict[str, Any]]]] = field(default_factory=dict)
    won: list[tuple[str, str]] = field(default_factory=list)  # (case id, title)
    refused: list[tuple[str, str]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def create(self, kind: str, response: httpx.Response, sent: dict[str, Any]) -> str | None:
        if response.status_code != 201:
            self.failures.append(f"create {kind}: {response.status_code} {response.text[:300]}")
            return None
        record_id: str = response.json()["id"]
        self.created.setdefault(kind, []).append((record_id, sent))
        return record_id

    def update(self, case_id: str, title: str, response: httpx.Response) -> None:
        if response.status_code == 200:
            self.won.append((case_id, title))
        elif response.status_code == 409 and response.json()["detail"]["field"] == "expected_version":
            self.refused.append((case_id, title))
        else:
            self.failures.append(f"update {title!r}: {response.status_code} {response.text[:300]}")

    def graphql_update(self, case_id: str, title: str, body: dict[str, Any], alias: str) -> None:
        result = (body.get("data") or {}).get(alias)
        kind = result["__typename"] if isinstance(result, dict) else None
        if kind == "CasePayload":
            self.won.append((case_id, title))
        elif kind == "ConflictError" and result is not None and result["field"] == "expectedVersion":
            self.refused.append((case_id, title))
        else:
            self.failures.append(f"GraphQL update {title!r}: {body}")


async def run_all(clients: list[Callable[[], Awaitable[None]]]) -> None:
    """Start every client at once; an exception escaping the app fails the test with its
    own traceback, after every client has finished."""
    results = await asyncio.gather(*(client() for client in clients), return_exceptions=True)
    errors = [r for r in results if isinstance(r, BaseException)]
    if errors:
        raise errors[0]


async def create_contested_case(client: httpx.AsyncClient) -> str:
    response = await client.post(
        "/api/v1/cases",
        json={
            "title": "Contested: fuel smuggling at Jarinje",
            "theatre": "KOS",
            # Every writer's agency takes part, so each may add notes to it.
            "participating_agencies": ["EULEX", "KFOR", "KP"],
            "markings": {"releasable_to": ["EULEX", "KFOR", "KP"]},
        },
        headers=auth(EDITORS[0]),
    )
    assert response.status_code == 201, response.text
    case_id: str = response.json()["id"]
    return case_id


async def database_state(db_url: str) -> tuple[dict[str, Any], list[AuditEvent]]:
    """Cases, notes and tasks by id, and the audit log in chain order, read directly."""
    engine = make_async_engine(db_url)
    try:
        async with sessionmaker_for(engine)() as session:
            rows: dict[str, Any] = {}
            for case in (await session.exec(select(Case))).all():
                rows[str(case.id)] = case
            for note in (await session.exec(select(Note))).all():
                rows[str(note.id)] = note
            for task in (await session.exec(select(Task))).all():
                rows[str(task.id)] = task
            for record in (await session.exec(select(Record))).all():
                rows[f"record:{record.id}"] = record
            audit = list((await session.exec(select(AuditEvent).order_by(col(AuditEvent.seq)))).all())
            return rows, audit
    finally:
        await engine.dispose()


async def assert_chain_intact(db_url: str, audit: list[AuditEvent]) -> None:
    """Every entry the requests wrote is integrated into the log, which verifies."""
    await integrate(db_url)
    engine = make_sync_engine(db_url)
    try:
        report = verify_database(engine)
    finally:
        engine.dispose()
    assert report.ok, report.problem
    assert report.checked == len(audit)
    seqs = [event.seq for event in audit]
    assert len(set(seqs)) == len(seqs)


def updates_of(audit: list[AuditEvent], case_id: str) -> list[AuditEvent]:
    return [e for e in audit if e.action == "case.update" and str(e.record_id) == case_id]


async def test_concurrent_writers_lose_nothing_and_one_stale_update_wins(
    client: httpx.AsyncClient, db_url: str
) -> None:
    contested = await create_contested_case(client)
    ledger = Ledger()

    def rest_racer(i: int) -> Callable[[], Awaitable[None]]:
        async def race() -> None:
            title = f"REST racer {i}"
            response = await client.patch(
                f"/api/v1/cases/{contested}",
                json={"title": title, "expected_version": 1},
                headers=auth(EDITORS[i % 2]),
            )
            ledger.update(contested, title, response)

        return race

    def graphql_racer(i: int) -> Callable[[], Awaitable[None]]:
        async def race() -> None:
            title = f"GraphQL racer {i}"
            body = await gql(
                client,
                EDITORS[i % 2],
                UPDATE_CASE,
                {"input": {"id": contested, "title": title, "expectedVersion": 1}},
            )
            ledger.graphql_update(contested, title, body, "updateCase")

        return race

    def writer(login: str) -> Callable[[], Awaitable[None]]:
        """Opens a case, adds a note and a task to it, edits it, and adds a note to the
        contested case, while the racers fight over that one."""

        async def write() -> None:
            headers = auth(login)
            case = {"title": f"Case of {login}", "theatre": "KOS"}
            case_id = ledger.create(
                "case", await client.post("/api/v1/cases", json=case, headers=headers), case
            )
            if case_id is None:
                return
            note = {"case_id": case_id, "body": f"Note by {login}"}
            ledger.create("note", await client.post("/api/v1/notes", json=note, headers=headers), note)
            task = {
                "title": f"Task of {login}",
                "activity_area": "information_gathering",
                "theatre": "KOS",
                "case_id": case_id,
            }
            ledger.create("task", await client.post("/api/v1/tasks", json=task, headers=headers), task)
            title = f"Case of {login}, edited"
            ledger.update(
                case_id,
                title,
                await client.patch(
                    f"/api/v1/cases/{case_id}", json={"title": title, "expected_version": 1}, headers=headers
                ),
            )
            on_contested = {"case_id": contested, "body": f"Contested-case note by {login}"}
            ledger.create(
                "note", await client.post("/api/v1/notes", json=on_contested, headers=headers), on_contested
            )

        return write

    clients = [
        *(rest_racer(i) for i in range(RACERS - 4)),
        *(graphql_racer(i) for i in range(4)),
        *(writer(login) for login in WRITERS),
    ]
    await run_all(clients)

    assert not ledger.failures, "\n".join(ledger.failures)
    contested_won = [title for case_id, title in ledger.won if case_id == contested]
    assert len(contested_won) == 1, contested_won
    assert len([t for c, t in ledger.refused if c == contested]) == RACERS - 1
    assert len(ledger.won) == 1 + len(WRITERS)  # each writer's own, uncontested edit won

    rows, audit = await database_state(db_url)
    # The one winner is what the database holds; the losers changed nothing.
    assert rows[contested].title == contested_won[0]
    assert rows[f"record:{contested}"].version == 2
    contested_updates = updates_of(audit, contested)
    assert [e.after["title"] for e in contested_updates if e.after] == contested_won
    edited = dict(ledger.won)
    for case_id, title in edited.items():
        assert rows[case_id].title == title
    # Every acknowledged create is in the database, as sent, with its audit entry.
    assert {kind: len(made) for kind, made in ledger.created.items()} == {
        "case": len(WRITERS),
        "note": 2 * len(WRITERS),
        "task": len(WRITERS),
    }
    created_audit = {(e.action, str(e.record_id)) for e in audit if e.action.endswith(".create")}
    for kind, made in ledger.created.items():
        for record_id, sent in made:
            row = rows[record_id]
            assert (f"{kind}.create", record_id) in created_audit
            if "title" in sent:  # as sent, or as the acknowledged edit left it
                assert row.title == edited.get(record_id, sent["title"]), kind
            if "body" in sent:
                assert row.body == sent["body"], kind
            if "case_id" in sent:
                assert str(rows[f"record:{record_id}"].parent_id) == sent["case_id"], kind
    await assert_chain_intact(db_url, audit)


async def test_rounds_of_racing_updates_keep_every_winner_and_no_loser(
    client: httpx.AsyncClient, db_url: str
) -> None:
    """Round after round, every racer sends the version it last saw: one per round wins,
    the version advances by exactly one, and the audit log holds the winners in order."""
    contested = await create_contested_case(client)
    winners: list[str] = []
    for round_ in range(1, ROUNDS + 1):
        ledger = Ledger()

        def racer(i: int, version: int, ledger: Ledger) -> Callable[[], Awaitable[None]]:
            async def race() -> None:
                title = f"round {version} racer {i}"
                response = await client.patch(
                    f"/api/v1/cases/{contested}",
                    json={"title": title, "expected_version": version},
                    headers=auth(EDITORS[i % 2]),
                )
                ledger.update(contested, title, response)

            return race

        await run_all([racer(i, round_, ledger) for i in range(RACERS)])
        assert not ledger.failures, "\n".join(ledger.failures)
        assert len(ledger.won) == 1, (round_, ledger.won)
        assert len(ledger.refused) == RACERS - 1
        winners.append(ledger.won[0][1])

    rows, audit = await database_state(db_url)
    assert rows[f"record:{contested}"].version == 1 + ROUNDS
    assert rows[contested].title == winners[-1]
    updates = updates_of(audit, contested)
    assert [e.after["title"] for e in updates if e.after] == winners
    assert [e.before["version"] for e in updates if e.before] == list(range(1, ROUNDS + 1))
    await assert_chain_intact(db_url, audit)


async def test_batched_mutations_race_single_updates_without_deadlock(
    client: httpx.AsyncClient, db_url: str, backend: str, request: pytest.FixtureRequest
) -> None:
    """GraphQL documents that add a note to the contested case and then update it, racing
    REST updates of the same case: all of them answer, and one update wins.

    Each document's createNote inserts a note whose foreign key takes a KEY SHARE lock on
    the case's record row; its updateCase then wants that row FOR UPDATE. Unless every
    writer takes the audit chain's lock before any row lock (``serialize_writes``), a
    second writer holding a row lock and waiting for the chain closes a deadlock cycle.
    """
    contested = await create_contested_case(client)
    ledger = Ledger()

    def batched(i: int) -> Callable[[], Awaitable[None]]:
        async def race() -> None:
            title = f"batched racer {i}"
            body = await gql(
                client,
                EDITORS[i % 2],
                NOTE_THEN_UPDATE,
                {
                    "note": {"caseId": contested, "body": f"note {i}", "markings": {}},
                    "update": {"id": contested, "title": title, "expectedVersion": 1},
                },
            )
            ledger.graphql_update(contested, title, body, "update")
            note = (body.get("data") or {}).get("note") or {}
            if note.get("__typename") != "NotePayload":
                ledger.failures.append(f"note of {title!r}: {body}")

        return race

    def single(i: int) -> Callable[[], Awaitable[None]]:
        async def race() -> None:
            title = f"single racer {i}"
            response = await client.patch(
                f"/api/v1/cases/{contested}",
                json={"title": title, "expected_version": 1},
                headers=auth(EDITORS[i % 2]),
            )
            ledger.update(contested, title, response)

        return race

    await run_all([f(i) for i in range(RACERS // 2) for f in (batched, single)])
    assert not ledger.failures, "\n".join(ledger.failures)
    assert len(ledger.won) == 1, ledger.won
    assert len(ledger.refused) == RACERS - 1
    rows, audit = await database_state(db_url)
    assert rows[contested].title == ledger.won[0][1]
    assert len(updates_of(audit, contested)) == 1
    notes = [
        r
        for r in rows.values()
        if isinstance(r, Record) and r.kind == "note" and str(r.parent_id) == contested
    ]
    assert len(notes) == RACERS // 2
    await assert_chain_intact(db_url, audit)

"""Protected records returned in list pages and nested fields are audited, one entry per
kind per request, in the request's transaction; auditors see only the ids they may read."""

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, select, text
from sqlmodel import col

from ocpo_coord.audit import service as audit_service
from ocpo_coord.audit.verify import verify_database
from ocpo_coord.case.repository import CaseRepository
from ocpo_coord.exceptions import NotFound
from ocpo_coord.models import AuditEvent, Record
from tests.conftest import auth
from tests.fixtures.audit_log import integrate
from tests.fixtures.queries import audit_rows
from tests.fixtures.records import protected as _protected


async def _entries(db_url: str, request_id: str) -> dict[str, AuditEvent]:
    rows = [r for r in await audit_rows(db_url) if r.request_id == request_id]
    by_action = {r.action: r for r in rows}
    assert len(by_action) == len(rows), "one entry per action and kind"
    return by_action


async def _get(client: httpx.AsyncClient, login: str, path: str, rid: str, **params: Any) -> Any:
    response = await client.get(path, params=params, headers={**auth(login), "X-Request-ID": rid})
    assert response.status_code == 200, response.text
    return response.json()


async def _case_id(client: httpx.AsyncClient, reference: str) -> str:
    found = await _get(client, "unmik.chief", "/api/v1/cases", "lookup", text=reference)
    return str(found["items"][0]["id"])


async def test_a_rest_list_names_exactly_the_protected_records_it_returned(
    client: httpx.AsyncClient, db_url: str
) -> None:
    items = (await _get(client, "eulex.chief", "/api/v1/cases", "rest-cases", limit=100))["items"]
    protected = [c["id"] for c in items if _protected(c)]
    assert protected
    assert len(protected) < len(items)
    entries = await _entries(db_url, "rest-cases")
    assert set(entries) == {"case.list"}
    entry = entries["case.list"]
    assert entry.record_ids == protected  # in page order; no CLEAR/UNCLASSIFIED one
    assert entry.record_id is None
    assert entry.record_kind == "case"
    assert entry.actor_name.endswith("(eulex.chief)")
    # A restricted case eulex.chief is no member of was neither returned nor named.
    assert await _case_id(client, "UNMIK-2008-0019") not in entry.record_ids

    # Search and a case's sub-list go through the same pages.
    found = await _get(client, "eulex.chief", "/api/v1/intel-items", "rest-search", text="a")
    assert (await _entries(db_url, "rest-search"))["intel_item.list"].record_ids == [
        i["id"] for i in found["items"] if _protected(i)
    ]
    case_id = protected[0]
    notes = await _get(client, "eulex.chief", f"/api/v1/cases/{case_id}/notes", "rest-notes")
    expected = [n["id"] for n in notes["items"] if _protected(n)]
    assert {a: e.record_ids for a, e in (await _entries(db_url, "rest-notes")).items()} == (
        {"note.list": expected} if expected else {}
    )


async def test_a_page_of_only_public_records_writes_nothing(client: httpx.AsyncClient, db_url: str) -> None:
    before = len(await audit_rows(db_url))
    await _get(client, "eulex.chief", "/api/v1/cases", "rest-none", text="no such case anywhere")
    assert len(await audit_rows(db_url)) == before


NESTED = """
{ cases(first: 30) { edges { node { id markings { classification tlp }
    intelItems(first: 10) { nodes { id markings { classification tlp } cases { id markings { classification tlp } } } }
    tasks(first: 10) { nodes { id markings { classification tlp } dependencies { id markings { classification tlp } } } }
} } } }
"""


async def _graphql(client: httpx.AsyncClient, login: str, query: str, rid: str) -> dict[str, Any]:
    response = await client.post(
        "/graphql", json={"query": query}, headers={**auth(login), "X-Request-ID": rid}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    return body


async def test_a_graphql_connection_and_its_nested_fields_are_audited_per_kind(
    client: httpx.AsyncClient, db_url: str
) -> None:
    body = await _graphql(client, "unmik.analyst", NESTED, "gql-nested")
    cases = [e["node"] for e in body["data"]["cases"]["edges"]]
    intel = [i for c in cases for i in c["intelItems"]["nodes"]]
    tasks = [t for c in cases for t in c["tasks"]["nodes"]]
    returned = {
        "case.list": [c["id"] for c in cases if _protected(c)],
        "intel_item.read_nested": {i["id"] for i in intel if _protected(i)},
        "case.read_nested": {c["id"] for i in intel for c in i["cases"] if _protected(c)},
        "task.read_nested": {
            t["id"] for t in tasks + [d for t in tasks for d in t["dependencies"]] if _protected(t)
        },
    }
    assert all(returned.values()), returned  # the seed exercises every way
    entries = await _entries(db_url, "gql-nested")
    assert set(entries) == set(returned)
    assert entries["case.list"].record_ids == returned["case.list"]
    for action in ("intel_item.read_nested", "case.read_nested", "task.read_nested"):
        ids = entries[action].record_ids or []
        assert len(ids) == len(set(ids)), action
        assert set(ids) == returned[action], action
        assert entries[action].record_kind == action.split(".")[0]


async def test_handover_lines_name_the_protected_records_they_show(
    client: httpx.AsyncClient, db_url: str, engine: Engine
) -> None:
    handover = (await _get(client, "unmik.chief", "/api/v1/handovers", "ho"))[0]
    lines = await _get(client, "unmik.chief", f"/api/v1/handovers/{handover['id']}/lines", "ho-lines")
    shown = [ln["subject_id"] for ln in lines if ln["readable"] and ln["classification"]]
    with engine.connect() as conn:
        markings = conn.execute(select(col(Record.id), col(Record.classification), col(Record.tlp))).all()
    protected = {str(i) for i, c, t in markings if str(i) in shown and (c != 0 or t != "CLEAR")}
    entries = await _entries(db_url, "ho-lines")
    named = {i for e in entries.values() for i in e.record_ids or []}
    assert protected
    assert named == protected
    assert all(a.endswith(".read_handover_line") for a in entries)


class _Boom(Exception):
    pass


async def test_a_failed_or_refused_request_leaves_no_read_entry(
    app: FastAPI, db_url: str, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://ocpo.test") as client:
        before = await audit_rows(db_url)
        # The second of the request's entries fails to be written: the first goes too.
        written = 0
        record_event = audit_service.record_event

        async def second_fails(*args: Any, **kwargs: Any) -> AuditEvent:
            nonlocal written
            written += 1
            if written == 2:
                raise _Boom
            return await record_event(*args, **kwargs)

        monkeypatch.setattr("ocpo_coord.audit.reads.record_event", second_fails)
        response = await client.post(
            "/graphql", json={"query": NESTED}, headers={**auth("unmik.analyst"), "X-Request-ID": "gql-fail"}
        )
        assert response.status_code == 500
        assert written == 2
        monkeypatch.undo()

        # A REST list refused after its page was read: only the refusal is kept.
        def refuse(page: Any) -> Any:
            raise NotFound("case")

        monkeypatch.setattr("ocpo_coord.api.records.envelope", refuse)
        response = await client.get(
            "/api/v1/cases", headers={**auth("unmik.analyst"), "X-Request-ID": "rest-refused"}
        )
        assert response.status_code == 404
        after = await audit_rows(db_url)
    new = after[len(before) :]
    assert [(r.request_id, r.action) for r in new] == [("rest-refused", "access.refused")]
    assert verify_database(engine).ok


async def test_records_in_a_partly_failed_graphql_answer_are_still_audited(
    client: httpx.AsyncClient, db_url: str, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(CaseRepository, "get", broken)
    response = await client.post(
        "/graphql",
        json={
            "query": '{ cases(first: 20) { nodes { id markings { classification tlp } } } case(id: "00000000-0000-4000-8000-000000000000") { id } }'
        },
        headers={**auth("unmik.analyst"), "X-Request-ID": "gql-partial"},
    )
    body = response.json()
    assert body["errors"][0]["extensions"] == {"code": "INTERNAL_ERROR"}
    # The request's work is rolled back, but the cases went out: their reads are kept.
    returned = [c["id"] for c in body["data"]["cases"]["nodes"] if _protected(c)]
    assert returned
    assert (await _entries(db_url, "gql-partial"))["case.list"].record_ids == returned
    assert verify_database(engine).ok


async def test_the_chain_covers_the_named_records(
    client: httpx.AsyncClient, db_url: str, engine: Engine
) -> None:
    await _get(client, "unmik.analyst", "/api/v1/cases", "chain-1", limit=100)
    await _graphql(client, "unmik.analyst", NESTED, "chain-2")
    await integrate(db_url)
    report = verify_database(engine)
    assert report.ok, report.problem
    entry = (await _entries(db_url, "chain-1"))["case.list"]
    named = entry.record_ids or []
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("DROP TRIGGER audit_event_append_only ON audit_event"))
        else:
            conn.execute(text("DROP TRIGGER audit_event_no_update"))
        # Striking one record from the list of what was read is caught.
        conn.execute(
            text("UPDATE audit_event SET record_ids = :ids WHERE seq = :s"),
            {"ids": '["' + '","'.join(named[1:]) + '"]', "s": entry.seq},
        )
    report = verify_database(engine)
    assert report.bad_seq == entry.seq
    assert "changed" in report.problem
    with engine.begin() as conn:
        conn.execute(text("UPDATE audit_event SET record_ids = NULL WHERE seq = :s"), {"s": entry.seq})
    assert verify_database(engine).bad_seq == entry.seq


async def _audit(client: httpx.AsyncClient, login: str, **params: Any) -> list[dict[str, Any]]:
    page = await _get(client, login, "/api/v1/audit-events", "auditor", limit=100, **params)
    items: list[dict[str, Any]] = page["items"]
    return items


async def test_an_auditor_sees_only_the_ids_they_may_read(client: httpx.AsyncClient, db_url: str) -> None:
    secret = await _case_id(client, "UNMIK-2008-0019")  # restricted: eulex.chief is no member
    await _get(client, "unmik.analyst", "/api/v1/cases", "analyst-all", limit=100)
    await _get(client, "unmik.analyst", "/api/v1/cases", "analyst-one", text="UNMIK-2008-0019")
    full = (await _entries(db_url, "analyst-all"))["case.list"].record_ids or []
    assert secret in full
    assert (await _entries(db_url, "analyst-one"))["case.list"].record_ids == [secret]
    readable = {
        c["id"] for c in (await _get(client, "eulex.chief", "/api/v1/cases", "x", limit=100))["items"]
    }
    assert secret not in readable

    seen = {e["request_id"]: e for e in await _audit(client, "eulex.chief", action="case.list")}
    # The entry naming readable and unreadable cases shows only the readable ones, in
    # order, and nothing that counts the others.
    shown = seen["analyst-all"]
    assert shown["record_ids"] == [i for i in full if i in readable]
    assert shown["record_id"] is None
    assert shown["detail"] == "returned in a list page"
    assert str(len(full)) not in shown["detail"]
    # The entry naming only the unreadable case is not shown at all, by any filter.
    assert "analyst-one" not in seen
    assert not await _audit(client, "eulex.chief", record_id=secret)
    # "Who read this record" finds the list entries naming it, for whom may read it.
    some = shown["record_ids"][0]
    assert "analyst-all" in {e["request_id"] for e in await _audit(client, "eulex.chief", record_id=some)}
    # GraphQL answers the same.
    response = await client.post(
        "/graphql",
        json={
            "query": '{ auditEvents(first: 100, filter: {action: "case.list"}) { nodes { requestId recordIds } } }'
        },
        headers=auth("eulex.chief"),
    )
    items = {e["requestId"]: e for e in response.json()["data"]["auditEvents"]["nodes"]}
    assert items["analyst-all"]["recordIds"] == shown["record_ids"]
    assert "analyst-one" not in items

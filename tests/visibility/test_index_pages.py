"""Pages found through the visibility index are the pages the rule gives.

The index files records under scopes that *could* read them; the rule decides. Here
the reader holds a scope full of records the rule refuses (an ended agreement keeps
its grantor's scope, and the grantor writes a run of new items), and the pages must
still be complete, in order, counted right, and free of the refused records. The
reference is the rule itself, run directly against the database.
"""

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event
from sqlmodel import col, select, update

from ocpo_coord.auth.principal import load_principal
from ocpo_coord.config import get_settings
from ocpo_coord.db.engine import make_async_engine, sessionmaker_for
from ocpo_coord.models import Agency, Record, RecordGrant, RecordReach, Theatre
from ocpo_coord.models.enums import RecordKind
from ocpo_coord.visibility.readable import readable
from tests.conftest import auth, gql, unreleased_items

REFUSED_RUN = 9


def _at(**delta: float) -> str:
    return (datetime.now(UTC) + timedelta(**delta)).isoformat()


async def _ended_agreement(client: httpx.AsyncClient) -> None:
    body = {
        "title": "EULEX-UNMIK interim arrangement",
        "grantee_agency": "UNMIK",
        "valid_from": _at(days=-1),
        "valid_until": _at(days=30),
        "max_classification": "RESTRICTED",
    }
    created = await client.post("/api/v1/agreements", json=body, headers=auth("eulex.chief"))
    assert created.status_code == 201, created.text
    ended = await client.post(f"/api/v1/agreements/{created.json()['id']}/end", headers=auth("eulex.chief"))
    assert ended.status_code == 200, ended.text


async def _eulex_items(client: httpx.AsyncClient) -> set[str]:
    return set(await unreleased_items(client, "eulex.prosecutor", REFUSED_RUN, "EULEX internal report"))


async def _by_the_rule(
    db_url: str,
    login: str,
    theatre: str | None = None,
    owner: str | None = None,
    kind: RecordKind = RecordKind.INTEL_ITEM,
) -> list[str]:
    engine = make_async_engine(db_url)
    try:
        async with sessionmaker_for(engine)() as session:
            principal = await load_principal(session, login)
            statement = (
                select(Record.id)
                .where(
                    col(Record.kind) == kind.value,
                    readable(principal, now=datetime.now(UTC)),
                )
                .order_by(col(Record.created_at).desc(), col(Record.id).desc())
            )
            if theatre is not None:
                theatre_id = select(Theatre.id).where(Theatre.code == theatre).scalar_subquery()
                statement = statement.where(col(Record.theatre_id) == theatre_id)
            if owner is not None:
                owner_id = select(Agency.id).where(Agency.code == owner).scalar_subquery()
                statement = statement.where(col(Record.owner_agency_id) == owner_id)
            return [str(i) for i in (await session.exec(statement)).all()]
    finally:
        await engine.dispose()


async def _lapse_grants(db_url: str) -> None:
    """Every grant has expired: what time would do, done to the rows."""
    engine = make_async_engine(db_url)
    try:
        async with sessionmaker_for(engine)() as session:
            await session.exec(
                update(RecordGrant).values(expires_at=datetime.now(UTC) - timedelta(minutes=1))
            )
            await session.commit()
    finally:
        await engine.dispose()


async def _walk_rest(
    client: httpx.AsyncClient, login: str, limit: int, **filters: str
) -> tuple[list[str], list[Any]]:
    seen: list[str] = []
    counts: list[Any] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"limit": limit, **filters}
        if cursor:
            params["after"] = cursor
        response = await client.get("/api/v1/intel-items", params=params, headers=auth(login))
        assert response.status_code == 200, response.text
        page = response.json()
        seen += [item["id"] for item in page["items"]]
        counts.append((page["total_count"], page["total_count_capped"]))
        cursor = page["next_cursor"]
        if cursor is None:
            return seen, counts


async def test_refused_candidates_neither_shorten_nor_leak_into_pages(
    client: httpx.AsyncClient, db_url: str
) -> None:
    await _ended_agreement(client)
    refused = await _eulex_items(client)
    expected = await _by_the_rule(db_url, "unmik.analyst")
    assert not refused & set(expected)
    assert len(expected) > 4

    for limit in (1, 2, 5, 100):
        seen, counts = await _walk_rest(client, "unmik.analyst", limit)
        assert seen == expected, limit
        assert set(counts) == {(len(expected), False)}, limit

    query = """query($after: String) { intelItems(first: 2, after: $after) {
      totalCount pageInfo { hasNextPage endCursor } edges { node { id } } } }"""
    ids: list[str] = []
    after = None
    while True:
        data = (await gql(client, "unmik.analyst", query, {"after": after}))["data"]["intelItems"]
        assert data["totalCount"] == len(expected)
        ids += [edge["node"]["id"] for edge in data["edges"]]
        if not data["pageInfo"]["hasNextPage"]:
            break
        after = data["pageInfo"]["endCursor"]
    assert ids == expected


async def test_counts_stop_at_the_cap_and_say_so(
    client: httpx.AsyncClient, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _ended_agreement(client)
    await _eulex_items(client)
    expected = await _by_the_rule(db_url, "unmik.analyst")
    settings = get_settings()
    monkeypatch.setattr(settings, "count_cap", 3)
    page = (await client.get("/api/v1/intel-items?limit=2", headers=auth("unmik.analyst"))).json()
    assert (page["total_count"], page["total_count_capped"]) == (3, True)
    monkeypatch.setattr(settings, "count_cap", len(expected))
    page = (await client.get("/api/v1/intel-items?limit=2", headers=auth("unmik.analyst"))).json()
    assert (page["total_count"], page["total_count_capped"]) == (len(expected), False)


async def test_every_cap_counts_what_the_rule_gives(
    client: httpx.AsyncClient, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The count first walks the reader's own agency scope alone and stops there when
    that already exceeds the cap; otherwise it merges every scope. Caps on both sides
    of the agency's own share must all give what the rule gives, with refused
    candidates in another scope (an ended agreement) and newest in the agency's own
    scope (grants to the agency that have lapsed: the index keeps their scope)."""
    await _ended_agreement(client)
    refused = await _eulex_items(client)
    for record_id in refused:
        body = {"agency": "UNMIK", "expires_at": _at(days=30), "reason": "Joint patrol."}
        granted = await client.post(
            f"/api/v1/records/{record_id}/grants", json=body, headers=auth("eulex.prosecutor")
        )
        assert granted.status_code == 201, granted.text
    assert set(await _by_the_rule(db_url, "unmik.analyst")) >= refused
    await _lapse_grants(db_url)
    expected = await _by_the_rule(db_url, "unmik.analyst")
    assert not refused & set(expected)
    own = await _by_the_rule(db_url, "unmik.analyst", owner="UNMIK")
    # Some caps the agency scope settles alone, and some it cannot; and a count of the
    # agency scope's entries without the rule would pass a cap the rule does not.
    assert 1 < len(own) < len(expected) < len(own) + len(refused)
    settings = get_settings()
    for cap in range(1, len(expected) + 2):
        monkeypatch.setattr(settings, "count_cap", cap)
        page = (await client.get("/api/v1/intel-items?limit=1", headers=auth("unmik.analyst"))).json()
        assert (page["total_count"], page["total_count_capped"]) == (
            min(cap, len(expected)),
            len(expected) > cap,
        ), cap


async def test_a_filtered_list_walks_the_same_rule(client: httpx.AsyncClient, db_url: str) -> None:
    await _ended_agreement(client)
    refused = await _eulex_items(client)
    expected = await _by_the_rule(db_url, "unmik.analyst", theatre="KOS")
    response = await client.get(
        "/api/v1/intel-items", params={"limit": 100, "theatre": "KOS"}, headers=auth("unmik.analyst")
    )
    assert response.status_code == 200, response.text
    listed = [item["id"] for item in response.json()["items"]]
    assert not refused & set(listed)
    assert listed == expected
    assert response.json()["total_count"] == len(expected)


async def _one_instant_for_every_item(db_url: str) -> None:
    """Every intelligence item created at the same instant, in the records and in the
    index: only the ids order them."""
    instant = datetime.now(UTC) - timedelta(days=1)
    engine = make_async_engine(db_url)
    try:
        async with sessionmaker_for(engine)() as session:
            kind = RecordKind.INTEL_ITEM.value
            await session.exec(update(Record).where(col(Record.kind) == kind).values(created_at=instant))
            await session.exec(
                update(RecordReach).where(col(RecordReach.kind) == kind).values(created_at=instant)
            )
            await session.commit()
    finally:
        await engine.dispose()


async def test_records_created_at_one_instant_are_paged_once_each_in_id_order(
    client: httpx.AsyncClient, db_url: str
) -> None:
    """The cursor is a row comparison on (time, id): records that share the time are
    told apart by the id alone, on the index walk and on a filtered list."""
    await _ended_agreement(client)
    refused = await _eulex_items(client)
    await _one_instant_for_every_item(db_url)
    expected = await _by_the_rule(db_url, "unmik.analyst")
    in_kos = await _by_the_rule(db_url, "unmik.analyst", theatre="KOS")
    assert len(expected) > 4
    assert len(in_kos) > 2
    assert not refused & set(expected)
    assert expected == sorted(expected, key=lambda i: UUID(i).bytes, reverse=True)
    for limit in (1, 2, 3):
        seen, _ = await _walk_rest(client, "unmik.analyst", limit)
        assert seen == expected, limit
        seen, _ = await _walk_rest(client, "unmik.analyst", limit, theatre="KOS")
        assert seen == in_kos, limit


@pytest.mark.parametrize("login", ["unmik.chief", "eulex.chief", "kfor.j2"])
async def test_the_whole_evidence_list_walks_the_index_to_what_the_rule_gives(
    client: httpx.AsyncClient, app: FastAPI, db_url: str, login: str
) -> None:
    """Evidence listed without a case is an unfiltered list like the others: found
    through the visibility index, paged and counted as the rule gives."""
    expected = await _by_the_rule(db_url, login, kind=RecordKind.EVIDENCE)
    assert len(expected) >= 2, "the seed gives this reader evidence to page through"
    sent: list[str] = []
    sync_engine = app.state.sessionmaker.kw["bind"].sync_engine

    def note(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        sent.append(statement)

    seen: list[str] = []
    cursor = None
    event.listen(sync_engine, "before_cursor_execute", note)
    try:
        while True:
            params: dict[str, str | int] = {"limit": 1}
            if cursor:
                params["after"] = cursor
            response = await client.get("/api/v1/evidence", params=params, headers=auth(login))
            assert response.status_code == 200, response.text
            page = response.json()
            assert (page["total_count"], page["total_count_capped"]) == (len(expected), False)
            seen += [item["id"] for item in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
    finally:
        event.remove(sync_engine, "before_cursor_execute", note)
    assert seen == expected
    assert any("record_reach" in s and "count_candidates" in s for s in sent)

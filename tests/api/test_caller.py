"""The caller's one round trip brings what the queries it replaces would have answered.

``load_caller`` loads the principal and, in the same statement, the agreements that
decide its reader scopes and the directory's codes. Each is compared here with the
query it stands in for (``load_principal``, ``reader_scopes``, the directory's own
codes query), for every account of the seed, at instants on either side of
agreements that start, end, overlap and reach different ceilings.
"""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, event
from sqlmodel import col, select

from ocpo_coord.api.caller import load_caller
from ocpo_coord.auth.directory import directory_codes, list_agencies, list_theatres
from ocpo_coord.auth.principal import load_principal
from ocpo_coord.db.engine import make_async_engine, sessionmaker_for
from ocpo_coord.models import Agency, SharingAgreement, User
from ocpo_coord.models.enums import AgencyKind, Classification
from ocpo_coord.visibility.scopes import ScopeKind, held_scopes, reader_scopes
from tests.conftest import auth

NOW = datetime.now(UTC).replace(microsecond=0)
# Separators, quotes, a backslash and letters outside ASCII: JSON must keep them exact.
AWKWARD_CODE = 'A,B:"C\\é;\x1f'
NEWCOMER = "NEWCOMER"


async def _agreements(db_url: str) -> dict[str, uuid.UUID]:
    """UNMIK is named by EULEX twice (RESTRICTED for a year, CONFIDENTIAL for the
    next two hours), by KP once from tomorrow, and by an agency with an awkward code
    for the last hour only."""
    engine = make_async_engine(db_url)
    try:
        async with sessionmaker_for(engine)() as session:
            ids = dict((await session.exec(select(Agency.code, Agency.id))).all())
            awkward = Agency(code=AWKWARD_CODE, name="Awkward", kind=AgencyKind.HOST_NATION)
            newcomer = Agency(code=NEWCOMER, name="Newcomer", kind=AgencyKind.PARTNER)
            session.add_all([awkward, newcomer])
            await session.flush()
            ids[AWKWARD_CODE], ids[NEWCOMER] = awkward.id, newcomer.id

            def agreement(grantor: str, start: timedelta, end: timedelta, ceiling: Classification) -> None:
                session.add(
                    SharingAgreement(
                        title=f"{grantor} to UNMIK",
                        grantor_agency_id=ids[grantor],
                        grantee_agency_id=ids["UNMIK"],
                        valid_from=NOW + start,
                        valid_until=NOW + end,
                        max_classification=ceiling,
                    )
                )

            agreement("EULEX", timedelta(days=-1), timedelta(days=365), Classification.RESTRICTED)
            agreement("EULEX", timedelta(hours=-1), timedelta(hours=2), Classification.CONFIDENTIAL)
            agreement("KP", timedelta(days=1), timedelta(days=30), Classification.RESTRICTED)
            agreement(AWKWARD_CODE, timedelta(hours=-1), timedelta(0), Classification.UNCLASSIFIED)
            await session.commit()
            return ids
    finally:
        await engine.dispose()


R, C, U = Classification.RESTRICTED, Classification.CONFIDENTIAL, Classification.UNCLASSIFIED


@pytest.mark.parametrize(
    ("offset", "in_force"),
    [
        (timedelta(days=-2), {}),
        (timedelta(minutes=-30), {"EULEX": C, AWKWARD_CODE: U}),
        (timedelta(0), {"EULEX": C}),  # the awkward agreement ends at this instant
        (timedelta(hours=3), {"EULEX": R}),
        (timedelta(days=2), {"EULEX": R, "KP": R}),
    ],
    ids=["before-all", "overlapping", "one-just-ended", "low-ceiling-only", "one-started"],
)
async def test_the_callers_round_trip_answers_as_the_queries_it_replaces(
    db_url: str, offset: timedelta, in_force: dict[str, Classification]
) -> None:
    ids = await _agreements(db_url)
    now = NOW + offset
    engine = make_async_engine(db_url)
    try:
        # Every account once (the agreements name UNMIK only; the others differ by kind
        # of account: administrators, host nation, partners); UNMIK at every instant.
        async with sessionmaker_for(engine)() as session:
            logins = list((await session.exec(select(User.login).order_by(col(User.login)))).all())
        assert len(logins) > 5
        if offset != timedelta(minutes=-30):
            logins = ["unmik.analyst", "unmik.chief"]
        for login in logins:
            async with sessionmaker_for(engine)() as session:
                caller = await load_caller(session, login, now)
                kept_scopes = await held_scopes(session, caller, now)
                kept_codes = await directory_codes(session)
            async with sessionmaker_for(engine)() as session:
                assert caller == await load_principal(session, login), login
                assert kept_scopes == await reader_scopes(session, caller, now), login
                assert kept_codes == await directory_codes(session), login

        # The comparison is worth something only if the agreements made a difference.
        async with sessionmaker_for(engine)() as session:
            unmik = await load_caller(session, "unmik.analyst", now)
            held = await held_scopes(session, unmik, now)
            codes, theatre_codes = await directory_codes(session)
            # Against the mapped rows, which no JSON column comes near.
            agencies = {a.id: a.code for a in await list_agencies(session)}
            theatres = {t.id: t.code for t in await list_theatres(session)}
    finally:
        await engine.dispose()
    granted = {i: ceiling for (kind, i), ceiling in held.items() if kind is ScopeKind.AGREEMENTS_OF}
    assert granted == {ids[code]: min(int(unmik.clearance), int(c)) for code, c in in_force.items()}
    assert codes[ids[AWKWARD_CODE]] == AWKWARD_CODE
    assert codes == agencies
    assert theatre_codes == theatres


async def test_a_page_shows_an_agency_added_after_the_service_started(
    client: httpx.AsyncClient, db_url: str
) -> None:
    """Codes come with each request's caller, never from what the process saw before."""
    first = await client.get("/api/v1/agencies", headers=auth("unmik.analyst"))
    assert first.status_code == 200, first.text
    assert NEWCOMER not in {a["code"] for a in first.json()}
    await _agreements(db_url)
    body = {
        "title": "Released to the newcomer",
        "content": "Shared.",
        "information_date": "2026-11-01",
        "theatre": "KOS",
        "source_reliability": "B",
        "information_credibility": "2",
        "markings": {"classification": "UNCLASSIFIED", "tlp": "GREEN", "releasable_to": [NEWCOMER]},
    }
    created = await client.post("/api/v1/intel-items", json=body, headers=auth("unmik.analyst"))
    assert created.status_code == 201, created.text
    listed = await client.get("/api/v1/intel-items", params={"limit": 5}, headers=auth("unmik.analyst"))
    assert listed.status_code == 200, listed.text
    mine = [i for i in listed.json()["items"] if i["id"] == created.json()["id"]]
    assert len(mine) == 1
    assert mine[0]["markings"]["releasable_to"] == [NEWCOMER]


async def test_what_the_caller_brought_is_not_asked_again(db_url: str) -> None:
    """The request's scopes and codes cost no statement of their own after the caller."""
    engine = make_async_engine(db_url)
    statements: list[str] = []

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        async with sessionmaker_for(engine)() as session:
            caller = await load_caller(session, "unmik.analyst", NOW)
            brought = len(statements)
            held = await held_scopes(session, caller, NOW)
            codes, theatres = await directory_codes(session)
            assert len(statements) == brought, statements[brought:]
            assert held
            assert codes
            assert theatres
            await held_scopes(session, caller, NOW + timedelta(seconds=1))  # another instant: asked
            assert len(statements) == brought + 1
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)
        await engine.dispose()


async def test_a_page_is_four_statements(client: httpx.AsyncClient, db_url: str) -> None:
    """The intelligence page the benchmark measures: the caller, the page with its
    releases and readable linked cases (and the count's figures when the page does not
    hold the whole set) and the read's audit entry, then the commit; on SQLite also
    ``BEGIN IMMEDIATE``. The audit entry is only inserted: no head is read. Each
    shortcut that stops working adds a statement here."""
    statements: list[str] = []

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement.split(None, 1)[0])

    async def page(**params: str | int) -> dict[str, Any]:
        statements.clear()
        event.listen(Engine, "before_cursor_execute", count)
        try:
            response = await client.get("/api/v1/intel-items", params=params, headers=auth("unmik.analyst"))
        finally:
            event.remove(Engine, "before_cursor_execute", count)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    expected = 3 if db_url.startswith("postgresql") else 4
    whole = await page(limit=100)  # the first request warms the service's caches
    whole = await page(limit=100)
    assert whole["next_cursor"] is None
    assert any(i["markings"]["releasable_to"] for i in whole["items"])
    assert len(statements) == expected, statements
    # Pages that count: the first of several, and one further down.
    first = await page(limit=2)
    assert len(statements) == expected, statements
    assert (first["total_count"], first["total_count_capped"]) == (len(whole["items"]), False)
    further = await page(limit=2, after=first["next_cursor"])
    assert len(statements) == expected, statements
    assert further["total_count"] == len(whole["items"])
    assert [i["id"] for i in first["items"] + further["items"]] == [i["id"] for i in whole["items"][:4]]

"""List pages run statements kept across requests, with the instant as a parameter.

A reader's listing statement, and the page-and-count statement built on it, are built
once and run again at every request (``readable_template``). The rule's answer
depends on the instant (agreements and grants end), so a kept statement must answer
at the instant it runs with, never at the one it was built at, and must refuse to run
without one. The reference is the rule written out at each instant (``readable``).
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
import pytest
from sqlalchemy.exc import StatementError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.auth.principal import Principal, load_principal
from ocpo_coord.db.engine import make_async_engine, sessionmaker_for
from ocpo_coord.db.queries import execute
from ocpo_coord.intel.repository import IntelRepository
from ocpo_coord.models import Record
from ocpo_coord.models.enums import RecordKind
from ocpo_coord.visibility.pages import fetch_record_page
from ocpo_coord.visibility.pagination import Page
from ocpo_coord.visibility.readable import at_instant, readable
from tests.conftest import auth, unreleased_items

READER = "unmik.analyst"
ITEMS = 4


async def _agreement_for_an_hour(client: httpx.AsyncClient) -> datetime:
    """EULEX shares with UNMIK from yesterday until an hour from now; returns its end."""
    now = datetime.now(UTC)
    ends = now + timedelta(hours=1)
    body = {
        "title": "EULEX-UNMIK short arrangement",
        "grantee_agency": "UNMIK",
        "valid_from": (now - timedelta(days=1)).isoformat(),
        "valid_until": ends.isoformat(),
        "max_classification": "RESTRICTED",
    }
    created = await client.post("/api/v1/agreements", json=body, headers=auth("eulex.chief"))
    assert created.status_code == 201, created.text
    return ends


async def _eulex_items(client: httpx.AsyncClient, granted_until: datetime | None = None) -> set[UUID]:
    """EULEX items, AMBER and released to nobody: an agreement in force, or a grant to
    UNMIK until ``granted_until``, is what lets UNMIK read them."""
    ids = {UUID(i) for i in await unreleased_items(client, "eulex.prosecutor", ITEMS, "EULEX shared report")}
    if granted_until is None:
        return ids
    for item in ids:
        grant = {"agency": "UNMIK", "expires_at": granted_until.isoformat(), "reason": "Joint analysis."}
        response = await client.post(
            f"/api/v1/records/{item}/grants", json=grant, headers=auth("eulex.chief")
        )
        assert response.status_code == 201, response.text
    return ids


async def test_a_kept_statement_answers_at_the_instant_it_runs_with(
    client: httpx.AsyncClient, db_url: str
) -> None:
    ends = await _agreement_for_an_hour(client)
    shared = await _eulex_items(client) | await _eulex_items(client, granted_until=ends)
    during, after = ends - timedelta(minutes=30), ends + timedelta(minutes=30)
    async with _as_reader(db_url) as (session, principal):
        repo = IntelRepository(session, principal=principal, now=during)
        listing = repo.listing_statement()
        assert repo.listing_statement() is listing  # kept, not built again
        seen: dict[datetime, set[UUID]] = {}
        for instant in (during, after, during):
            rows = (await execute(session, listing, at_instant(instant))).all()
            ids = {row[1].id for row in rows}
            assert ids == set(await _newest(session, principal, instant)), instant
            seen[instant] = ids
        assert shared <= seen[during]
        assert not shared & seen[after]


async def test_a_kept_page_and_its_count_follow_the_instant(client: httpx.AsyncClient, db_url: str) -> None:
    # Grants, not an agreement: an expired grant keeps its record in the grantee's
    # scope of the index, so only the rule, at the instant given, can leave it out.
    ends = datetime.now(UTC) + timedelta(hours=1)
    shared = await _eulex_items(client, granted_until=ends)
    during, after = ends - timedelta(minutes=30), ends + timedelta(minutes=30)
    for instant, expected in ((during, True), (after, False), (during, True)):
        # A session per instant, as a request has: the reader's scopes are its own.
        async with _as_reader(db_url) as (session, principal):
            listing = IntelRepository(session, principal=principal, now=instant).listing_statement()
            page = await _first_page(session, listing, principal, instant)
            newest = await _newest(session, principal, instant)
            readable_ids = set(newest)
            assert page.total_count == len(readable_ids), instant
            assert [row[1].id for row in page.items] == newest[:2]
            if expected:
                assert shared <= readable_ids
            else:
                assert not shared & readable_ids


@asynccontextmanager
async def _as_reader(db_url: str) -> AsyncIterator[tuple[AsyncSession, Principal]]:
    """A session of its own, and the reader's principal."""
    engine = make_async_engine(db_url)
    try:
        async with sessionmaker_for(engine)() as session:
            yield session, await load_principal(session, READER)
    finally:
        await engine.dispose()


async def _first_page(
    session: AsyncSession, listing: Any, principal: Principal, instant: datetime
) -> Page[Any]:
    return await fetch_record_page(
        session,
        listing,
        reader=principal,
        now=instant,
        kind=RecordKind.INTEL_ITEM,
        filtered=False,
        first=2,
        after=None,
        count_cap=1000,
    )


async def _newest(session: AsyncSession, principal: Principal, instant: datetime) -> list[UUID]:
    """The reader's items at ``instant``, newest first, by the rule written out."""
    statement = (
        select(Record.id)
        .where(col(Record.kind) == RecordKind.INTEL_ITEM.value, readable(principal, now=instant))
        .order_by(col(Record.created_at).desc(), col(Record.id).desc())
    )
    return list((await session.exec(statement)).all())


async def test_a_kept_statement_refuses_to_run_without_an_instant(db_url: str) -> None:
    async with _as_reader(db_url) as (session, principal):
        listing = IntelRepository(session, principal=principal, now=datetime.now(UTC)).listing_statement()
        with pytest.raises(StatementError, match="reader_instant"):
            await execute(session, listing)


async def test_an_unfiltered_page_takes_only_a_listing_statement(db_url: str) -> None:
    # An unfiltered page is counted from the kind's records, not from its statement: a
    # narrowed statement paged as unfiltered would be counted wrong, so it is refused.
    async with _as_reader(db_url) as (session, principal):
        now = datetime.now(UTC)
        narrowed = (
            IntelRepository(session, principal=principal, now=now)
            .listing_statement()
            .where(col(Record.tlp) == "CLEAR")
        )
        with pytest.raises(ValueError, match="listing_statement"):
            await _first_page(session, narrowed, principal, now)

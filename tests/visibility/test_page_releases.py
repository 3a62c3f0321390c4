"""A list page's markings equal the record's own, read alone.

A page brings each row's releases in its own statement (``releases_column``) and the
assembler answers from them; a single read asks ``releases_for``'s query. Both must
give every record the same releasable-to, sharing groups and named readers' effect,
for every kind and reader, on both databases.
"""

from typing import NamedTuple

import httpx
import pytest
from sqlalchemy import event
from sqlmodel import select

from ocpo_coord.db.engine import make_async_engine, sessionmaker_for
from ocpo_coord.models import RecordRelease
from ocpo_coord.visibility.repository import Release, page_rows_known, releases_for
from tests.conftest import auth


class PageRow(NamedTuple):
    releases: str | None


KINDS = ["intel-items", "cases", "tasks", "entities"]
READERS = ["unmik.analyst", "kfor.j2"]


async def _released_item(client: httpx.AsyncClient) -> str:
    body = {
        "title": "Released widely",
        "content": "Shared with two partners.",
        "information_date": "2026-11-01",
        "theatre": "KOS",
        "source_reliability": "B",
        "information_credibility": "2",
        "markings": {"classification": "RESTRICTED", "tlp": "AMBER", "releasable_to": ["KFOR", "EULEX"]},
    }
    created = await client.post("/api/v1/intel-items", json=body, headers=auth("unmik.analyst"))
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


@pytest.mark.parametrize("reader", READERS)
async def test_every_listed_record_shows_the_markings_it_shows_alone(
    client: httpx.AsyncClient, reader: str
) -> None:
    released = await _released_item(client)
    compared = with_releases = 0
    for kind in KINDS:
        # The newest page of each kind, as the page shows it; the first page also
        # carries the item just released.
        page = await client.get(f"/api/v1/{kind}", params={"limit": 12}, headers=auth(reader))
        assert page.status_code == 200, page.text
        for item in page.json()["items"]:
            alone = await client.get(f"/api/v1/{kind}/{item['id']}", headers=auth(reader))
            assert alone.status_code == 200, alone.text
            assert item["markings"] == alone.json()["markings"], (kind, item["id"])
            compared += 1
            with_releases += bool(item["markings"]["releasable_to"])
            if item["id"] == released:
                assert item["markings"]["releasable_to"] == ["EULEX", "KFOR"]
    assert compared > 10
    assert with_releases > 1  # the comparison covered records released to someone


async def test_releases_known_to_a_page_cost_no_query_and_only_while_it_is_built(db_url: str) -> None:
    engine = make_async_engine(db_url)
    statements: list[str] = []

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    try:
        async with sessionmaker_for(engine)() as session:
            ids = list((await session.exec(select(RecordRelease.record_id).distinct().limit(3))).all())
            assert len(ids) == 3
            truth = await releases_for(session, ids)
            known = {i: [Release(i, None, None, None)] for i in ids[:2]}  # visibly not the truth
            # The page's rows as the page statement brings them: releases as JSON rows.
            rows = {i: PageRow(releases="[[null, null, null]]") for i in ids[:2]}
            event.listen(engine.sync_engine, "before_cursor_execute", count)
            with page_rows_known(session, rows):
                assert await releases_for(session, ids[:2]) == known
                assert statements == []
                with page_rows_known(session, {ids[2]: PageRow(releases=None)}):  # a page inside a page
                    assert await releases_for(session, ids) == {**known, ids[2]: []}
                assert await releases_for(session, ids[:2]) == known
                assert statements == []
                assert await releases_for(session, ids) == truth  # one unknown: asked
                assert len(statements) == 1
            assert await releases_for(session, ids[:2]) == {i: truth[i] for i in ids[:2]}
            assert len(statements) == 2
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)
        await engine.dispose()

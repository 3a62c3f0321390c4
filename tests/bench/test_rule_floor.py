"""The rule-keeping floor replays what the service runs for a page, statement for
statement, so it cannot drift from what a page must do to keep the rules."""

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from ocpo_coord.bench.rule_floor import RuleFloor, capture_page
from ocpo_coord.db.engine import make_sync_engine
from ocpo_coord.models import AuditEvent
from tests.bench.served import served

# Reads protected intelligence in the seed: a page of it writes an audit entry.
LOGIN = "eulex.chief"
# Small enough that the seed gives this reader a second page.
LIMIT = 3


async def _served_statements(
    app: FastAPI, client: httpx.AsyncClient, after: str | None
) -> tuple[list[str], Any]:
    """The statement texts the service sent for one REST page, and the page."""
    return await served(app, client, "/api/v1/intel-items", LOGIN, LIMIT, after)


@pytest.mark.parametrize("page", ["first", "second"])
async def test_the_rule_floor_replays_exactly_the_statements_a_rest_page_ran(
    app: FastAPI, client: httpx.AsyncClient, db_url: str, page: str
) -> None:
    after = None
    if page == "second":
        _, first = await _served_statements(app, client, None)
        after = first["next_cursor"]
        assert after is not None, "the seed must give this reader more than one page"
    sent, body = await _served_statements(app, client, after)
    assert any(text.startswith("INSERT INTO audit_event") for text in sent)

    captured = await capture_page(db_url, LOGIN, after, page=LIMIT)
    floor = RuleFloor(db_url)
    try:
        # Twice: each replay inserts an audit entry of its own, with no unique clash.
        for replay in floor.replays(captured, 2):
            floor.run(replay)
    finally:
        floor.close()

    assert captured.rows == len(body["items"])
    assert len(floor.executed) == 2 * len(sent)
    assert floor.executed == sent * 2
    entries = AuditEvent.__table__.c  # type: ignore[attr-defined]
    engine = make_sync_engine(db_url)
    try:
        with engine.connect() as conn:
            written = conn.execute(
                select(func.count()).where(entries.request_id == captured.audit[0].request_id)
            ).scalar_one()
    finally:
        engine.dispose()
    assert written == 3  # the captured page's entry and one for each replay

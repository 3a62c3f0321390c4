"""The framework floor answers the REST page a reader got, and then costs only what
every request pays: it keeps the token check and the caller, and runs no page."""

from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func
from sqlmodel import select

from ocpo_coord.bench import framework_floor
from ocpo_coord.bench.rule_floor import capture_page
from ocpo_coord.config import Environment
from ocpo_coord.models import AuditEvent
from tests.bench.served import served
from tests.conftest import auth

LOGIN = "eulex.chief"  # reads protected intelligence in the seed: a page writes an entry
LIMIT = 3


async def _get(
    app: FastAPI, client: httpx.AsyncClient, path: str, after: str | None
) -> tuple[list[str], Any]:
    return await served(app, client, path, LOGIN, LIMIT, after)


async def _entries(app: FastAPI) -> int:
    async with app.state.sessionmaker() as session:
        return int((await session.exec(select(func.count()).select_from(AuditEvent))).one())


@pytest.mark.parametrize("page", ["first", "second"])
async def test_the_framework_floor_answers_the_page_then_runs_only_the_caller(
    app: FastAPI, client: httpx.AsyncClient, db_url: str, page: str
) -> None:
    framework_floor.add_route(app)
    after = None
    if page == "second":
        _, first = await _get(app, client, "/api/v1/intel-items", None)
        after = first["next_cursor"]
        assert after is not None, "the seed must give this reader more than one page"
    _, rest = await _get(app, client, "/api/v1/intel-items", after)
    _, warm = await _get(app, client, framework_floor.PATH, after)  # runs the real list once

    before = await _entries(app)
    sent, answer = await _get(app, client, framework_floor.PATH, after)
    captured = await capture_page(db_url, LOGIN, after, page=LIMIT)

    assert answer == warm == rest
    assert len(answer["items"]) == LIMIT
    # What it sent is what a page sends for its caller, and nothing of the page.
    assert captured.caller >= 1
    assert sent == [s.sql for s in captured.caller_statements]
    assert not any(text.startswith("INSERT INTO audit_event") for text in sent)
    # capture_page's own page wrote one entry; the framework floor's answer none.
    assert await _entries(app) == before + 1


async def test_the_framework_floor_still_checks_the_token(app: FastAPI, client: httpx.AsyncClient) -> None:
    framework_floor.add_route(app)
    missing = await client.get(framework_floor.PATH)
    forged = await client.get(framework_floor.PATH, headers={"Authorization": "Bearer not-a-token"})
    assert missing.status_code == 401
    assert forged.status_code == 401


async def test_only_the_benchmark_serves_the_framework_floor(app: FastAPI, client: httpx.AsyncClient) -> None:
    response = await client.get(framework_floor.PATH, headers=auth(LOGIN))
    assert response.status_code == 404


async def test_each_filter_gets_its_own_answer(app: FastAPI, client: httpx.AsyncClient) -> None:
    framework_floor.add_route(app)
    everything = await client.get(framework_floor.PATH, params={"limit": LIMIT}, headers=auth(LOGIN))
    nothing: dict[str, str | int] = {"limit": LIMIT, "text": "no report says this"}
    narrowed = await client.get(framework_floor.PATH, params=nothing, headers=auth(LOGIN))
    rest = await client.get("/api/v1/intel-items", params=nothing, headers=auth(LOGIN))
    assert everything.status_code == narrowed.status_code == rest.status_code == 200
    assert len(everything.json()["items"]) == LIMIT
    assert narrowed.json() == rest.json()
    assert narrowed.json()["items"] == []


def test_the_framework_floor_is_never_served_in_production(monkeypatch: pytest.MonkeyPatch) -> None:
    production = SimpleNamespace(environment=Environment.PRODUCTION)
    monkeypatch.setattr(framework_floor, "get_settings", lambda: production)
    with pytest.raises(RuntimeError, match="not served in production"):
        framework_floor.create_app()

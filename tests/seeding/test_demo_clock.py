"""The demo's clock: with OCPO_DEMO_TODAY the service takes that day for today everywhere
(overdue flags, the matrix's day, tours, new records), tokens still expire by the real
time, and production refuses the setting."""

import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy import text

from ocpo_coord import clock
from ocpo_coord.app import create_app
from ocpo_coord.config import Settings, get_settings
from ocpo_coord.db.engine import make_sync_engine
from tests.conftest import auth

DEMO_DAY = date(2008, 6, 1)


@pytest.fixture
def real_time_after() -> Iterator[None]:
    yield
    clock.use(None)


@pytest.fixture
async def demo_client(db_url: str, real_time_after: None) -> AsyncIterator[httpx.AsyncClient]:
    settings = get_settings().model_copy(update={"demo_today": DEMO_DAY})
    application = create_app(database_url=db_url, settings=settings)
    transport = httpx.ASGITransport(app=application)
    async with httpx.AsyncClient(transport=transport, base_url="http://ocpo.test") as http:
        yield http
    await application.state.sessionmaker.kw["bind"].dispose()


async def _tasks(client: httpx.AsyncClient, login: str) -> dict[str, bool]:
    response = await client.get("/api/v1/tasks?theatre=KOS&limit=100", headers=auth(login))
    assert response.status_code == 200, response.text
    return {task["title"]: task["overdue"] for task in response.json()["items"]}


async def test_the_demo_day_is_today_for_matrix_overdue_work_and_new_records(
    demo_client: httpx.AsyncClient,
) -> None:
    matrix = await demo_client.get("/api/v1/responsibilities/matrix?theatre=KOS", headers=auth("kfor.j2"))
    assert matrix.status_code == 200, matrix.text
    assert matrix.json()["on"] == "2008-06-01"

    overdue = await _tasks(demo_client, "unmik.analyst")
    # Due 30 Apr 2008 and still open: late on 1 Jun 2008. Due 30 Sep 2008: not yet.
    assert overdue["Agree joint KFOR / UNMIK Border Police presence at Gates 1 and 31"] is True
    assert overdue["Continue static observation of Motel 'Ylli i Jugut' and log vehicles"] is False
    assert overdue["Obtain the KTA tender evaluation board minutes"] is False
    assert list(overdue.values()).count(True) < list(overdue.values()).count(False)

    created = await demo_client.post(
        "/api/v1/tasks",
        json={
            "title": "Brief the incoming EULEX team",
            "theatre": "KOS",
            "activity_area": "information_gathering",
        },
        headers=auth("unmik.chief"),
    )
    assert created.status_code == 201, created.text
    assert created.json()["created_at"].startswith("2008-06-01")

    # The demo's hit recipients hold their positions on the demo day.
    hits = await demo_client.get("/api/v1/deconfliction-hits", headers=auth("kfor.j2"))
    assert hits.status_code == 200
    assert len(hits.json()) > 0


async def test_without_the_setting_the_service_runs_on_the_real_time(
    client: httpx.AsyncClient, real_time_after: None
) -> None:
    matrix = await client.get("/api/v1/responsibilities/matrix?theatre=KOS", headers=auth("kfor.j2"))
    assert matrix.json()["on"] == datetime.now(UTC).date().isoformat()
    overdue = await _tasks(client, "unmik.analyst")
    assert overdue["Continue static observation of Motel 'Ylli i Jugut' and log vehicles"] is True


def test_production_refuses_the_demo_clock(tmp_path: Path) -> None:
    production: dict[str, Any] = {
        "environment": "production",
        "state_dir": tmp_path,
        "database_url": "postgresql://ocpo@db/ocpo",
        "jwks_url": "https://idp.example/jwks",
        "jwt_issuer": "https://idp.example",
        "jwt_audience": "ocpo-coord",
    }
    Settings(**production)  # the rest is in order
    with pytest.raises(ValidationError) as refused:
        Settings(**production, demo_today=DEMO_DAY)
    assert "OCPO_DEMO_TODAY is for development only" in str(refused.value)


def test_the_seeded_demo_tells_its_story_on_its_day(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OCPO_")}
    env.update(OCPO_STATE_DIR=str(tmp_path / "state"), OCPO_DEMO_TODAY="2008-06-01")
    for command in (["migrate"], ["seed", "demo"]):
        done = subprocess.run(
            [sys.executable, "-m", "ocpo_coord.cli", *command],
            capture_output=True,
            text=True,
            env=env,
            timeout=180,
            check=False,
        )
        assert done.returncode == 0, done.stderr
    engine = make_sync_engine(f"sqlite:///{tmp_path / 'state' / 'ocpo.db'}")
    try:
        with engine.connect() as conn:
            hits = conn.execute(text("SELECT created_at FROM deconfliction_hit")).scalars().all()
            cases = conn.execute(text("SELECT created_at FROM record")).scalars().all()
    finally:
        engine.dispose()
    assert hits
    assert all(str(value).startswith("2008-06-01") for value in [*hits, *cases])

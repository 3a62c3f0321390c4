"""Fixtures: both databases, the ASGI app over real HTTP, and real signed tokens."""

import asyncio
import functools
import os
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

_STATE = tempfile.mkdtemp(prefix="ocpo-test-state-")
# Settings are read once per process; fix them before the package is imported.
os.environ["OCPO_STATE_DIR"] = _STATE
os.environ["OCPO_ENVIRONMENT"] = "test"
os.environ["OCPO_DATABASE_URL"] = f"sqlite:///{Path(_STATE) / 'unused.db'}"

import httpx  # noqa: E402
import pytest  # noqa: E402
from fastapi import FastAPI  # noqa: E402
from sqlalchemy import Engine  # noqa: E402

from ocpo_coord.app import create_app  # noqa: E402
from ocpo_coord.auth.tokens import mint_local_token  # noqa: E402
from ocpo_coord.config import get_settings  # noqa: E402
from ocpo_coord.db.engine import make_sync_engine  # noqa: E402
from ocpo_coord.visibility.reach import drift  # noqa: E402
from tests.fixtures.databases import (  # noqa: E402
    Template,
    build_template,
    postgres_required,
    postgres_unreachable_reason,
)
from tests.fixtures.served import served  # noqa: E402
from tests.fixtures.travel import completed_handovers, completed_handovers_travel  # noqa: E402

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
_templates: dict[str, Template] = {}


@pytest.fixture(scope="session")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("databases")


@functools.cache
def _postgres_reason() -> str | None:
    """Asked once per test process: an unreachable server is not retried for every test."""
    return postgres_unreachable_reason()


def _template(backend: str, workdir: Path, *, directory_only: bool = False) -> Template:
    key = f"{backend}-directory" if directory_only else backend
    if key not in _templates:
        if backend == "postgresql":
            reason = _postgres_reason()
            if reason is not None:
                if postgres_required():
                    pytest.fail(f"{reason} (OCPO_REQUIRE_POSTGRES is set)")
                pytest.skip(reason)
        _templates[key] = build_template(backend, workdir, directory_only=directory_only)
    return _templates[key]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    value: str = request.param
    return value


@pytest.fixture
def db_url(backend: str, workdir: Path) -> Iterator[str]:
    """A fresh, migrated and seeded database of the parametrised backend."""
    template = _template(backend, workdir)
    url = template.fresh_copy()
    yield url
    try:
        index_in_step(url)
        handovers_travel(url, backend, workdir)
    finally:
        template.drop_copy(url)


def handovers_travel(url: str, backend: str, workdir: Path) -> None:
    """Every completed handover the test made exports and imports into a second
    installation (``tests/fixtures/travel.py``)."""
    if not asyncio.run(completed_handovers(url)):
        return
    receiver = _template(backend, workdir, directory_only=True)
    copies: list[str] = []

    def fresh() -> str:
        copies.append(receiver.fresh_copy())
        return copies[-1]

    try:
        asyncio.run(completed_handovers_travel(url, fresh))
        # The importer files what it writes in the visibility index itself.
        for copy in copies:
            index_in_step(copy)
    finally:
        for copy in copies:
            receiver.drop_copy(copy)


def index_in_step(url: str) -> None:
    """Whatever the test wrote, the visibility index must match what the rule files each
    record under: a missing row would hide a record from someone who may read it."""
    engine = make_sync_engine(url)
    try:
        with engine.connect() as conn:
            missing, extra = drift(conn)
    finally:
        engine.dispose()
    assert not missing, f"visibility index lacks rows: {missing}"
    assert not extra, f"visibility index has rows the rule does not give: {extra}"


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """A synchronous engine on the test's database, with the service's settings."""
    value = make_sync_engine(db_url)
    yield value
    value.dispose()


@pytest.fixture
def other_db_url(backend: str, workdir: Path) -> Iterator[str]:
    """A second installation: same directory of agencies and users, no records."""
    template = _template(backend, workdir, directory_only=True)
    url = template.fresh_copy()
    yield url
    template.drop_copy(url)


@pytest.fixture
def base_url(db_url: str) -> Iterator[str]:
    """The real service over HTTP on a loopback port, over the test's database."""
    with served(db_url) as url:
        yield url


@pytest.fixture
async def app(db_url: str) -> AsyncIterator[FastAPI]:
    application = create_app(database_url=db_url)
    yield application
    await application.state.sessionmaker.kw["bind"].dispose()


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://ocpo.test") as http:
        yield http


def token_for(login: str) -> str:
    return mint_local_token(get_settings(), login)


def auth(login: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(login)}"}


async def gql(
    client: httpx.AsyncClient, login: str | None, query: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    headers = auth(login) if login else {}
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def unreleased_items(client: httpx.AsyncClient, login: str, count: int, title: str) -> list[str]:
    """``count`` new intelligence items by ``login``, RESTRICTED and TLP:AMBER and released
    to nobody: outside the author's agency only an agreement or a grant lets anyone read
    them. Their ids, oldest first."""
    ids = []
    for n in range(count):
        body = {
            "title": f"{title} {n}",
            "content": "Not released to anyone.",
            "information_date": "2026-11-01",
            "theatre": "KOS",
            "source_reliability": "B",
            "information_credibility": "2",
            "markings": {"classification": "RESTRICTED", "tlp": "AMBER"},
        }
        response = await client.post("/api/v1/intel-items", json=body, headers=auth(login))
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    return ids


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    for template in _templates.values():
        template.close()


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """Say plainly whether the PostgreSQL half ran. Read from the test reports, so it
    also holds when the tests ran in worker processes (pytest-xdist)."""
    skipped = [
        report
        for report in terminalreporter.stats.get("skipped", [])
        if isinstance(report.longrepr, tuple) and "PostgreSQL not reachable" in str(report.longrepr[2])
    ]
    ran = any("[postgresql" in report.nodeid for report in terminalreporter.stats.get("passed", []))
    if skipped:
        terminalreporter.write_sep("=", "PostgreSQL part SKIPPED", yellow=True, bold=True)
        terminalreporter.write_line(str(skipped[0].longrepr[2]))
        terminalreporter.write_line(
            "Only SQLite was tested. Set OCPO_REQUIRE_POSTGRES=1 to make this a failure."
        )
    elif ran:
        terminalreporter.write_line("PostgreSQL part ran against a real server.")

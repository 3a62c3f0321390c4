"""PostgreSQL: the service's role may read and append to the audit log, and nothing else
on it: no UPDATE, DELETE, TRUNCATE, and no ALTER (so no trigger can be disabled)."""

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator

import httpx
import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from ocpo_coord.app import create_app
from ocpo_coord.audit.roles import AUDIT_TABLES, QUEUE
from ocpo_coord.audit.verify import verify_database
from ocpo_coord.db.engine import make_sync_engine
from tests.conftest import auth
from tests.fixtures.audit_log import integrate

pytestmark = pytest.mark.parametrize("backend", ["postgresql"])


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture
def service_url(db_url: str) -> Iterator[str]:
    """The database as the service's role sees it, granted by ``ocpo-coord audit grant``
    run as the owning role."""
    role = f"ocpo_service_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(_libpq(db_url), autocommit=True) as conn:
        conn.execute(f'CREATE ROLE "{role}" LOGIN')
    try:
        granted = subprocess.run(
            [sys.executable, "-m", "ocpo_coord.cli", "audit", "grant", role],
            env={**os.environ, "OCPO_DATABASE_URL": db_url},
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        assert granted.returncode == 0, granted.stderr
        yield make_url(db_url).set(username=role).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(_libpq(db_url), autocommit=True) as conn:
            conn.execute(f'DROP OWNED BY "{role}"')
            conn.execute(f'DROP ROLE "{role}"')


@pytest.mark.parametrize("table", [*AUDIT_TABLES, QUEUE])
def test_the_service_role_is_refused_every_change_to_the_audit_tables(service_url: str, table: str) -> None:
    statements = [
        f"TRUNCATE {table}",
        f"ALTER TABLE {table} DISABLE TRIGGER ALL",
        f"ALTER TABLE {table} OWNER TO CURRENT_USER",
        f"DROP TABLE {table}",
    ]
    if table != QUEUE:
        statements += [f"DELETE FROM {table}", f"UPDATE {table} SET {_column(table)} = {_column(table)}"]
    else:
        statements += [f"UPDATE {table} SET event_seq = event_seq"]
    for statement in statements:
        with (
            psycopg.connect(_libpq(service_url)) as conn,
            pytest.raises(psycopg.errors.InsufficientPrivilege),
        ):
            conn.execute(statement)


def _column(table: str) -> str:
    return {
        "audit_event": "detail",
        "audit_log_entry": "leaf_hash",
        "audit_tree_node": "hash",
        "audit_checkpoint": "note",
        "audit_witness": "vkey",
        "audit_cosignature": "signature_line",
        "handover_import_checkpoint": "checkpoint",
        "handover_import_proof": "entry",
    }[table]


async def test_the_service_works_as_its_role_and_the_log_verifies(service_url: str) -> None:
    app = create_app(database_url=service_url)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://ocpo.test"
        ) as client:
            created = await client.post(
                "/api/v1/cases",
                json={
                    "title": "Written by the service's role",
                    "summary": "s",
                    "theatre": "KOS",
                    "crime_types": ["smuggling"],
                    "markings": {},
                },
                headers=auth("unmik.analyst"),
            )
            assert created.status_code == 201, created.text
            assert await integrate(service_url) > 0
            checkpoint = await client.get("/api/v1/audit/checkpoint", headers=auth("unmik.analyst"))
            assert checkpoint.status_code == 200
    finally:
        await app.state.sessionmaker.kw["bind"].dispose()
    engine = make_sync_engine(service_url)
    try:
        report = verify_database(engine)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT current_user")).scalar_one().startswith("ocpo_service_")
    finally:
        engine.dispose()
    assert report.ok, report.problem
    assert report.pending == 0

"""No record's content reaches a log, whatever fails while it is written."""

import logging

import httpx
import pytest
from sqlalchemy import text

from ocpo_coord.db.engine import make_sync_engine
from ocpo_coord.log_redaction import redact
from tests.conftest import auth
from tests.fixtures.records import CANARY, assert_no_canary, item


def fail_writes_of(db_url: str, marker: str) -> None:
    """Make the database refuse any intelligence item whose content holds ``marker``,
    as a failing disk or a broken constraint would, in the middle of the request's write.
    PostgreSQL's refusal quotes the whole row in its own message."""
    engine = make_sync_engine(db_url)
    try:
        with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                conn.execute(
                    text(
                        "ALTER TABLE intel_item ADD CONSTRAINT injected_fault "
                        f"CHECK (content NOT LIKE '%{marker}%') NOT VALID"
                    )
                )
            else:
                conn.execute(
                    text(
                        "CREATE TRIGGER injected_fault BEFORE INSERT ON intel_item "
                        f"WHEN NEW.content LIKE '%{marker}%' "
                        "BEGIN SELECT RAISE(ABORT, 'injected fault'); END"
                    )
                )
    finally:
        engine.dispose()


@pytest.fixture
def everything_logged(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    return caplog


async def test_a_write_the_database_refuses_leaves_its_content_out_of_every_log(
    client: httpx.AsyncClient,
    db_url: str,
    everything_logged: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    fail_writes_of(db_url, "Canary-7731")

    rest = await client.post("/api/v1/intel-items", json=item(CANARY), headers=auth("unmik.analyst"))
    assert rest.status_code == 500, rest.text
    assert rest.json()["detail"]["code"] == "INTERNAL_ERROR"

    mutation = """mutation($input: CreateIntelItemInput!) {
      createIntelItem(input: $input) { __typename }
    }"""
    variables = {
        "input": {
            "title": "Meeting at the Ibar bridge",
            "content": CANARY,
            "informationDate": "2026-11-01",
            "theatre": "KOS",
            "sourceReliability": "B",
            "informationCredibility": "TWO",
            "markings": {"classification": "RESTRICTED", "tlp": "RED"},
        }
    }
    graphql = await client.post(
        "/graphql", json={"query": mutation, "variables": variables}, headers=auth("unmik.analyst")
    )
    assert graphql.status_code == 200, graphql.text
    assert graphql.json()["errors"], graphql.text

    # The failures were logged, as failures...
    assert any(record.levelno >= logging.ERROR for record in everything_logged.records)
    # ...and nothing the service wrote, nor any record any handler was given, holds the content.
    written = capsys.readouterr()
    assert_no_canary(written.err, written.out, everything_logged.text, rest.text, graphql.text)
    for record in everything_logged.records:
        assert_no_canary(record.getMessage(), record.exc_text or "", repr(record.args))
    # Nothing of the item was kept.
    reads = await client.get("/api/v1/intel-items", headers=auth("unmik.analyst"))
    assert "Meeting at the Ibar bridge" not in reads.text


def test_a_log_line_about_a_refused_row_names_the_constraint_not_the_row() -> None:
    """The safe text still tells an operator what failed and where."""
    import sqlite3

    from sqlalchemy.exc import IntegrityError

    connection = sqlite3.connect(":memory:")
    connection.execute("CREATE TABLE t (x TEXT UNIQUE)")
    connection.execute("INSERT INTO t VALUES (?)", (CANARY,))
    try:
        connection.execute("INSERT INTO t VALUES (?)", (CANARY,))
    except sqlite3.IntegrityError as driver_error:
        error = IntegrityError("INSERT INTO t VALUES (?)", (CANARY,), driver_error)
    record = logging.getLogger("test").makeRecord(
        "test", logging.ERROR, __file__, 1, "write failed: %s", (error,), (IntegrityError, error, None)
    )
    redact(record)
    message = record.getMessage()
    assert "SQLITE_CONSTRAINT_UNIQUE" in message
    assert "IntegrityError" in (record.exc_text or "")
    assert_no_canary(message, record.exc_text or "")

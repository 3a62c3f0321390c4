"""An installation holding the hash chain upgrades without losing or changing an entry;
its entries become the first leaves of the tree and verify from then on."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from pymerkle import InmemoryTree
from sqlalchemy import insert, select

from ocpo_coord.audit.canonical import GENESIS_HASH, canonical_bytes, chain_hash
from ocpo_coord.audit.service import hashed_fields
from ocpo_coord.audit.verify import verify_database
from ocpo_coord.db.engine import make_sync_engine
from ocpo_coord.migrate import alembic_config
from ocpo_coord.models import AuditCheckpoint, AuditEvent
from tests.fixtures.audit_log import integrate
from tests.fixtures.databases import Template, build_template

BEFORE_THE_TREE = "e2f3a4b5c6d7"


@pytest.fixture
def chained(backend: str, tmp_path: Path) -> Template:
    from tests.conftest import _template

    _template(backend, tmp_path)  # skips (or fails, in CI) when PostgreSQL is absent
    template = build_template(backend, tmp_path, seed=False)
    command.downgrade(alembic_config(template.url), BEFORE_THE_TREE)
    return template


def _chain(count: int) -> list[dict[str, Any]]:
    """Entries as the chained log wrote them: each hash over the one before."""
    previous, rows = GENESIS_HASH, []
    for n in range(count):
        entry: dict[str, Any] = {
            "id": uuid.uuid4(),
            "at": datetime(2008, 12, 9, tzinfo=UTC) + timedelta(minutes=n),
            "actor_id": uuid.uuid4(),
            "actor_name": "Ana Analyst (unmik.analyst)",
            "agency_id": uuid.uuid4(),
            "request_id": f"r{n}",
            "action": "case.update",
            "record_kind": "case",
            "record_id": uuid.uuid4(),
            "before": {"title": "Шар планина", "version": n},
            "after": {"title": "Prizren \u2013 route", "version": n + 1},
            "detail": "",
        }
        if n % 3 == 0:
            entry["record_ids"] = [str(uuid.uuid4())]
        digest = chain_hash(previous, entry)
        rows.append({**entry, "prev_hash": previous, "hash": digest})
        previous = digest
    return rows


def test_chained_entries_are_kept_unchanged_and_verify_in_the_tree(chained: Template) -> None:
    events = AuditEvent.__table__  # type: ignore[attr-defined]
    written = _chain(40)
    engine = make_sync_engine(chained.url)
    try:
        with engine.begin() as conn:
            conn.execute(insert(events), [{"record_ids": None, **row} for row in written])
            before = [tuple(row) for row in conn.execute(select(events).order_by(events.c.seq))]
        command.upgrade(alembic_config(chained.url), "head")
        with engine.begin() as conn:
            after = [tuple(row) for row in conn.execute(select(events).order_by(events.c.seq))]
        assert after == before
        assert verify_database(engine).pending == len(written)
        assert asyncio.run(integrate(chained.url)) == len(written)
        report = verify_database(engine)
        assert report.ok, report.problem
        assert report.checked == len(written)
        tree = InmemoryTree(algorithm="sha256")
        with engine.connect() as conn:
            for row in conn.execute(select(events).order_by(events.c.seq)):
                tree.append_entry(canonical_bytes(hashed_fields(row)))
            root = conn.execute(select(AuditCheckpoint.__table__.c.root_hash)).scalar_one()  # type: ignore[attr-defined]
        assert bytes(root) == tree.get_root(len(written))
    finally:
        engine.dispose()
        chained.close()

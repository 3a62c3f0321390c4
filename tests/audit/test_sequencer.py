"""The sequencer: integrates committed entries after commit, one active among many,
another taking over when it dies, nothing acknowledged ever left out."""

import asyncio
import os
import sys
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from ocpo_coord.audit import sequencer
from ocpo_coord.audit.keys import checkpoint_signer
from ocpo_coord.audit.note import Checkpoint, Note
from ocpo_coord.audit.verify import verify_database
from ocpo_coord.config import get_settings
from ocpo_coord.db.engine import make_async_engine, make_sync_engine
from tests.conftest import auth

CASE = {
    "title": "Sequenced case",
    "summary": "s",
    "theatre": "KOS",
    "crime_types": ["smuggling"],
    "markings": {"classification": "RESTRICTED", "tlp": "AMBER"},
}


async def _write(client: httpx.AsyncClient, n: int) -> None:
    for i in range(n):
        response = await client.post(
            "/api/v1/cases", json={**CASE, "title": f"Sequenced case {i}"}, headers=auth("unmik.analyst")
        )
        assert response.status_code == 201, response.text


async def _queued(db_url: str) -> int:
    engine = make_async_engine(db_url)
    try:
        async with engine.connect() as conn:
            return int((await conn.execute(text("SELECT count(*) FROM audit_pending"))).scalar_one())
    finally:
        await engine.dispose()


async def _drained(db_url: str, rounds: int = 300) -> None:
    """Until the queue is empty; a bound on the wait, never a measure of it."""
    for _ in range(rounds):
        if await _queued(db_url) == 0:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the queue was not drained")


def _verified(db_url: str) -> int:
    engine = make_sync_engine(db_url)
    try:
        report = verify_database(engine)
    finally:
        engine.dispose()
    assert report.ok, report.problem
    assert report.pending == 0
    return report.checked


async def test_the_service_integrates_what_it_acknowledged_and_signs_a_checkpoint(
    app: FastAPI, client: httpx.AsyncClient, db_url: str
) -> None:
    async with app.router.lifespan_context(app):
        await _write(client, 3)
        await _drained(db_url)
        response = await client.get("/api/v1/audit/checkpoint", headers=auth("kp.investigator"))
    size = Checkpoint.parse(Note.parse(response.text).text).size
    assert size == _verified(db_url)


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_one_sequencer_leads_and_another_takes_over_when_it_is_stopped(
    client: httpx.AsyncClient, db_url: str
) -> None:
    signer = checkpoint_signer(get_settings())
    engines = [make_async_engine(db_url), make_async_engine(db_url)]
    stops = [asyncio.Event(), asyncio.Event()]
    tasks = [
        asyncio.create_task(sequencer.run(engine, signer, interval=0.05, stop=stop))
        for engine, stop in zip(engines, stops, strict=True)
    ]
    try:
        await _write(client, 4)
        await _drained(db_url)
        for stop, task in zip(stops, tasks, strict=True):
            # Whichever led, the other one must carry on alone.
            stop.set()
            await task
            await _write(client, 3)
            if not all(s.is_set() for s in stops):
                await _drained(db_url)
    finally:
        for stop in stops:
            stop.set()
        await asyncio.gather(*tasks)
        for engine in engines:
            await engine.dispose()
    assert await _queued(db_url) == 3  # written after both stopped: queued, not lost
    engine = make_async_engine(db_url)
    try:
        await sequencer.integrate_pending(engine, signer)
    finally:
        await engine.dispose()
    _verified(db_url)


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_a_sequencer_killed_mid_load_loses_nothing_and_another_takes_over(
    client: httpx.AsyncClient, db_url: str, tmp_path: Path
) -> None:
    """kill -9 of a separate sequencer process while requests write: its lock goes with
    its connection, the service's sequencer takes over, every entry is integrated."""
    env = {**os.environ, "OCPO_DATABASE_URL": db_url, "OCPO_AUDIT_INTEGRATION_SECONDS": "0.05"}
    worker = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "ocpo_coord.cli",
        "audit",
        "sequence",
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    signer = checkpoint_signer(get_settings())
    engine = make_async_engine(db_url)
    stop = asyncio.Event()
    standby = None
    try:
        await _leader_elected(db_url)  # the worker leads; the service's own waits
        standby = asyncio.create_task(sequencer.run(engine, signer, interval=0.05, stop=stop))
        await _write(client, 5)
        await _drained(db_url)
        writing = asyncio.create_task(_write(client, 10))
        await asyncio.sleep(0.2)
        worker.kill()
        await worker.wait()
        await writing
        await _drained(db_url)
    finally:
        if worker.returncode is None:
            worker.kill()
            await worker.wait()
        stop.set()
        if standby is not None:
            await standby
        await engine.dispose()
    _verified(db_url)


async def _leader_elected(db_url: str) -> None:
    engine = make_async_engine(db_url)
    try:
        for _ in range(300):
            async with engine.connect() as conn:
                held = await conn.execute(
                    text(
                        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = :k AND granted"
                    ),
                    {"k": sequencer.SEQUENCER_LOCK_KEY},
                )
                if held.scalar_one():
                    return
            await asyncio.sleep(0.1)
    finally:
        await engine.dispose()
    raise AssertionError("no sequencer took the lead")

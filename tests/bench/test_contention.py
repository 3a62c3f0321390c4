"""The list-under-writes figure watches the database for lock waits: a backend that
waits for another's row lock is counted, and none is while nothing waits."""

import threading
import time

import pytest
from sqlalchemy import text

from ocpo_coord.bench.contention import LockWaits
from ocpo_coord.bench.cpu import BusyCores
from ocpo_coord.db.engine import make_sync_engine


def test_a_backend_waiting_for_a_row_lock_is_seen(backend: str, db_url: str) -> None:
    if backend != "postgresql":
        pytest.skip("lock waits are read from PostgreSQL's pg_stat_activity")
    engine = make_sync_engine(db_url)
    try:
        with engine.connect() as conn:
            some = conn.execute(text("SELECT id FROM record LIMIT 1")).scalar_one()
        with LockWaits(engine, every=0.02) as quiet:
            threading.Event().wait(0.2)
        assert quiet.samples > 0
        assert quiet.waiting == 0
        holder_tx = engine.connect()
        holder_tx.begin()
        holder_tx.execute(text("SELECT 1 FROM record WHERE id = :id FOR UPDATE"), {"id": some})
        waiter_locked = threading.Event()

        def wait_for_the_row() -> None:
            with engine.connect() as waiter, waiter.begin():
                waiter_locked.set()
                waiter.execute(text("SELECT 1 FROM record WHERE id = :id FOR UPDATE"), {"id": some})

        thread = threading.Thread(target=wait_for_the_row)
        try:
            thread.start()
            waiter_locked.wait(5)
            with LockWaits(engine, every=0.02) as busy:
                threading.Event().wait(0.3)
        finally:
            holder_tx.rollback()
            holder_tx.close()
            thread.join(10)
        assert busy.samples > 0
        assert busy.waiting >= 1
        assert busy.active >= busy.waiting
    finally:
        engine.dispose()


def test_a_core_kept_busy_is_counted_and_an_idle_wait_is_not() -> None:
    # The concurrent runs report the cores at work beside their rate: a busy loop in
    # this process keeps one core working, a sleep keeps none.
    with BusyCores() as spinning:
        deadline = time.perf_counter() + 0.5
        while time.perf_counter() < deadline:
            pass
    with BusyCores() as waiting:
        time.sleep(0.5)
    assert spinning.cores is not None
    assert waiting.cores is not None
    assert spinning.available >= 1
    # Other work on the machine may add to both; the spinning core is always there.
    assert spinning.cores >= 0.8
    assert 0.0 <= waiting.cores <= waiting.available

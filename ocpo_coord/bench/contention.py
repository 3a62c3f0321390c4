"""An audited list page read while others write: its p50 alone, then its p50 while
``WRITERS`` clients write intelligence items as fast as they are answered.

Appends wait for nobody (issue 26): a reader's page, whose reads are audited in its
own transaction, must not queue behind writers for a lock, a sequencer or the pool.
The writers run in a process of their own, so that the reader's client shares no
event loop (nor the GIL) with theirs: what the page waits for is the service.
"""

import asyncio
import multiprocessing
import statistics
import threading
import time
from typing import Any

import httpx
from sqlalchemy import Engine, text

from ocpo_coord.bench.cpu import BusyCores
from ocpo_coord.bench.operations import run_writers

WRITERS = 8
# The steady rate of each writer in the paced run: sixteen records a second in all is a
# busy theatre, and leaves processors free, so what the page waits for there is the
# writers themselves (locks, the pool, the sequencer), not the machine.
PACE = 2.0
PAGE = "/api/v1/intel-items"
# Pages read before timing: connections opened, statements prepared and planned.
WARM_PAGES = 12


def _latencies(base: str, token: str, seconds: float, *, at_least: int) -> list[float]:
    """One client reading the page again as soon as answered, for ``seconds`` (and at
    least ``at_least`` times)."""
    samples: list[float] = []
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60) as http:
        for _ in range(WARM_PAGES):
            http.get(PAGE, params={"limit": 50}).raise_for_status()
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline or len(samples) < at_least:
            started = time.perf_counter()
            http.get(PAGE, params={"limit": 50}).raise_for_status()
            samples.append(time.perf_counter() - started)
    return samples


# Backends of the measured database that wait for a row or table lock (a heavyweight
# lock), and those that are working: which of them the page waits behind.
_WAITING = text(
    "SELECT count(*) FILTER (WHERE wait_event_type = 'Lock'), count(*) FROM pg_stat_activity "
    "WHERE datname = current_database() AND state = 'active' AND pid <> pg_backend_pid()"
)


class LockWaits:
    """Samples, every ``every`` seconds while running, how many backends wait for a lock
    (PostgreSQL; nothing elsewhere): a reader slowed by writers' locks shows here."""

    def __init__(self, engine: Engine, every: float = 0.05) -> None:
        self.engine, self.every = engine, every
        self.samples = self.waiting = self.active = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        with self.engine.connect() as conn:
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            while not self._stop.wait(self.every):
                waiting, active = conn.execute(_WAITING).one()
                self.samples += 1
                self.waiting += int(waiting)
                self.active += int(active)

    def __enter__(self) -> "LockWaits":
        if self.engine.dialect.name == "postgresql":
            self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()


def _write(
    base: str,
    token: str,
    writers: int,
    seconds: float,
    theatre: str,
    pace: float | None,
    started: Any,
    results: Any,
) -> None:
    """The writers' process: says when the first write is answered, then reports."""
    results.put(asyncio.run(run_writers(base, token, writers, seconds, theatre, answered=started, pace=pace)))


def list_under_writes(
    base: str,
    reader_token: str,
    writer_token: str,
    *,
    seconds: float,
    theatre: str,
    engine: Engine,
    writers: int = WRITERS,
    at_least: int = 20,
    pace: float | None = None,
) -> dict[str, Any]:
    """The page's p50 with no writers, then with ``writers`` writing (each as soon as
    answered, or ``pace`` writes per second each), and their ratio; ``engine`` (the
    measured database) is watched for lock waits meanwhile, and the machine's cores
    for work."""
    alone = _latencies(base, reader_token, seconds, at_least=at_least)
    context = multiprocessing.get_context("spawn")
    started = context.Event()
    results = context.Queue()
    # The writers outlast the timed reads: the page is never read with fewer of them.
    process = context.Process(
        target=_write, args=(base, writer_token, writers, seconds + 5.0, theatre, pace, started, results)
    )
    process.start()
    try:
        waited = 0.0
        while not started.wait(timeout=0.5):
            waited += 0.5
            if not process.is_alive() or waited > 120:
                raise RuntimeError("the writers did not start")
        with LockWaits(engine) as waits, BusyCores() as cpu:
            loaded = _latencies(base, reader_token, seconds, at_least=at_least)
        written: dict[str, Any] = results.get(timeout=seconds + 120)
    finally:
        process.join(timeout=30)
        if process.is_alive():
            process.kill()
    p50_alone = statistics.median(alone) * 1000
    p50_loaded = statistics.median(loaded) * 1000
    return {
        "writers": writers,
        "pace_per_writer": pace,
        "cores_busy": cpu.cores,
        "cores": cpu.available,
        "p50_alone_ms": p50_alone,
        "p50_with_writers_ms": p50_loaded,
        "ratio": p50_loaded / p50_alone,
        "samples_alone": len(alone),
        "samples_with_writers": len(loaded),
        "writes_per_second": written["per_second"],
        "writes_failed": written["failed"],
        # Backends waiting for a lock, and working, on average while the page was timed
        # with writers (PostgreSQL; None elsewhere).
        "lock_waiting_backends": waits.waiting / waits.samples if waits.samples else None,
        "active_backends": waits.active / waits.samples if waits.samples else None,
    }

"""SQLite's writers, one at a time and in order of arrival, within one process.

SQLite lets one transaction write at a time, and every transaction here begins
IMMEDIATE (``db/engine.py``): a request waits for the database's lock before its first
statement. SQLite's own wait (its busy handler) polls, with pauses that grow to
100 ms, and hands the lock to whoever asks at the moment it is free: under load a
request that has waited longest may lose to every newcomer until its wait runs out
("database is locked"). Within the process, requests therefore queue here first, in
order of arrival, and only the head of the queue asks SQLite; SQLite's busy handler
then waits only for other processes (a command, an operator's script). Both waits
are bounded by ``sqlite_wait_seconds``.
"""

import asyncio
import sqlite3
import weakref

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError


class WriterQueue:
    """One engine's queue: a FIFO lock per event loop, with a bounded wait."""

    def __init__(self, wait_seconds: float) -> None:
        self.wait_seconds = wait_seconds
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )

    def _lock(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        lock = self._locks.get(loop)
        if lock is None:
            lock = self._locks[loop] = asyncio.Lock()
        return lock

    async def enter(self) -> None:
        """Wait for this process's turn; past the bound, fail as SQLite does when its
        own wait runs out (answered 503 with Retry-After, see ``api/errors.py``)."""
        try:
            async with asyncio.timeout(self.wait_seconds):
                await self._lock().acquire()
        except TimeoutError:
            busy = sqlite3.OperationalError("database is locked")
            raise OperationalError("BEGIN IMMEDIATE", None, busy) from None

    def leave(self) -> None:
        self._lock().release()


_queues: weakref.WeakKeyDictionary[Engine, WriterQueue] = weakref.WeakKeyDictionary()


def register(engine: Engine, wait_seconds: float) -> None:
    _queues[engine] = WriterQueue(wait_seconds)


def queue_of(engine: Engine) -> WriterQueue | None:
    """The engine's queue; None for a database that needs none (PostgreSQL)."""
    return _queues.get(engine)

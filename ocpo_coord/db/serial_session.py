"""A session whose database work runs one operation at a time, each to its end.

One request has one session and one transaction, but strawberry resolves sibling
fields concurrently and dataloaders dispatch their batches as tasks of their own. An
``AsyncSession`` is not safe for concurrent use: two operations at once corrupt its
state ("Session is already flushing"). And graphql-core cancels a field's siblings when
it fails: a statement cancelled mid-flight leaves the connection invalid, its
transaction (on SQLite, the database's write lock) open until the connection is
collected.

So every database operation of a session takes the session's turn, and, once started,
runs to its end even if the task that asked for it is cancelled; the cancellation is
delivered when the operation is done. Waiting for the turn may be cancelled at any
time. Operations that call another operation of the session (``scalars`` calls
``execute``) are left unwrapped, so a turn is never taken twice.

On SQLite a session also queues for the database before its transaction begins, and
leaves the queue when the transaction ends (``sqlite_turns``).
"""

import asyncio
import functools
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.ext.asyncio import AsyncSession as SqlAlchemyAsyncSession
from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.db.sqlite_turns import WriterQueue, queue_of

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Awaitable[Any]])


async def run_to_end(operation: Awaitable[T]) -> T:
    """Await ``operation`` in a task of its own that a cancellation of the caller does
    not interrupt: the caller's cancellation is raised once the operation is over."""
    task = asyncio.ensure_future(operation)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        while not task.done():
            try:
                await asyncio.wait([task])
            except asyncio.CancelledError:
                continue
        if not task.cancelled():
            task.exception()  # retrieved: the caller was cancelled, it has no use for it
        raise


def _in_turn(method: F, *, ends: bool = False) -> F:
    """``method`` in the session's turn. Unless the method only ``ends`` the session's
    work, a session about to begin a transaction on SQLite first queues for the
    database (``sqlite_turns``); it leaves the queue when its transaction is over."""

    @functools.wraps(method)
    async def in_turn(self: "SerialSession", *args: Any, **kwargs: Any) -> Any:
        async with self.turn:
            if not ends and self.queued is None and not self.in_transaction():
                queue = queue_of(self.bind.sync_engine) if isinstance(self.bind, AsyncEngine) else None
                if queue is not None:
                    await queue.enter()
                    self.queued = queue
            try:
                return await run_to_end(method(self, *args, **kwargs))
            finally:
                if self.queued is not None and not self.in_transaction():
                    self.queued.leave()
                    self.queued = None

    return cast(F, in_turn)


def _ending(method: F) -> F:
    return _in_turn(method, ends=True)


class SerialSession(AsyncSession):
    """``AsyncSession`` with one turn: see the module's docstring."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.turn = asyncio.Lock()
        # This session's place at the head of the SQLite queue, while it has one.
        self.queued: WriterQueue | None = None

    # Every method that runs database work itself (through SQLAlchemy's greenlet).
    exec = _in_turn(AsyncSession.exec)
    execute = _in_turn(AsyncSession.execute)
    # mypy does not match this overloaded method against itself; the type is unchanged.
    scalar = _in_turn(SqlAlchemyAsyncSession.scalar)  # type: ignore[assignment, arg-type]
    get = _in_turn(SqlAlchemyAsyncSession.get)
    get_one = _in_turn(SqlAlchemyAsyncSession.get_one)
    refresh = _in_turn(SqlAlchemyAsyncSession.refresh)
    run_sync = _in_turn(SqlAlchemyAsyncSession.run_sync)
    stream = _in_turn(SqlAlchemyAsyncSession.stream)
    delete = _in_turn(SqlAlchemyAsyncSession.delete)
    delete_all = _in_turn(SqlAlchemyAsyncSession.delete_all)
    merge = _in_turn(SqlAlchemyAsyncSession.merge)
    merge_all = _in_turn(SqlAlchemyAsyncSession.merge_all)
    flush = _in_turn(SqlAlchemyAsyncSession.flush)
    connection = _in_turn(SqlAlchemyAsyncSession.connection)
    commit = _ending(SqlAlchemyAsyncSession.commit)
    rollback = _ending(SqlAlchemyAsyncSession.rollback)
    close = _ending(SqlAlchemyAsyncSession.close)
    reset = _ending(SqlAlchemyAsyncSession.reset)
    invalidate = _ending(SqlAlchemyAsyncSession.invalidate)

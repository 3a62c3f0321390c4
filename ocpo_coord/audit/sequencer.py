"""The sequencer: gives committed entries their place in the log, after commit.

Requests only insert their entries (a trigger queues each in ``audit_pending``). The
sequencer takes queued entries in insertion order, hashes each as a leaf, writes the
leaves and the complete subtrees they finish, empties the queue of them and signs a
checkpoint, all in one transaction: a crash at any point leaves every acknowledged
entry queued, and the next run integrates it.

One sequencer is active among all processes: on PostgreSQL the one holding a
session-level advisory lock on a connection of its own (released by the server when
that process dies, so another takes over at its next try); on SQLite, which serves one
process, the service's own. A second sequencer by mistake would only fail: the leaves'
and subtrees' keys are unique.
"""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import delete, insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from ocpo_coord.audit import merkle, tree
from ocpo_coord.audit.canonical import canonical_bytes
from ocpo_coord.audit.note import Checkpoint, Signer
from ocpo_coord.audit.service import hashed_fields
from ocpo_coord.db.queries import among
from ocpo_coord.models import AuditEvent, AuditPending

log = logging.getLogger(__name__)

events = AuditEvent.__table__  # type: ignore[attr-defined]
pending = AuditPending.__table__  # type: ignore[attr-defined]

# Any constant: the one every sequencer of an installation asks for.
SEQUENCER_LOCK_KEY = 0x0C90A0D2
BATCH = 2000


def sign_checkpoint(signer: Signer, tree_size: int, root: bytes) -> str:
    body = Checkpoint(signer.name, tree_size, root).text()
    return body + "\n" + signer.sign_line(body)


async def _insert_checkpoint(conn: AsyncConnection, signer: Signer, compact: merkle.CompactRange) -> None:
    root = compact.root()
    await conn.execute(
        insert(tree.checkpoints).values(
            size=compact.size, root_hash=root, note=sign_checkpoint(signer, compact.size, root)
        )
    )


async def _compact(conn: AsyncConnection) -> merkle.CompactRange:
    current = await tree.size(conn)
    keys = merkle.CompactRange.peak_keys(current)
    known = await tree.read_subtrees(conn, keys)
    return merkle.CompactRange(current, [known[key] for key in keys])


async def integrate_batch(conn: AsyncConnection, signer: Signer, *, limit: int = BATCH) -> int:
    """One transaction's worth (the caller's): how many entries it integrated."""
    queued = [
        int(s)
        for s in (
            await conn.execute(select(pending.c.event_seq).order_by(pending.c.event_seq).limit(limit))
        ).scalars()
    ]
    compact = await _compact(conn)
    if not queued:
        if await tree.checkpoint_at(conn, compact.size) is None:
            await _insert_checkpoint(conn, signer, compact)
        return 0
    rows = await conn.execute(select(events).where(among(conn, events.c.seq, queued)).order_by(events.c.seq))
    leaves: list[dict[str, Any]] = []
    finished: list[dict[str, Any]] = []
    for row in rows:
        leaf = merkle.leaf_hash(canonical_bytes(hashed_fields(row)))
        leaves.append({"idx": compact.size, "event_seq": row.seq, "leaf_hash": leaf})
        finished.extend({"level": level, "idx": idx, "hash": h} for level, idx, h in compact.append(leaf))
    await conn.execute(insert(tree.entries), leaves)
    if finished:
        await conn.execute(insert(tree.nodes), finished)
    await conn.execute(delete(pending).where(among(conn, pending.c.event_seq, queued)))
    await _insert_checkpoint(conn, signer, compact)
    return len(leaves)


async def integrate_pending(engine: AsyncEngine, signer: Signer, *, limit: int = BATCH) -> int:
    """Integrate everything queued now, a batch per transaction; how many entries."""
    total = 0
    while True:
        async with engine.begin() as conn:
            done = await integrate_batch(conn, signer, limit=limit)
        total += done
        if done < limit:
            return total


async def _try_lead(conn: AsyncConnection) -> bool:
    result = await conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": SEQUENCER_LOCK_KEY})
    return bool(result.scalar())


async def run(engine: AsyncEngine, signer: Signer, *, interval: float, stop: asyncio.Event) -> None:
    """Sequence until ``stop`` is set: lead when no other process does, integrate every
    ``interval`` seconds while leading, and try again to lead after losing the lead."""
    postgres = engine.dialect.name == "postgresql"
    # The lock's connection is never pooled: when it closes, the lock goes with it.
    lock_engine = create_async_engine(engine.url, poolclass=NullPool) if postgres else None
    try:
        while not stop.is_set():
            try:
                if lock_engine is None:
                    await _lead(engine, signer, interval, stop, None)
                else:
                    async with lock_engine.connect() as lock:
                        lock = await lock.execution_options(isolation_level="AUTOCOMMIT")
                        if await _try_lead(lock):
                            log.info("audit sequencer leading")
                            await _lead(engine, signer, interval, stop, lock)
            except Exception:  # the sequencer reports and carries on; it never dies
                log.exception("audit sequencer failed; trying again")
            await _wait(stop, interval)
    finally:
        if lock_engine is not None:
            await lock_engine.dispose()


async def _lead(
    engine: AsyncEngine, signer: Signer, interval: float, stop: asyncio.Event, lock: AsyncConnection | None
) -> None:
    while not stop.is_set():
        if lock is not None:
            # Still connected, so still holding the lock.
            await lock.execute(text("SELECT 1"))
        if await integrate_pending(engine, signer) == 0:
            await _wait(stop, interval)


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


@contextlib.asynccontextmanager
async def running(engine: AsyncEngine, signer: Signer, *, interval: float) -> AsyncIterator[None]:
    """The sequencer as a task of the service, stopped (mid-wait, never mid-batch) when
    the service stops."""
    stop = asyncio.Event()
    task = asyncio.create_task(run(engine, signer, interval=interval, stop=stop))
    try:
        yield
    finally:
        stop.set()
        await task

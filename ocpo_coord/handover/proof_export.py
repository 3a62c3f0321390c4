"""The audit log's proof a package carries (``package_proof``), gathered at export.

Entries reach the log's tree after commit, by the sequencer, within a bounded delay;
an export first integrates what is queued (as the sequencer would, in the export's own
transaction, when no sequencer leads now; otherwise it waits for the one that does),
so the checkpoint it carries covers everything recorded about its records until then.
"""

import asyncio
import hashlib
import time
import uuid
from pathlib import Path

from sqlalchemy import func, select, text
from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.audit import merkle, sequencer, tree
from ocpo_coord.audit.canonical import canonical_bytes
from ocpo_coord.audit.note import Signer
from ocpo_coord.audit.service import hashed_fields
from ocpo_coord.exceptions import Conflict
from ocpo_coord.handover.package import Fixity, JsonLines
from ocpo_coord.handover.package_proof import CHECKPOINT, PROOFS, EntryProof
from ocpo_coord.models import AuditCheckpoint

# Records whose entries are found in one query, and entries whose proofs are made together.
_RECORDS_PER_QUERY = 500
_ENTRIES_PER_WINDOW = 4000
_WAIT_SECONDS = 10.0


async def _integrate(session: AsyncSession, signer: Signer) -> None:
    conn = await session.connection()
    if conn.dialect.name == "postgresql":
        # Held to commit: no sequencer takes the lead meanwhile, and none leads now.
        lead = await conn.execute(
            text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": sequencer.SEQUENCER_LOCK_KEY}
        )
        if not lead.scalar():
            await _wait_for_sequencer(session)
            return
    while await sequencer.integrate_batch(conn, signer) == sequencer.BATCH:
        pass


async def _wait_for_sequencer(session: AsyncSession) -> None:
    """Until the leading sequencer has integrated what was queued when the export began."""
    queued = (await session.exec(select(func.max(sequencer.pending.c.event_seq)))).scalar()  # type: ignore[call-overload]
    deadline = time.monotonic() + _WAIT_SECONDS
    while queued is not None:
        left = (
            await session.exec(
                select(func.count())
                .select_from(sequencer.pending)
                .where(sequencer.pending.c.event_seq <= queued)  # type: ignore[call-overload]
            )
        ).scalar()
        if not left:
            return
        if time.monotonic() > deadline:
            raise Conflict("the audit log's sequencer is behind; export again in a moment")
        await asyncio.sleep(0.2)


async def checkpoint_for_export(session: AsyncSession, signer: Signer) -> AuditCheckpoint:
    """The signed checkpoint covering every entry recorded until now (``signer``: the
    log's key, which signs the checkpoints it integrates)."""
    await _integrate(session, signer)
    checkpoint = await tree.latest_checkpoint(session)
    if checkpoint is None:
        raise Conflict("the audit log has no checkpoint yet; export again in a moment")
    return checkpoint


async def write_proofs(
    session: AsyncSession,
    *,
    root: Path,
    fixity: Fixity,
    checkpoint: AuditCheckpoint,
    record_ids: set[uuid.UUID],
    part_bytes: int,
) -> int:
    """The checkpoint and the proofs of the entries about ``record_ids`` into ``root``
    (the payload); how many proofs."""
    note = checkpoint.note + "".join(await tree.cosignature_lines(session, checkpoint.size))
    path = root / CHECKPOINT
    path.parent.mkdir(parents=True, exist_ok=True)
    data = note.encode("utf-8")
    path.write_bytes(data)
    fixity.add(path, hashlib.sha256(data).hexdigest(), len(data))
    wanted = sorted(record_ids)
    indices: list[int] = []
    for start in range(0, len(wanted), _RECORDS_PER_QUERY):
        chunk = wanted[start : start + _RECORDS_PER_QUERY]
        indices += await tree.entry_indices_about(session, chunk, checkpoint.size)
    # In log order, a window at a time: entries near each other in the log share most of
    # their paths, so a window's proofs take one read of the tree, each node once.
    indices.sort()
    count = 0
    with JsonLines(root / PROOFS, fixity, part_bytes) as out:
        for start in range(0, len(indices), _ENTRIES_PER_WINDOW):
            window = indices[start : start + _ENTRIES_PER_WINDOW]
            found = await tree.entries_at(session, window)
            paths: list[list[bytes]] = await tree.prove(
                session,
                lambda get, window=window: merkle.inclusion_proofs(window, checkpoint.size, get),  # type: ignore[misc]
            )
            for (idx, row), hashes in zip(found, paths, strict=True):
                entry = canonical_bytes(hashed_fields(row))
                if merkle.leaf_hash(entry) != bytes(row.leaf_hash):
                    raise Conflict(
                        f"audit entry {row.id} no longer hashes to its leaf {idx}; run 'ocpo-coord "
                        "audit verify' before exporting"
                    )
                out.write(EntryProof(row.record_id, idx, entry.decode("utf-8"), hashes).line())
                count += 1
    return count

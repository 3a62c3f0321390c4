"""Queries on the audit log's tree: its size, its complete subtrees, its checkpoints.

Every function takes an ``AsyncSession`` or an ``AsyncConnection``: the service reads
through the request's session, the sequencer through a connection of its own.
"""

from collections.abc import Callable, Iterable
from typing import Any, Protocol

from sqlalchemy import (
    BigInteger,
    Executable,
    Integer,
    Select,
    and_,
    bindparam,
    func,
    select,
    tuple_,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Dialect
from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.audit import merkle
from ocpo_coord.db.queries import among_in
from ocpo_coord.models import (
    AuditCheckpoint,
    AuditCosignature,
    AuditEvent,
    AuditLogEntry,
    AuditTreeNode,
    AuditWitness,
)

entries = AuditLogEntry.__table__  # type: ignore[attr-defined]
nodes = AuditTreeNode.__table__  # type: ignore[attr-defined]
checkpoints = AuditCheckpoint.__table__  # type: ignore[attr-defined]
cosignatures = AuditCosignature.__table__  # type: ignore[attr-defined]
witnesses = AuditWitness.__table__  # type: ignore[attr-defined]


class Executor(Protocol):
    @property
    def dialect(self) -> Dialect: ...

    async def execute(self, statement: Executable, /) -> Any: ...


async def _run(db: "Executor | AsyncSession", statement: Executable) -> Any:
    """A Core statement, through a session's ``exec`` (SQLModel deprecates ``execute``
    there) or a connection's ``execute``."""
    if isinstance(db, AsyncSession):
        return await db.exec(statement)  # type: ignore[call-overload]
    return await db.execute(statement)


async def size(db: Executor | AsyncSession) -> int:
    last = (await _run(db, select(func.max(entries.c.idx)))).scalar()
    return 0 if last is None else int(last) + 1


# Subtrees asked for in one statement at most: an export asks for the proofs of every
# entry about every record it carries.
_KEYS_PER_QUERY = 5000


def _dialect(db: Executor | AsyncSession) -> str:
    if isinstance(db, AsyncSession):
        return db.get_bind().dialect.name
    return db.dialect.name


def _leaves_among(dialect: str, idxs: list[int]) -> Select[Any]:
    return select(entries.c.idx, entries.c.leaf_hash).where(among_in(dialect, entries.c.idx, idxs))


def _nodes_among(dialect: str, keys: list[tuple[int, int]]) -> Select[Any]:
    """The inner nodes ``keys``: on PostgreSQL a join with the keys as two arrays, one
    statement text for any number of them (an OR of pairs is planned anew for every
    length, as a scan per pair); elsewhere a row-value IN list."""
    columns = (nodes.c.level, nodes.c.idx, nodes.c.hash)
    if dialect != "postgresql":
        return select(*columns).where(tuple_(nodes.c.level, nodes.c.idx).in_(keys))
    wanted = (
        func.unnest(
            bindparam("levels", [level for level, _ in keys], type_=ARRAY(Integer)),
            bindparam("idxs", [idx for _, idx in keys], type_=ARRAY(BigInteger)),
        )
        .table_valued("level", "idx")
        .render_derived()
    )
    return select(*columns).join(wanted, and_(nodes.c.level == wanted.c.level, nodes.c.idx == wanted.c.idx))


async def read_subtrees(
    db: Executor | AsyncSession, keys: Iterable[tuple[int, int]]
) -> dict[tuple[int, int], bytes]:
    """The hashes of the complete subtrees ``keys`` (level 0: leaves), a query per kind
    and per ``_KEYS_PER_QUERY`` keys."""
    wanted = set(keys)
    found: dict[tuple[int, int], bytes] = {}
    dialect = _dialect(db)
    leaves = sorted(idx for level, idx in wanted if level == 0)
    for start in range(0, len(leaves), _KEYS_PER_QUERY):
        rows = await _run(db, _leaves_among(dialect, leaves[start : start + _KEYS_PER_QUERY]))
        found.update({(0, int(idx)): bytes(h) for idx, h in rows})
    inner = sorted((level, idx) for level, idx in wanted if level > 0)
    for start in range(0, len(inner), _KEYS_PER_QUERY):
        rows = await _run(db, _nodes_among(dialect, inner[start : start + _KEYS_PER_QUERY]))
        found.update({(int(level), int(idx)): bytes(h) for level, idx, h in rows})
    missing = wanted - found.keys()
    if missing:
        raise LookupError(f"the audit tree lacks complete subtrees {sorted(missing)[:3]}")
    return found


async def prove(db: Executor | AsyncSession, build: Callable[[merkle.Subtrees], Any]) -> Any:
    """Run ``build`` (a root or proof) on the subtrees it needs, read in one go."""
    known = await read_subtrees(db, merkle.needed(build))
    return build(lambda level, idx: known[(level, idx)])


async def latest_checkpoint(db: Executor | AsyncSession) -> AuditCheckpoint | None:
    row = (await _run(db, select(checkpoints).order_by(checkpoints.c.size.desc()).limit(1))).first()
    return None if row is None else AuditCheckpoint.model_validate(row._mapping)


async def checkpoint_at(db: Executor | AsyncSession, tree_size: int) -> AuditCheckpoint | None:
    row = (await _run(db, select(checkpoints).where(checkpoints.c.size == tree_size))).first()
    return None if row is None else AuditCheckpoint.model_validate(row._mapping)


async def cosignature_lines(db: Executor | AsyncSession, tree_size: int) -> list[str]:
    rows = await _run(
        db,
        select(cosignatures.c.signature_line)
        .where(cosignatures.c.size == tree_size)
        .order_by(cosignatures.c.witness_name),
    )
    return [line for (line,) in rows]


async def cosignings(db: Executor | AsyncSession, limit: int) -> list[tuple[str, int, Any]]:
    """(witness, size, when), the newest first."""
    rows = await _run(
        db,
        select(cosignatures.c.witness_name, cosignatures.c.size, cosignatures.c.created_at)
        .order_by(cosignatures.c.size.desc(), cosignatures.c.witness_name)
        .limit(limit),
    )
    return [(name, int(tree_size), at) for name, tree_size, at in rows]


async def registered_witnesses(db: Executor | AsyncSession) -> dict[str, str]:
    rows = await _run(db, select(witnesses.c.name, witnesses.c.vkey))
    return {str(row[0]): str(row[1]) for row in rows}


async def has_cosignature(db: Executor | AsyncSession, witness: str, tree_size: int) -> bool:
    row = await _run(
        db,
        select(cosignatures.c.size).where(
            tuple_(cosignatures.c.witness_name, cosignatures.c.size) == tuple_(witness, tree_size)
        ),
    )
    return row.first() is not None


async def entry_indices_about(
    db: Executor | AsyncSession, record_ids: list[Any], tree_size: int
) -> list[int]:
    """The leaf indices of the integrated entries within ``tree_size`` whose
    ``record_id`` is one of ``record_ids``."""
    events = AuditEvent.__table__  # type: ignore[attr-defined]
    # One array on PostgreSQL: with a list of parameters, the repeated statement's
    # generic plan read the records' entries several times slower.
    rows = await _run(
        db,
        select(entries.c.idx)
        .join(events, events.c.seq == entries.c.event_seq)
        .where(among_in(_dialect(db), events.c.record_id, record_ids), entries.c.idx < tree_size),
    )
    return [int(idx) for (idx,) in rows]


async def entries_at(db: Executor | AsyncSession, idxs: list[int]) -> list[tuple[int, Any]]:
    """(leaf index, entry row) of the entries at ``idxs``, in log order."""
    events = AuditEvent.__table__  # type: ignore[attr-defined]
    rows = await _run(
        db,
        select(entries.c.idx, entries.c.leaf_hash, events)
        .join(events, events.c.seq == entries.c.event_seq)
        .where(among_in(_dialect(db), entries.c.idx, idxs))
        .order_by(entries.c.idx),
    )
    return [(int(row.idx), row) for row in rows]

"""Walks the audit chain and names the first entry that does not hold.

A changed entry no longer matches its own hash; a deleted, inserted or reordered
entry breaks the link from the entry after it to the one before. The chain is
read in ``seq`` order as a stream, so memory does not grow with the log.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, Row, select

from ocpo_coord.audit.canonical import GENESIS_HASH, chain_hash
from ocpo_coord.audit.service import hashed_fields
from ocpo_coord.models import AuditEvent


@dataclass(frozen=True, slots=True)
class ChainReport:
    checked: int
    head: str
    bad_seq: int | None = None
    problem: str = ""

    @property
    def ok(self) -> bool:
        return self.bad_seq is None


def verify_entries(entries: Iterable[AuditEvent] | Iterable[Row[Any]]) -> ChainReport:
    """Entries as table models or as plain rows of the table's columns (the fast path)."""
    previous = GENESIS_HASH
    checked = 0
    for entry in entries:
        checked += 1
        if entry.prev_hash != previous:
            return ChainReport(
                checked,
                previous,
                entry.seq,
                f"entry {entry.seq} does not follow the entry before it: "
                "an entry was deleted, inserted or moved just before it",
            )
        if chain_hash(entry.prev_hash, hashed_fields(entry)) != entry.hash:
            return ChainReport(
                checked, previous, entry.seq, f"entry {entry.seq} was changed after it was written"
            )
        previous = entry.hash
    return ChainReport(checked, previous)


def verify_database(engine: Engine, *, batch: int = 5000) -> ChainReport:
    # Plain rows, not ORM objects: the walk costs the hashing, not building objects.
    table = AuditEvent.__table__  # type: ignore[attr-defined]
    with engine.connect() as conn:
        rows = conn.execution_options(yield_per=batch).execute(select(table).order_by(table.c.seq))
        try:
            return verify_entries(rows)
        finally:
            # A broken chain stops the walk early: release the server-side cursor.
            rows.close()

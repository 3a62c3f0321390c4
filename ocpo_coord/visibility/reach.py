"""Keeping the visibility index (``record_reach``) in step with the records.

Why an index at all: a list page filtered by the rule alone walks the newest
records and throws away those the reader may not read, so a reader who may see a
few hundred of a million records pays for the million (FIELD-NOTES, "Listing under
permissions"). Filing each record under the scopes that could read it lets a page walk
only the reader's own scopes, in list order, at the same cost for every reader.

The index decides only where it cannot be wrong. Pages still apply the rule to every
row, so a stale or over-wide entry costs a wasted look and cannot leak; a missing
entry would hide a record, which is why upkeep sits in the session's flush, where no
write path can forget it. A row is ``settled`` when its scope settles the rule for the
record (``visibility.settled_scopes``: every holder may read it, at any instant); a bounded
count takes such rows without asking the rule, so a settled flag is only ever set
from the record's facts as they are written, on the same flush:

- a record, its releases or its grants change -> its rows are rewritten;
- the members of a restricted case change -> the rows of everything under the case;
- agreements, sharing groups and theatres change nothing here: they change which
  scopes a reader holds (``scopes.reader_scopes``), not a record's rows.

Bulk loaders that bypass the ORM call ``rows_of`` (the benchmark generator),
``rows_from`` then ``file_rows`` (handover import: the rows derived in its worker
thread, written on the loop) or ``file_new`` (STIX import).
"""

import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import fields
from typing import Any

from sqlalchemy import Connection, delete, event, select
from sqlalchemy.orm import Session, UOWTransaction
from sqlmodel import col

from ocpo_coord.db import copy
from ocpo_coord.db.engine import hooks_installed
from ocpo_coord.db.queries import among
from ocpo_coord.models import CaseMember, Record, RecordGrant, RecordReach, RecordRelease
from ocpo_coord.models.base import table_of
from ocpo_coord.visibility.readable import settled_scopes
from ocpo_coord.visibility.rule import READ_RULE, RecordFacts, RecordRow, ReleaseRow
from ocpo_coord.visibility.scopes import includes

_CHUNK = 500
_REACH = table_of(RecordReach)
_PENDING = "reach_pending_records"
_PENDING_CASES = "reach_pending_cases"
_BORN = "reach_born_records"


def rows_of(facts: RecordFacts) -> list[dict[str, Any]]:
    record = facts.record
    settled = settled_scopes(facts)
    return [
        {
            "scope_kind": int(kind),
            "scope_id": scope_id,
            "kind": record.kind,
            "created_at": record.created_at,
            "record_id": record.id,
            "classification": int(record.classification),
            "nohost": record.nohost,
            "settled": includes(settled, (kind, scope_id)),
        }
        for kind, scope_id in sorted(READ_RULE.reach(facts))
    ]


def _chunks(ids: Iterable[uuid.UUID]) -> Iterator[list[uuid.UUID]]:
    batch: list[uuid.UUID] = []
    for value in ids:
        batch.append(value)
        if len(batch) == _CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch


_RECORD_COLUMNS = [Record.__table__.c[f.name] for f in fields(RecordRow)]  # type: ignore[attr-defined]
_RELEASE_COLUMNS = [
    RecordRelease.__table__.c[name]  # type: ignore[attr-defined]
    for name in ("record_id", *(f.name for f in fields(ReleaseRow)))
]


def facts_of(conn: Connection, ids: list[uuid.UUID]) -> list[RecordFacts]:
    """What ``reach`` looks at, for a batch of records, in four queries; records and
    releases as plain rows, which cost a fraction of mapped objects."""
    records = conn.execute(select(*_RECORD_COLUMNS).where(among(conn, col(Record.id), ids)))
    facts = {row[0]: RecordFacts(RecordRow(*row)) for row in records}
    for record_id, *names in conn.execute(
        select(*_RELEASE_COLUMNS).where(among(conn, col(RecordRelease.record_id), ids))
    ):
        facts[record_id].releases.append(ReleaseRow(*names))
    for grant in conn.execute(
        select(RecordGrant.__table__).where(among(conn, col(RecordGrant.record_id), ids))  # type: ignore[attr-defined]
    ).mappings():
        facts[grant["record_id"]].grants.append(RecordGrant(**grant))
    cases = {f.record.restricted_case_id for f in facts.values() if f.record.restricted_case_id is not None}
    if cases:
        members: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
        for case_id, user_id in conn.execute(
            select(col(CaseMember.case_id), col(CaseMember.user_id)).where(
                among(conn, col(CaseMember.case_id), list(cases))
            )
        ):
            members[case_id].add(user_id)
        for f in facts.values():
            if f.record.restricted_case_id is not None:
                f.restricted_members = members[f.record.restricted_case_id]
    return list(facts.values())


def refresh(conn: Connection, ids: Iterable[uuid.UUID]) -> None:
    """Rewrite the index rows of these records from what the database holds now."""
    for batch in _chunks(sorted(set(ids))):
        conn.execute(delete(RecordReach).where(among(conn, col(RecordReach.record_id), batch)))
        file_facts(conn, facts_of(conn, batch))


def file_facts(conn: Connection, facts: Iterable[RecordFacts]) -> None:
    """File records that have no index rows yet, from every fact the rule looks at as
    the caller holds them: records just inserted with their releases, whose rows the
    caller has in hand (reading them back would cost more than deriving their rows)."""
    file_rows(conn, rows_from(facts))


def rows_from(facts: Iterable[RecordFacts]) -> list[dict[str, Any]]:
    """The index rows of records that have none yet, from every fact the rule looks at."""
    return [row for each in facts for row in rows_of(each)]


def file_rows(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Index rows from ``rows_from`` written, in the connection's transaction."""
    copy.insert_rows(conn, _REACH, rows)


# Columns of a record the rule never looks at (it decides on what a record is and who
# holds it, never on which record it is).
_NOT_LOOKED_AT = frozenset({"id", "provenance"})


def file_new(conn: Connection, records: list[dict[str, Any]]) -> None:
    """File records just inserted as plain rows (every column given) that have no
    releases, grants, parent or restricted case (an import's). Their rows are derived
    from the values, as the flush hook derives those of records born in a flush, and
    records alike but for their id share them: one record object is built per kind of
    record, not per record."""
    shapes: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    rows: list[dict[str, Any]] = []
    for values in records:
        assert values["parent_id"] is None
        assert values["restricted_case_id"] is None
        shape = tuple(sorted((k, v) for k, v in values.items() if k not in _NOT_LOOKED_AT))
        if shape not in shapes:
            shapes[shape] = rows_of(RecordFacts(Record(**values)))
        rows += [row | {"record_id": values["id"]} for row in shapes[shape]]
    copy.insert_rows(conn, _REACH, rows)


def _all_ids(conn: Connection) -> Iterator[list[uuid.UUID]]:
    last: uuid.UUID | None = None
    while True:
        statement = select(col(Record.id)).order_by(col(Record.id)).limit(_CHUNK)
        if last is not None:
            statement = statement.where(col(Record.id) > last)
        ids = list(conn.execute(statement).scalars())
        if not ids:
            return
        yield ids
        last = ids[-1]


def rebuild(conn: Connection) -> int:
    """Rewrite the whole index (after a migration, or to repair it); returns records seen."""
    conn.execute(delete(RecordReach))
    seen = 0
    for ids in _all_ids(conn):
        refresh(conn, ids)
        seen += len(ids)
    return seen


Row = tuple[Any, ...]
_ROW = ("scope_kind", "scope_id", "kind", "record_id", "created_at", "classification", "nohost", "settled")


def drift(conn: Connection) -> tuple[set[Row], set[Row]]:
    """Index rows that should be there and are not, and rows that should not be there."""
    expected: set[Row] = set()
    for ids in _all_ids(conn):
        for facts in facts_of(conn, ids):
            expected |= {tuple(row[name] for name in _ROW) for row in rows_of(facts)}
    filed = select(*(RecordReach.__table__.c[name] for name in _ROW))  # type: ignore[attr-defined]
    present: set[Row] = {tuple(row) for row in conn.execute(filed)}
    return expected - present, present - expected


def _under_cases(conn: Connection, case_ids: set[uuid.UUID]) -> set[uuid.UUID]:
    statement = select(col(Record.id)).where(among(conn, col(Record.restricted_case_id), list(case_ids)))
    return set(conn.execute(statement).scalars()) | case_ids


@event.listens_for(Session, "before_flush")
def _note_changes(session: Session, _flush: UOWTransaction, _instances: Any) -> None:
    pending: set[uuid.UUID] = session.info.setdefault(_PENDING, set())
    cases: set[uuid.UUID] = session.info.setdefault(_PENDING_CASES, set())
    born: dict[uuid.UUID, RecordFacts] = session.info.setdefault(_BORN, {})
    # A record inserted by this flush has no index rows yet, and every fact the rule
    # looks at is in this flush with it: its releases and grants can only be new too (a
    # later flush that adds one files the record again, from the database). So its rows
    # are derived from the objects, not read back; under a restricted case they need
    # the case's members, so those records take the database path.
    for obj in session.new:
        if isinstance(obj, Record) and obj.restricted_case_id is None and obj.id not in pending:
            born[obj.id] = RecordFacts(obj)
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Record):
            if obj.id not in born:
                pending.add(obj.id)
        elif isinstance(obj, RecordRelease | RecordGrant):
            facts = born.get(obj.record_id)
            if facts is None or obj not in session.new:
                pending.add(obj.record_id)
            elif isinstance(obj, RecordRelease):
                facts.releases.append(obj)
            else:
                facts.grants.append(obj)
        elif isinstance(obj, CaseMember):
            cases.add(obj.case_id)


@event.listens_for(Session, "after_flush")
def _keep_in_step(session: Session, _flush: UOWTransaction) -> None:
    pending: set[uuid.UUID] = session.info.pop(_PENDING, set())
    cases: set[uuid.UUID] = session.info.pop(_PENDING_CASES, set())
    born: dict[uuid.UUID, RecordFacts] = session.info.pop(_BORN, {})
    if not pending and not cases and not born:
        return
    conn = session.connection()
    if cases:
        pending |= _under_cases(conn, cases)
    # A record both born here and touched otherwise (a case member added with it) is
    # filed from the database.
    fresh = [facts for record_id, facts in born.items() if record_id not in pending]
    file_facts(conn, fresh)
    if pending:
        refresh(conn, pending)


# The hooks above are installed: sessions may be made (``db/engine.py:sessionmaker_for``).
hooks_installed("record_reach")

"""Recomputes the audit log's Merkle tree from the stored entries and names the first
entry that does not hold.

The walk reads the log in index order, each leaf with the entry it holds, as a
stream: memory does not grow with the log. An entry changed, deleted or moved no
longer hashes to its stored leaf; a log rewritten whole (leaves and all) or cut short
no longer matches a checkpoint kept elsewhere (``--against``), or the latest one a
witness cosigned; an entry slipped in behind the sequencer is in neither the log nor
its queue. A damaged row (text that is not a UUID, JSON that does not parse, a time
that is not one) is named, with its column.
"""

import functools
import hashlib
import json
import uuid
from collections.abc import Callable, Generator, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, Select, Text, Uuid, cast, exists, func, literal_column, select

from ocpo_coord.audit import merkle
from ocpo_coord.audit.canonical import canonical_bytes, read_json
from ocpo_coord.audit.note import Checkpoint
from ocpo_coord.audit.service import HASHED_COLUMNS
from ocpo_coord.models import (
    AuditCheckpoint,
    AuditCosignature,
    AuditEvent,
    AuditLogEntry,
    AuditPending,
    AuditWitness,
)


@dataclass(frozen=True, slots=True)
class LogReport:
    checked: int
    root: bytes
    problem: str = ""
    # The entry named by the problem, when there is one: its seq.
    bad_seq: int | None = None
    pending: int = 0
    checkpoints_matched: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problem


class _Broken(Exception):
    def __init__(self, problem: str, seq: int | None = None, checked: int = 0) -> None:
        super().__init__(problem)
        self.problem, self.seq, self.checked = problem, seq, checked


# Columns stored as JSON: read as their text and parsed once here.
_JSON_COLUMNS = frozenset({"before", "after"})


# ``at`` as ``canonical._utc_text`` writes it, made by the database: formatting a
# datetime per entry in Python cost a quarter of the walk. Years below 1000 (strftime's
# padding differs by platform) and, on SQLite, any text not in the layout SQLAlchemy
# writes come as timestamps instead (``_AT_EARLY``), read as before.
_SQLITE_AT_LAYOUT = (
    "at GLOB '[1-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] "
    "[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]'"
)
_AT_TEXT = {
    # ``to_char`` pads years below 1000 to four digits where strftime does not.
    "postgresql": """CASE WHEN at >= '1000-01-01 00:00:00+00'
    THEN to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') END""",
    # SQLite keeps UTC as 'YYYY-MM-DD HH:MM:SS.ffffff': the canonical text but for two
    # characters.
    "sqlite": f"CASE WHEN {_SQLITE_AT_LAYOUT} THEN substr(at, 1, 10) || 'T' || substr(at, 12) || 'Z' END",
}
_AT_EARLY = {
    "postgresql": "CASE WHEN at < '1000-01-01 00:00:00+00' THEN at END",
    "sqlite": f"CASE WHEN NOT {_SQLITE_AT_LAYOUT} THEN at END",
}


def _log_select(dialect: str) -> Select[Any]:
    """idx, stored leaf, the entry's seq, the
    ``HASHED_COLUMNS`` in their order, ``record_ids``, then ``at`` as a timestamp where
    it is not given as text; in log order.

    JSON columns come as their stored text, parsed once here rather than by the
    driver's slower parser. ``at`` comes as its canonical text, made by the database,
    and so do UUIDs on PostgreSQL; SQLite's 32 hex digits are hyphenated by the walk
    (``_Reading``). Building objects would cost more than the hashing.
    """
    c = AuditEvent.__table__.c  # type: ignore[attr-defined]
    log = AuditLogEntry.__table__  # type: ignore[attr-defined]

    def as_read(name: str) -> Any:
        column = c[name]
        if name == "at":
            return literal_column(_AT_TEXT[dialect])
        if name in _JSON_COLUMNS:
            return cast(column, Text)
        if isinstance(column.type, Uuid) and dialect == "postgresql":
            return cast(column, Text)
        return column

    hashed = [as_read(name) for name in HASHED_COLUMNS]
    early = literal_column(_AT_EARLY[dialect], type_=c.at.type)
    return (
        select(log.c.idx, log.c.leaf_hash, log.c.event_seq, *hashed, cast(c.record_ids, Text), early)
        .select_from(log.outerjoin(AuditEvent.__table__, c.seq == log.c.event_seq))  # type: ignore[attr-defined]
        .order_by(log.c.idx)
    )


def _json(text: str | None) -> tuple[Any, bool]:
    return (None, True) if text is None else read_json(text)


@dataclass(frozen=True, slots=True)
class _Reading:
    """What the walk does to a dialect's driver rows before hashing them."""

    # ``at`` where it comes as a timestamp, read as the model reads it.
    early_at: Callable[[Any], Any]
    # UUID columns' stored text to the canonical text, where the database does not: for
    # an entry's own id, and for the columns whose values recur (``_RECURRING_UUID_AT``).
    uuid_text: Callable[[str], str] | None = None
    recurring_uuid_text: Callable[[str], str] | None = None


def _same(value: Any) -> Any:
    return value


def _hyphenated(stored: str) -> str:
    """SQLite's 32 hex digits as ``str(UUID)`` writes them, at a fifth of the cost of
    parsing; any other stored text is parsed as the model would."""
    if len(stored) != 32 or not (stored.isascii() and stored.isalnum()):
        # Hyphens, braces, a prefix, other scripts' digits: what the model reads as
        # this UUID, the walk does too.
        return str(uuid.UUID(stored))
    hexits = stored.lower()
    # Letters past f give text no entry was hashed with: the entry is named as changed.
    return f"{hexits[:8]}-{hexits[8:12]}-{hexits[12:16]}-{hexits[16:20]}-{hexits[20:]}"


def _reading(conn: Connection) -> _Reading:
    if conn.dialect.name != "sqlite":
        return _Reading(_same)
    column = AuditEvent.__table__.c.at  # type: ignore[attr-defined]
    process = column.type._cached_result_processor(conn.dialect, None)
    # The actor, the agency and the record recur from entry to entry: their text is
    # made once per value and read again, in a cache of bounded size (one per walk), so
    # that memory stays flat over any chain. An entry's own id never recurs.
    recurring = functools.lru_cache(maxsize=_KEPT_TEXTS)(_hyphenated)
    return _Reading(process or _same, _hyphenated, recurring)


_JSON_AT = tuple(i for i, name in enumerate(HASHED_COLUMNS) if name in _JSON_COLUMNS)
_UUID_AT = tuple(
    i
    for i, name in enumerate(HASHED_COLUMNS)
    if isinstance(AuditEvent.__table__.c[name].type, Uuid)  # type: ignore[attr-defined]
)
_ID = HASHED_COLUMNS.index("id")
# The UUID columns whose values recur from entry to entry (``_reading``).
_RECURRING_UUID_AT = tuple(i for i in _UUID_AT if i != _ID)
# Recurring UUIDs' texts kept at most.
_KEPT_TEXTS = 1 << 16
_AT = HASHED_COLUMNS.index("at")
_FIRST = 3
_RECORD_IDS = _FIRST + len(HASHED_COLUMNS)


def _read(row: Any, reading: _Reading) -> tuple[dict[str, Any], bool]:
    """A row of ``_log_select`` as the fields ``hashed_fields`` gives, and whether they
    are plain (``checked`` for ``canonical_bytes``)."""
    values = list(row[_FIRST:_RECORD_IDS])
    if values[_AT] is None:
        values[_AT] = reading.early_at(row[_RECORD_IDS + 1])
    uuid_text, recurring_text = reading.uuid_text, reading.recurring_uuid_text
    if uuid_text is not None and recurring_text is not None:
        values[_ID] = uuid_text(values[_ID])
        for i in _RECURRING_UUID_AT:
            if values[i] is not None:
                values[i] = recurring_text(values[i])
    plain = True
    for i in _JSON_AT:
        values[i], plain_value = _json(values[i])
        plain = plain and plain_value
    fields = dict(zip(HASHED_COLUMNS, values, strict=True))
    names, plain_names = _json(row[_RECORD_IDS])
    # JSON null reads as None, like SQL NULL: either way the entry names no records.
    if names is not None:
        fields["record_ids"] = names
    return fields, plain and plain_names


def _damage(row: Any, reading: _Reading) -> str:
    """Which column of a row ``_read`` could not read, and why: each read again alone."""
    readers: list[tuple[str, Callable[[], Any]]] = []
    if row[_FIRST + _AT] is None:
        readers.append(("at", lambda: reading.early_at(row[_RECORD_IDS + 1])))
    if reading.uuid_text is not None and reading.recurring_uuid_text is not None:
        uuid_text, recurring_text = reading.uuid_text, reading.recurring_uuid_text
        readers.append((HASHED_COLUMNS[_ID], lambda: uuid_text(row[_FIRST + _ID])))
        for i in _RECURRING_UUID_AT:
            if row[_FIRST + i] is not None:
                readers.append((HASHED_COLUMNS[i], functools.partial(recurring_text, row[_FIRST + i])))
    for i in _JSON_AT:
        readers.append((HASHED_COLUMNS[i], functools.partial(_json, row[_FIRST + i])))
    readers.append(("record_ids", functools.partial(_json, row[_RECORD_IDS])))
    for name, read in readers:
        try:
            read()
        except (ValueError, TypeError, AttributeError) as exc:
            problem = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc) or type(exc).__name__
            return f"{name}: {problem}"
    return "unreadable"


def _driver_rows(
    conn: Connection, statement: Select[Any], batch: int
) -> Generator[tuple[Any, ...], None, None]:
    """The driver's own cursor (server-side on PostgreSQL, one round trip per ``batch``
    rows): the rows go to the walk as the driver's tuples, with no result processing.

    On PostgreSQL the next batch is fetched by a thread while the walk hashes this one:
    the driver waits for the server without holding the GIL, so the server producing
    rows and the walk hashing them overlap instead of taking turns. Only one thread
    uses the cursor at a time: the walk touches only rows already fetched. SQLite's
    driver gives up the GIL for every row it steps, and would then wait for it once
    per row behind the walk: its rows are read in the walk's own thread.
    """
    sql = str(statement.compile(dialect=conn.dialect))
    driver: Any = conn.connection.driver_connection
    postgres = conn.dialect.name == "postgresql"
    cursor = driver.cursor(name="audit_verify") if postgres else driver.cursor()
    try:
        cursor.execute(sql)
        if not postgres:
            while rows := cursor.fetchmany(batch):
                yield from rows
            return
        # The executor is left (waiting for any fetch under way) before the cursor closes.
        with ThreadPoolExecutor(max_workers=1) as ahead:
            pending = ahead.submit(cursor.fetchmany, batch)
            while rows := pending.result():
                pending = ahead.submit(cursor.fetchmany, batch)
                yield from rows
    finally:
        cursor.close()


def _walk(rows: Iterable[Any], reading: _Reading, roots: dict[int, bytes]) -> tuple[int, bytes, list[int]]:
    """The tree's size and root; raises ``_Broken`` at the first leaf that does not hold
    or at the first size whose root is not the checkpoint's (``roots``).

    The tree's right edge is kept inline (``merkle.CompactRange``'s append, without a
    call per leaf): hashing is most of the walk's work.
    """
    sha256 = hashlib.sha256
    peaks: list[bytes] = []
    size = 0
    matched: list[int] = []
    if 0 in roots and roots[0] != merkle.EMPTY_ROOT:
        raise _Broken("the checkpoint of size 0 is not the empty tree's")
    for row in rows:
        idx, seq = row[0], row[2]
        if idx != size:
            raise _Broken(
                f"log index {size} is missing: the entry there was deleted from the log", checked=size
            )
        if row[_FIRST + _ID] is None:
            raise _Broken(f"entry {seq} (log index {idx}) was deleted", seq, idx + 1)
        try:
            fields, plain = _read(row, reading)
        except (ValueError, TypeError, AttributeError):
            raise _Broken(
                f"entry {seq} (log index {idx}) is damaged: {_damage(row, reading)}", seq, idx + 1
            ) from None
        leaf = sha256(b"\x00" + canonical_bytes(fields, checked=plain)).digest()
        if leaf != row[1]:
            raise _Broken(
                f"entry {seq} (log index {idx}) was changed after it was logged, or moved from elsewhere",
                seq,
                idx + 1,
            )
        node, pos = leaf, size
        while pos & 1:
            node = sha256(b"\x01" + peaks.pop() + node).digest()
            pos >>= 1
        peaks.append(node)
        size += 1
        expected = roots.get(size)
        if expected is not None:
            if merkle.peaks_root(peaks) != expected:
                raise _Broken(
                    f"the log up to index {idx} does not match its checkpoint of size {size}: "
                    "entries before it were changed, deleted, inserted or reordered",
                    checked=size,
                )
            matched.append(size)
    return size, merkle.peaks_root(peaks), matched


def _unlogged(conn: Connection) -> tuple[int | None, int]:
    """The first entry in neither the log nor the queue, and how many are queued."""
    events = AuditEvent.__table__  # type: ignore[attr-defined]
    log = AuditLogEntry.__table__  # type: ignore[attr-defined]
    queue = AuditPending.__table__  # type: ignore[attr-defined]
    # NOT EXISTS, an anti-join: ``NOT IN (subquery)`` is planned as a hashed subplan
    # only while the log's seqs fit in ``work_mem``; past that (about a million
    # entries) PostgreSQL scans the log once per entry, and the walk never ends.
    stray = conn.execute(
        select(events.c.seq)
        .where(
            ~exists().where(log.c.event_seq == events.c.seq),
            ~exists().where(queue.c.event_seq == events.c.seq),
        )
        .order_by(events.c.seq)
        .limit(1)
    ).scalar()
    queued = int(conn.execute(select(func.count()).select_from(queue)).scalar_one())
    return (None if stray is None else int(stray)), queued


def stored_roots(conn: Connection) -> dict[int, bytes]:
    table = AuditCheckpoint.__table__  # type: ignore[attr-defined]
    return {int(size): bytes(root) for size, root in conn.execute(select(table.c.size, table.c.root_hash))}


def verify_database(
    engine: Engine, *, against: Checkpoint | None = None, batch: int = 5000, stored: bool = True
) -> LogReport:
    """Walk the log; compare it with the installation's own checkpoints (``stored``) and
    with ``against`` (a checkpoint kept elsewhere, its signature already checked)."""
    with engine.connect() as conn:
        if conn.dialect.name not in _AT_TEXT:
            raise ValueError(f"audit verify reads SQLite and PostgreSQL, not {conn.dialect.name}")
        roots = stored_roots(conn) if stored else {}
        latest = max(roots, default=0)
        if against is not None:
            if against.size in roots and roots[against.size] != against.root:
                return LogReport(
                    0,
                    merkle.EMPTY_ROOT,
                    f"the installation's checkpoint of size {against.size} "
                    "is not the one given: the log was recomputed since",
                )
            roots[against.size] = against.root
        rows = _driver_rows(conn, _log_select(conn.dialect.name), batch)
        try:
            size, root, matched = _walk(rows, _reading(conn), roots)
        except _Broken as broken:
            return LogReport(broken.checked, merkle.EMPTY_ROOT, broken.problem, broken.seq)
        finally:
            # A broken log stops the walk early: release the cursor.
            rows.close()
        checked = size
        stray, queued = _unlogged(conn)
    if against is not None and against.size > size:
        return LogReport(
            checked,
            root,
            f"the log holds {size} entries but the checkpoint kept elsewhere "
            f"has {against.size}: its tail was cut off",
            pending=queued,
        )
    if latest > size:
        return LogReport(
            checked,
            root,
            f"the log holds {size} entries but the installation signed a "
            f"checkpoint of size {latest}: its tail was cut off",
            pending=queued,
        )
    if stray is not None:
        return LogReport(
            checked,
            root,
            f"entry {stray} is in neither the log nor its queue: it was "
            "inserted behind the sequencer, or taken off the queue",
            stray,
            queued,
        )
    return LogReport(checked, root, pending=queued, checkpoints_matched=matched)


def latest_cosigned(conn: Connection) -> tuple[str, dict[str, str]] | None:
    """The latest checkpoint a registered witness cosigned, as a note with its
    cosignatures, and the registered witnesses' keys; None when none was."""
    checkpoints = AuditCheckpoint.__table__  # type: ignore[attr-defined]
    cosigned = AuditCosignature.__table__  # type: ignore[attr-defined]
    witnesses = AuditWitness.__table__  # type: ignore[attr-defined]
    row = conn.execute(
        select(checkpoints.c.size, checkpoints.c.note)
        .where(checkpoints.c.size.in_(select(cosigned.c.size)))
        .order_by(checkpoints.c.size.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    lines = conn.execute(select(cosigned.c.signature_line).where(cosigned.c.size == row[0])).scalars().all()
    keys = {str(row[0]): str(row[1]) for row in conn.execute(select(witnesses.c.name, witnesses.c.vkey))}
    return row[1] + "".join(lines), keys

"""Walks the audit chain and names the first entry that does not hold.

A changed entry no longer matches its own hash; a deleted, inserted or reordered
entry breaks the link from the entry after it to the one before. The chain is
read in ``seq`` order as a stream, so memory does not grow with the log.
"""

import functools
import uuid
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, Row, Select, Text, Uuid, cast, literal_column, select

from ocpo_coord.audit.canonical import GENESIS_HASH, chain_hash, read_json
from ocpo_coord.audit.service import HASHED_COLUMNS, hashed_fields
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


def _moved(checked: int, previous: str, seq: int) -> ChainReport:
    return ChainReport(
        checked,
        previous,
        seq,
        f"entry {seq} does not follow the entry before it: "
        "an entry was deleted, inserted or moved just before it",
    )


def _changed(checked: int, previous: str, seq: int) -> ChainReport:
    return ChainReport(checked, previous, seq, f"entry {seq} was changed after it was written")


def verify_entries(entries: Iterable[AuditEvent] | Iterable[Row[Any]]) -> ChainReport:
    """Entries as table models or as rows with the table's column names."""
    return _walk((e.seq, e.prev_hash, e.hash, hashed_fields(e), False) for e in entries)


# seq, prev_hash, hash, the fields the hash covers, whether they are known plain
# (``checked`` for ``chain_hash``).
_Link = tuple[Any, str, str, dict[str, Any], bool]


def _walk(links: Iterable[_Link]) -> ChainReport:
    previous = GENESIS_HASH
    checked = 0
    for seq, prev_hash, digest, fields, plain in links:
        checked += 1
        if prev_hash != previous:
            return _moved(checked, previous, seq)
        if chain_hash(prev_hash, fields, checked=plain) != digest:
            return _changed(checked, previous, seq)
        previous = digest
    return ChainReport(checked, previous)


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


def _chain_select(dialect: str) -> Select[Any]:
    """seq, prev_hash, hash, the ``HASHED_COLUMNS`` in their order, ``record_ids``, then
    ``at`` as a timestamp where it is not given as text.

    JSON columns come as their stored text, parsed once here rather than by the
    driver's slower parser. ``at`` comes as its canonical text, made by the database,
    and so do UUIDs on PostgreSQL; SQLite's 32 hex digits are hyphenated by the walk
    (``_Reading``). Building objects would cost more than the hashing.
    """
    c = AuditEvent.__table__.c  # type: ignore[attr-defined]

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
    return select(c.seq, c.prev_hash, c.hash, *hashed, cast(c.record_ids, Text), early).order_by(c.seq)


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
_RECORD_IDS = 3 + len(HASHED_COLUMNS)


def _links(rows: Iterable[Any], reading: _Reading) -> Iterator[_Link]:
    """Rows of ``_chain_select`` as links, with the fields ``hashed_fields`` gives.

    The other columns are text, UUIDs and a timestamp, all plain: the fields are plain
    when the JSON columns are.
    """
    uuid_text, recurring_text = reading.uuid_text, reading.recurring_uuid_text
    for row in rows:
        values = list(row[3:_RECORD_IDS])
        if values[_AT] is None:
            values[_AT] = reading.early_at(row[_RECORD_IDS + 1])
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
        yield row[0], row[1], row[2], fields, plain and plain_names


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


def verify_database(engine: Engine, *, batch: int = 5000) -> ChainReport:
    with engine.connect() as conn:
        if conn.dialect.name not in _AT_TEXT:
            raise ValueError(f"audit verify reads SQLite and PostgreSQL, not {conn.dialect.name}")
        rows = _driver_rows(conn, _chain_select(conn.dialect.name), batch)
        try:
            return _walk(_links(rows, _reading(conn)))
        finally:
            # A broken chain stops the walk early: release the cursor.
            rows.close()

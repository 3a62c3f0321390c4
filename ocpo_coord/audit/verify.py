"""Walks the audit chain and names the first entry that does not hold.

A changed entry no longer matches its own hash; a deleted, inserted or reordered
entry breaks the link from the entry after it to the one before. The chain is
read in ``seq`` order as a stream, so memory does not grow with the log.
"""

from collections.abc import Generator, Iterable, Iterator
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


# ``at`` as ``canonical._utc_text`` writes it, made by PostgreSQL: formatting a datetime
# per entry in Python cost a quarter of the walk. ``to_char`` pads years below 1000 to
# four digits where strftime does not; the few such entries come as timestamps too.
_AT_TEXT = """CASE WHEN at >= '1000-01-01 00:00:00+00'
    THEN to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') END"""
_AT_EARLY = "CASE WHEN at < '1000-01-01 00:00:00+00' THEN at END"


def _chain_select(dialect: str) -> Select[Any]:
    """seq, prev_hash, hash, the ``HASHED_COLUMNS`` in their order, then ``record_ids``;
    on PostgreSQL, then ``at`` as a timestamp where it is not given as text.

    JSON columns come as their stored text, parsed once here rather than by the
    driver's slower parser. On PostgreSQL, UUIDs and ``at`` come as text too: their
    text is the canonical one, and building objects would cost more than the hashing.
    """
    c = AuditEvent.__table__.c  # type: ignore[attr-defined]
    postgres = dialect == "postgresql"

    def as_read(name: str) -> Any:
        column = c[name]
        if name == "at" and postgres:
            return literal_column(_AT_TEXT)
        if name in _JSON_COLUMNS or (postgres and isinstance(column.type, Uuid)):
            return cast(column, Text)
        return column

    hashed = [as_read(name) for name in HASHED_COLUMNS]
    early = [literal_column(_AT_EARLY, type_=c.at.type)] if postgres else []
    return select(c.seq, c.prev_hash, c.hash, *hashed, cast(c.record_ids, Text), *early).order_by(c.seq)


def _json(text: str | None) -> tuple[Any, bool]:
    return (None, True) if text is None else read_json(text)


_JSON_AT = tuple(i for i, name in enumerate(HASHED_COLUMNS) if name in _JSON_COLUMNS)
_AT = HASHED_COLUMNS.index("at")
_RECORD_IDS = 3 + len(HASHED_COLUMNS)


def _links(rows: Iterable[Any]) -> Iterator[_Link]:
    """Rows of ``_chain_select`` as links, with the fields ``hashed_fields`` gives.

    The other columns are text, UUIDs and a timestamp, all plain: the fields are plain
    when the JSON columns are.
    """
    for row in rows:
        values = list(row[3:_RECORD_IDS])
        if values[_AT] is None:
            values[_AT] = row[_RECORD_IDS + 1]
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


def _postgres_rows(
    conn: Connection, statement: Select[Any], batch: int
) -> Generator[tuple[Any, ...], None, None]:
    """The driver's own server-side cursor, one round trip per ``batch`` rows: the
    rows go to the walk as the driver's tuples, with no result processing.

    The next batch is fetched by a thread while the walk hashes this one. The driver
    waits for the server without holding the GIL, so the database producing rows and
    the walk hashing them overlap instead of taking turns. Only one thread uses the
    cursor at a time: the walk touches only rows already fetched.
    """
    sql = str(statement.compile(dialect=conn.dialect))
    driver = conn.connection.driver_connection
    assert driver is not None
    # The executor is left (waiting for any fetch under way) before the cursor closes.
    with driver.cursor(name="audit_verify") as cursor, ThreadPoolExecutor(max_workers=1) as ahead:
        cursor.execute(sql)
        pending = ahead.submit(cursor.fetchmany, batch)
        while rows := pending.result():
            pending = ahead.submit(cursor.fetchmany, batch)
            yield from rows


def _verify_postgres(conn: Connection, batch: int) -> ChainReport:
    rows = _postgres_rows(conn, _chain_select("postgresql"), batch)
    try:
        return _walk(_links(rows))
    finally:
        # A broken chain stops the walk early: release the server-side cursor.
        rows.close()


def _verify_other(conn: Connection, batch: int) -> ChainReport:
    rows = conn.execution_options(yield_per=batch).execute(_chain_select(conn.dialect.name))
    try:
        return _walk(_links(rows))
    finally:
        rows.close()


def verify_database(engine: Engine, *, batch: int = 5000) -> ChainReport:
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            return _verify_postgres(conn, batch)
        return _verify_other(conn, batch)

"""Writes: the write floor, and the same create through REST and GraphQL.

One "intelligence create" is what the bench's writers send: an intelligence item, then
an entity with a phone and a name selector linked to it (two requests, two
transactions). The floor is the rows those two requests wrote — the records, their
releases, the item and the entity, the selectors and the link, the visibility index
rows, the deconfliction hits and notifications the selectors raised, and every audit
entry — read back from the database after a real create and inserted again through the
bare driver: one multi-row insert per table, prepared on PostgreSQL, then a durable
commit, in the same two transactions. Nothing is derived by hand, so when a create
starts writing another row, the floor writes it too.

Each replay gets fresh ids (the foreign keys between its rows follow) and a fresh leaf
hash for each audit entry (``hash`` is unique): the rows are otherwise the service's.
"""

import functools
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
from sqlalchemy import Engine, Table, or_, select
from sqlalchemy.sql.elements import ColumnElement

from ocpo_coord.audit.canonical import canonical_bytes
from ocpo_coord.audit.merkle import leaf_hash
from ocpo_coord.audit.service import hashed_fields
from ocpo_coord.bench.measure import Timing
from ocpo_coord.models import (
    AuditEvent,
    DeconflictionHit,
    Entity,
    IntelItem,
    Notification,
    Record,
    RecordEntity,
    RecordReach,
    RecordRelease,
    Selector,
)

# Insert order: every foreign key points at a row already written.
TABLES: tuple[Table, ...] = tuple(
    model.__table__  # type: ignore[union-attr]
    for model in (
        Record,
        RecordRelease,
        IntelItem,
        Entity,
        Selector,
        RecordEntity,
        RecordReach,
        DeconflictionHit,
        Notification,
        AuditEvent,
    )
)
# Given by the database on insert.
SERVER_COLUMNS = {"audit_event": ("seq",)}

ITEM_MUTATION = """
mutation Item($input: CreateIntelItemInput!) {
  createIntelItem(input: $input) {
    __typename
    ... on IntelItemPayload { intelItem { id } }
    ... on UserError { message field }
  }
}
"""
ENTITY_MUTATION = """
mutation Entity($input: CreateEntityInput!) {
  createEntity(input: $input) {
    __typename
    ... on EntityPayload { entity { id } }
    ... on UserError { message field }
  }
}
"""


Rows = dict[str, list[dict[str, Any]]]


@dataclass(frozen=True)
class Written:
    """The rows one request wrote, table by table (``TABLES`` order)."""

    rows: Rows

    @property
    def count(self) -> int:
        return sum(len(rows) for rows in self.rows.values())


class Writer:
    """An intelligence create (item, then entity with selectors) over REST or GraphQL."""

    def __init__(self, base: str, token: str, theatre: str, phones: list[tuple[str, str]]) -> None:
        self.http = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60)
        self.theatre = theatre
        self.phones = phones
        self.n = 0

    def close(self) -> None:
        self.http.close()

    def _next(self) -> tuple[int, str, str]:
        self.n += 1
        kind, value = self.phones[self.n % len(self.phones)]
        return self.n, kind, value

    def rest(self, request_ids: tuple[str, str] | None = None) -> tuple[str, str]:
        n, kind, value = self._next()
        ids = request_ids or (f"bench-w-{uuid.uuid4().hex}", f"bench-w-{uuid.uuid4().hex}")
        item = self.http.post(
            "/api/v1/intel-items",
            headers={"X-Request-ID": ids[0]},
            json={
                "title": f"Benchmark report {n}",
                "content": "A new report with a subject and a phone number.",
                "information_date": date.today().isoformat(),
                "source_reliability": "B",
                "information_credibility": "2",
                "theatre": self.theatre,
            },
        )
        item.raise_for_status()
        entity = self.http.post(
            "/api/v1/entities",
            headers={"X-Request-ID": ids[1]},
            json={
                "entity_kind": "person",
                "label": f"Subject {n}",
                "theatre": self.theatre,
                "selectors": [{"kind": kind, "value": value}, {"kind": "name", "value": f"subject {n}"}],
                "links": [{"record_id": item.json()["id"]}],
            },
        )
        entity.raise_for_status()
        return str(item.json()["id"]), str(entity.json()["id"])

    def _mutate(self, query: str, field: str, key: str, data: dict[str, Any]) -> str:
        response = self.http.post("/graphql", json={"query": query, "variables": {"input": data}})
        response.raise_for_status()
        body = response.json()
        result = (body.get("data") or {}).get(field) or {}
        if body.get("errors") or key not in result:
            raise RuntimeError(f"GraphQL {field} failed: {body}")
        return str(result[key]["id"])

    def graphql(self) -> tuple[str, str]:
        n, kind, value = self._next()
        item = self._mutate(
            ITEM_MUTATION,
            "createIntelItem",
            "intelItem",
            {
                "title": f"Benchmark report {n}",
                "content": "A new report with a subject and a phone number.",
                "informationDate": date.today().isoformat(),
                "sourceReliability": "B",
                "informationCredibility": "PROBABLY_TRUE",
                "theatre": self.theatre,
            },
        )
        entity = self._mutate(
            ENTITY_MUTATION,
            "createEntity",
            "entity",
            {
                "entityKind": "PERSON",
                "label": f"Subject {n}",
                "theatre": self.theatre,
                "selectors": [
                    {"kind": kind.upper(), "value": value},
                    {"kind": "NAME", "value": f"subject {n}"},
                ],
                "links": [{"recordId": item}],
            },
        )
        return item, entity


def _where(table: Table, record_id: uuid.UUID, request_id: str, hits: list[uuid.UUID]) -> ColumnElement[bool]:
    c = table.c
    match table.name:
        case "record" | "intel_item" | "entity":
            return c.id == record_id
        case "record_release" | "record_reach":
            return c.record_id == record_id
        case "selector" | "record_entity":
            return c.entity_id == record_id
        case "deconfliction_hit":
            return or_(c.record_id == record_id, c.other_record_id == record_id)
        case "notification":
            return c.subject_id.in_(hits) if hits else c.id.is_(None)
        case "audit_event":
            return c.request_id == request_id
    raise ValueError(table.name)


def capture(engine: Engine, record_id: uuid.UUID, request_id: str) -> Written:
    """The rows the request ``request_id`` wrote for its new record ``record_id``."""
    rows: Rows = {}
    with engine.connect() as conn:
        for table in TABLES:
            hits = [h["id"] for h in rows.get("deconfliction_hit", [])]
            skip = SERVER_COLUMNS.get(table.name, ())
            columns = [column for column in table.c if column.name not in skip]
            found = conn.execute(select(*columns).where(_where(table, record_id, request_id, hits)))
            rows[table.name] = [dict(row._mapping) for row in found]
    return Written(rows)


def _renamed(parts: tuple[Written, ...]) -> list[Rows]:
    """The same rows under fresh ids, the references between them (across the parts
    too: the entity's link names the item) kept."""
    fresh: dict[uuid.UUID, uuid.UUID] = {}
    for part in parts:
        for rows in part.rows.values():
            for row in rows:
                for name in ("id", "pair_id"):
                    if isinstance(row.get(name), uuid.UUID):
                        fresh.setdefault(row[name], uuid.uuid4())
    out: list[Rows] = []
    for part in parts:
        renamed = {
            table: [
                {k: fresh.get(v, v) if isinstance(v, uuid.UUID) else v for k, v in row.items()}
                for row in rows
            ]
            for table, rows in part.rows.items()
        }
        for event in renamed.get("audit_event", []):
            event["hash"] = leaf_hash(canonical_bytes(hashed_fields(event))).hex()
        out.append(renamed)
    return out


class Replay:
    """Rows inserted through the bare driver connection, one statement per table."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect
        self.raw = engine.raw_connection()
        self.prepared = self.dialect.name == "postgresql"
        self.marker = "%s" if self.prepared else "?"

    @functools.cache  # noqa: B019 - one Replay per run, a handful of shapes
    def _processors(self, table: str) -> dict[str, Callable[[Any], Any] | None]:
        found = next(t for t in TABLES if t.name == table)
        return {
            column.name: column.type.dialect_impl(self.dialect).bind_processor(self.dialect)
            for column in found.c
        }

    def statements(self, rows: Rows) -> list[tuple[str, list[Any]]]:
        """Each table's rows as one multi-row insert and its driver-ready values."""
        quote = self.dialect.identifier_preparer.quote
        out = []
        for table, table_rows in rows.items():
            if not table_rows:
                continue
            names = list(table_rows[0])
            processors = self._processors(table)
            values: list[Any] = []
            for row in table_rows:
                for name in names:
                    process = processors[name]
                    values.append(process(row[name]) if process else row[name])
            one = "(" + ", ".join([self.marker] * len(names)) + ")"
            sql = (
                f"INSERT INTO {quote(table)} ({', '.join(quote(n) for n in names)}) "
                f"VALUES {', '.join([one] * len(table_rows))}"
            )
            out.append((sql, values))
        return out

    def write(self, statements: list[tuple[str, list[Any]]]) -> None:
        cursor: Any = self.raw.cursor()
        try:
            for sql, values in statements:
                if self.prepared:
                    cursor.execute(sql, values, prepare=True)
                else:
                    cursor.execute(sql, values)
        finally:
            cursor.close()
        self.raw.commit()

    def write_all(self, parts: list[list[tuple[str, list[Any]]]]) -> None:
        """The parts in turn, each its own transaction, as the requests were."""
        for part in parts:
            self.write(part)

    def close(self) -> None:
        self.raw.close()


def _timed(calls: Iterator[Callable[[], Any]], warm: int, repeat: int) -> list[float]:
    for _ in range(warm):
        next(calls)()
    samples = []
    for _ in range(repeat):
        call = next(calls)
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return samples


def write_timings(
    engine: Engine,
    base: str,
    token: str,
    *,
    theatre: str,
    phones: list[tuple[str, str]],
    repeat: int,
    warm: int = 5,
) -> dict[str, Any]:
    """An intelligence create's p50 through REST and GraphQL, and its write floor,
    timed one series right after the other."""
    writer = Writer(base, token, theatre, phones)
    replay = Replay(engine)
    try:
        request_ids = (f"bench-floor-{uuid.uuid4().hex}", f"bench-floor-{uuid.uuid4().hex}")
        item_id, entity_id = writer.rest(request_ids)
        written = (
            capture(engine, uuid.UUID(item_id), request_ids[0]),
            capture(engine, uuid.UUID(entity_id), request_ids[1]),
        )
        # Built before timing: the floor is the database's and the driver's work.
        replays = [[replay.statements(rows) for rows in _renamed(written)] for _ in range(warm + repeat)]

        def floor_calls() -> Iterator[Callable[[], Any]]:
            for parts in replays:
                yield functools.partial(replay.write_all, parts)

        def service(call: Callable[[], Any]) -> Iterator[Callable[[], Any]]:
            while True:
                yield call

        samples = {
            "floor": _timed(floor_calls(), warm, repeat),
            "rest": _timed(service(writer.rest), warm, repeat),
            "graphql": _timed(service(writer.graphql), warm, repeat),
        }
    finally:
        replay.close()
        writer.close()
    out: dict[str, Any] = {
        "rows": {table: sum(len(part.rows[table]) for part in written) for table in written[0].rows},
        "rows_total": sum(part.count for part in written),
        "repeat": repeat,
    }
    for name, taken in samples.items():
        timing = Timing.of(taken)
        out[name] = {"p50_ms": timing.p50_ms, "p95_ms": timing.p95_ms}
    floor = out["floor"]["p50_ms"]
    out["rest_vs_floor"] = out["rest"]["p50_ms"] / floor
    out["graphql_vs_floor"] = out["graphql"]["p50_ms"] / floor
    return out

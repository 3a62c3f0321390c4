"""The rule-keeping floor: what a page must send to the database to keep the rules,
sent through the bare driver.

A page that keeps the rules runs the caller's statement (the principal, the agreements
in force, the directory's codes), the readable page with its bounded count and its
columns (linked cases, releases), inserts the read's audit entry, and commits durably.
Those statements are not written out here: they are captured as the service emits them
for one page (a ``before_cursor_execute`` hook on an engine made as the service makes
its own, running the functions the REST route runs), then replayed on a bare DB-API
connection opened with the service's connection settings, prepared on PostgreSQL as
the service's driver prepares a statement that repeats, and committed. So when a page
or the audit append changes, the floor follows.

Each replay inserts a fresh audit entry: a new id and the leaf hash that goes with it
(both unique); everything else is the service's own parameters.
"""

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import psycopg
from sqlalchemy import event

from ocpo_coord.api.caller import load_caller
from ocpo_coord.audit.canonical import canonical_bytes
from ocpo_coord.audit.merkle import leaf_hash
from ocpo_coord.audit.reads import flush_reads
from ocpo_coord.audit.service import hashed_fields
from ocpo_coord.config import get_settings
from ocpo_coord.context import Actor
from ocpo_coord.db import bounds as db_bounds
from ocpo_coord.db.engine import make_async_engine, make_sync_engine, sessionmaker_for
from ocpo_coord.intel import service as intel
from ocpo_coord.intel.schemas import IntelItemFilter
from ocpo_coord.models import AuditEvent
from ocpo_coord.models.base import utcnow

AUDIT_TABLE = AuditEvent.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Statement:
    """One statement as the service handed it to its driver: text and driver-ready
    parameters (a mapping or a sequence, as the dialect's parameter style wants)."""

    sql: str
    params: Any


@dataclass(frozen=True)
class Captured:
    """The statements one page request ran, in order, and the audit entries it wrote."""

    statements: list[Statement]
    audit: list[AuditEvent]
    rows: int  # the items the page answered
    caller: int = 0  # how many of the statements, first, are the caller's

    @property
    def caller_statements(self) -> list[Statement]:
        """The caller's statements alone: with the commit, what every request pays
        before its own work (the part the framework floor shares with this one)."""
        return self.statements[: self.caller]


@dataclass
class _Recorder:
    statements: list[Statement] = field(default_factory=list)

    def __call__(
        self, _conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, executemany: bool
    ) -> None:
        if executemany:
            # A page writes one audit entry per kind read: one row, one statement.
            raise ValueError(f"a page ran a statement for many parameter sets: {statement[:80]}")
        copied = dict(parameters) if isinstance(parameters, dict) else tuple(parameters or ())
        self.statements.append(Statement(statement, copied))


async def capture_page(database_url: str, login: str, after: str | None, *, page: int = 50) -> Captured:
    """Run one intelligence list page for ``login`` as the REST route runs it (the
    caller, the service's list, the read's audit entry, the commit), recording the
    statements the service's engine sent."""
    engine = make_async_engine(database_url)
    recorder = _Recorder()
    event.listen(engine.sync_engine, "before_cursor_execute", recorder)
    try:
        async with sessionmaker_for(engine)() as session:
            audit: list[AuditEvent] = []

            @event.listens_for(session.sync_session, "pending_to_persistent")
            def written(_session: Any, instance: object) -> None:
                if isinstance(instance, AuditEvent):
                    audit.append(instance)

            now = utcnow()  # the request's one instant, as the route's dependency fixes it
            principal = await load_caller(session, login, now)
            caller = len(recorder.statements)
            actor = Actor(principal=principal, request_id=f"bench-rule-floor-{uuid.uuid4().hex}", now=now)
            answered = await intel.list_intel_items(
                session, actor=actor, filters=IntelItemFilter(), first=page, after=after
            )
            await flush_reads(session)
            await session.commit()
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", recorder)
        await engine.dispose()
    return Captured(recorder.statements, audit, len(answered.items), caller)


class RuleFloor:
    """Captured pages replayed on one bare driver connection, each ending in a commit."""

    def __init__(self, database_url: str) -> None:
        self.sync = make_sync_engine(database_url)
        self.dialect = self.sync.dialect
        self.prepared = self.dialect.name == "postgresql"
        self.raw: Any
        if self.prepared:
            settings = get_settings()
            conninfo, options = db_bounds.connection_settings(
                database_url,
                connect_timeout=settings.db_connect_timeout_seconds,
                statement_timeout=settings.db_statement_timeout_seconds,
            )
            self.raw = psycopg.connect(conninfo, **options)
        else:
            # The sync engine opens SQLite with the service's pragmas (``db/engine.py``).
            self.raw = self.sync.raw_connection()
        self.executed: list[str] = []  # every statement text sent, for tests to compare

    def _driver_value(self, column: str, value: Any) -> Any:
        process = AUDIT_TABLE.c[column].type.dialect_impl(self.dialect).bind_processor(self.dialect)
        return process(value) if process else value

    def replays(self, captured: Captured, count: int) -> Iterator[list[Statement]]:
        """``count`` replays of ``captured``, each with fresh audit entries, all built
        before the first is taken: the floor is the database's and the driver's work."""
        built = []
        for _ in range(count):
            fresh: dict[Any, Any] = {}
            for entry in captured.audit:
                new_id = uuid.uuid4()
                fields = {**hashed_fields(entry), "id": new_id}
                fresh[self._driver_value("id", entry.id)] = self._driver_value("id", new_id)
                fresh[entry.hash] = leaf_hash(canonical_bytes(fields)).hex()
            built.append([Statement(s.sql, _substituted(s.params, fresh)) for s in captured.statements])
        return iter(built)

    def run(self, statements: list[Statement]) -> None:
        """The statements in order, every result read to its end, then the commit."""
        cursor: Any = self.raw.cursor()
        try:
            for statement in statements:
                self.executed.append(statement.sql)
                if self.prepared:
                    cursor.execute(statement.sql, statement.params, prepare=True)
                else:
                    cursor.execute(statement.sql, statement.params)
                if cursor.description is not None:
                    cursor.fetchall()
        finally:
            cursor.close()
        self.raw.commit()

    def run_next(self, replays: Iterator[list[Statement]]) -> None:
        self.run(next(replays))

    def close(self) -> None:
        self.raw.close()
        self.sync.dispose()


def _substituted(params: Any, fresh: dict[Any, Any]) -> Any:
    def swap(value: Any) -> Any:
        try:
            return fresh.get(value, value)
        except TypeError:  # unhashable (a JSON value): never an id or a hash
            return value

    if isinstance(params, dict):
        return {name: swap(value) for name, value in params.items()}
    return tuple(swap(value) for value in params)

"""Reads: the two floors, and the same page end to end over HTTP (REST and GraphQL).

The rows-only floor is the page the service serves — the intelligence list with the
one read rule compiled from ``readable()`` — sent as one SQL string through the bare
driver cursor, so it costs what the database and the driver cost and nothing else.
The rule-keeping floor (``rule_floor``) adds what the rules make a page do besides:
the caller's statement, the count and columns, the read's audit entry and the commit.
"""

import asyncio
import functools
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, Select
from sqlmodel import col, select

from ocpo_coord.auth.principal import Principal, load_principal
from ocpo_coord.bench import framework_floor
from ocpo_coord.bench.rule_floor import RuleFloor, capture_page
from ocpo_coord.db.engine import make_async_engine, sessionmaker_for
from ocpo_coord.models import IntelItem, Record
from ocpo_coord.models.enums import RecordKind
from ocpo_coord.visibility.pages import index_page_statement
from ocpo_coord.visibility.pagination import Cursor
from ocpo_coord.visibility.readable import readable
from ocpo_coord.visibility.scopes import Held, reader_scopes

PAGE = 50
GRAPHQL_PAGE = """
query Page($after: String) {
  intelItems(first: 50, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node {
      id title grading informationDate caseIds
      markings { originatorAgency ownerAgency classification tlp releasableTo orcon nohost }
    } }
  }
}
"""


@dataclass(frozen=True)
class Timing:
    p50_ms: float
    p95_ms: float

    @classmethod
    def of(cls, samples: list[float]) -> "Timing":
        ordered = sorted(samples)
        p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
        return cls(statistics.median(ordered) * 1000, p95 * 1000)


# Runs before timing a page: its statements' plans settle only on the twelfth run on a
# connection. psycopg prepares a statement on its sixth run, and PostgreSQL plans a
# prepared statement afresh for each of its first five runs before it settles on the
# generic plan; those runs pay for planning, and with ten repeats they made the p50 of
# the service's first pages and of a floor page. A running service has long
# passed them for every statement it keeps (``visibility/pages.py``).
WARM_RUNS = 12


def _timed(call: Callable[[], Any], repeat: int) -> list[float]:
    for _ in range(WARM_RUNS):
        call()  # warm: plans, caches, connections
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return samples


@dataclass(frozen=True)
class Reader:
    principal: Principal
    held: Held


async def load_principals(database_url: str, logins: dict[str, str], now: datetime) -> dict[str, Reader]:
    engine = make_async_engine(database_url)
    try:
        async with sessionmaker_for(engine)() as session:
            readers = {}
            for label, login in logins.items():
                principal = await load_principal(session, login)
                readers[label] = Reader(principal, await reader_scopes(session, principal, now))
            return readers
    finally:
        await engine.dispose()


def page_statement(reader: Reader, now: datetime, after: Cursor | None) -> Select[Any]:
    """The intelligence list the service runs, one row more than the page (has-next)."""
    statement = (
        select(IntelItem, Record)
        .join(Record, col(Record.id) == col(IntelItem.id))
        .where(col(Record.kind) == RecordKind.INTEL_ITEM.value)
        .where(readable(reader.principal, now=now))
    )
    return index_page_statement(
        statement, reader.held, RecordKind.INTEL_ITEM, reader.principal, after=after, limit=PAGE + 1
    )


class Floor:
    """The page as one SQL string on the raw driver connection.

    On PostgreSQL it is sent with bound parameters as a prepared statement, as the
    service's driver does once a statement repeats (psycopg prepares it after five
    runs): planning a page's union of index walks costs more than running it, and a
    literal string would be planned afresh every time. SQLite gets the literal string.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.raw = engine.raw_connection()
        self.prepared = engine.dialect.name == "postgresql"

    def sql(self, statement: Select[Any]) -> tuple[str, dict[str, Any]]:
        if not self.prepared:
            compiled = statement.compile(dialect=self.engine.dialect, compile_kwargs={"literal_binds": True})
            return str(compiled), {}
        expanded = statement.compile(dialect=self.engine.dialect).construct_expanded_state()
        return expanded.statement, dict(expanded.parameters)

    def fetch(self, query: tuple[str, dict[str, Any]]) -> list[Any]:
        sql, params = query
        cursor: Any = self.raw.cursor()
        try:
            if self.prepared:
                cursor.execute(sql, params, prepare=True)
            else:
                cursor.execute(sql)
            return list(cursor.fetchall())
        finally:
            cursor.close()

    def close(self) -> None:
        self.raw.close()


def deep_cursor(engine: Engine, reader: Reader, now: datetime, pages: int) -> tuple[Cursor | None, int]:
    """The cursor ``pages`` pages down (or the last full page's), and how deep that is."""
    after: Cursor | None = None
    depth = 0
    with engine.connect() as conn:
        for _ in range(pages):
            rows = conn.execute(page_statement(reader, now, after)).all()
            if len(rows) <= PAGE:
                break
            last = rows[PAGE - 1]
            after = Cursor(last.created_at, last.id)
            depth += 1
    return after, depth


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_service(env: dict[str, str], port: int, workers: int = 1) -> Any:
    """The real application under uvicorn on a loopback port, in its own process, or in
    ``workers`` processes that share the database and nothing else; with the framework
    floor's route besides (``framework_floor``)."""
    command = [
        sys.executable, "-m", "uvicorn", "ocpo_coord.bench.framework_floor:create_app", "--factory",
        "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-access-log",
        "--workers", str(workers),
    ]  # fmt: skip
    process = subprocess.Popen(command, env={**os.environ, **env})
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code < 500:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the service did not start")
            time.sleep(0.2)
        yield process
    finally:
        process.terminate()
        process.wait(timeout=30)


def _process_tree(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children")
    found = [pid]
    if children.exists():
        for child in children.read_text().split():
            found += _process_tree(int(child))
    return found


def peak_rss_mb(pid: int) -> float:
    """High-water resident set size of a process and its workers (Linux), in MiB."""
    total = 0.0
    for member in _process_tree(pid):
        status = Path(f"/proc/{member}/status")
        if not status.exists():
            continue
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                total += int(line.split()[1]) / 1024
    return total


class Client:
    """REST and GraphQL pages for one reader, following cursors."""

    def __init__(self, base: str, token: str) -> None:
        self.http = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60)

    def rest(self, after: str | None) -> tuple[int, str | None]:
        return self._page("/api/v1/intel-items", after)

    def framework(self, after: str | None) -> tuple[int, str | None]:
        """The framework floor's answer for the same page, read as a page is read."""
        return self._page(framework_floor.PATH, after)

    def _page(self, path: str, after: str | None) -> tuple[int, str | None]:
        params: dict[str, Any] = {"limit": PAGE}
        if after:
            params["after"] = after
        response = self.http.get(path, params=params)
        response.raise_for_status()
        body = response.json()
        return len(body["items"]), body["next_cursor"]

    def graphql(self, after: str | None) -> tuple[int, str | None]:
        response = self.http.post("/graphql", json={"query": GRAPHQL_PAGE, "variables": {"after": after}})
        response.raise_for_status()
        body = response.json()
        if body.get("errors"):
            raise RuntimeError(f"GraphQL errors: {body['errors']}")
        page = body["data"]["intelItems"]
        cursor = page["pageInfo"]["endCursor"] if page["pageInfo"]["hasNextPage"] else None
        return len(page["edges"]), cursor

    def deep(self, fetch: Callable[[str | None], tuple[int, str | None]], pages: int) -> str | None:
        after: str | None = None
        for _ in range(pages):
            _, following = fetch(after)
            if following is None:
                break
            after = following
        return after

    def close(self) -> None:
        self.http.close()


def page_timings(
    engine: Engine,
    readers: dict[str, Reader],
    base: str,
    tokens: dict[str, str],
    *,
    database_url: str,
    logins: dict[str, str],
    now: datetime,
    depth: int,
    repeat: int,
) -> dict[str, dict[str, dict[str, Any]]]:
    """The four floors, REST and GraphQL for each reader's first page and a deep one, each
    page's six timed one right after the other, within a second or two: a floor timed
    minutes before the service's pages lets a slow spell of the machine in between move
    every ratio. Each is timed as a series, after its own warm-up: taking turns run by
    run instead raises the floor (each run then starts after the others' work has left
    its server process idle and its caches cold), which is not the floor the targets
    mean. The rule-keeping floor replays the statements of the REST page it stands
    beside (the same reader, the same cursor); the caller floor replays that page's
    caller statements alone, and the framework floor answers that page again from
    memory (``framework_floor``): together they bound what the REST page can reach."""
    out: dict[str, dict[str, dict[str, Any]]] = {
        name: {} for name in ("floor", "rule_floor", "caller_floor", "framework", "rest", "graphql")
    }
    floor = Floor(engine)
    rule_floor = RuleFloor(database_url)
    try:
        for label, reader in readers.items():
            client = Client(base, tokens[label])
            try:
                floor_deep, reached = deep_cursor(engine, reader, now, depth)
                deep = {
                    "rest": client.deep(client.rest, depth),
                    "graphql": client.deep(client.graphql, depth),
                }
                for page in ("first", "deep"):
                    sql = floor.sql(page_statement(reader, now, floor_deep if page == "deep" else None))
                    captured = asyncio.run(
                        capture_page(database_url, logins[label], deep["rest"] if page == "deep" else None)
                    )
                    # One replay for each run (and the rows check): each inserts an
                    # audit entry of its own.
                    replays = rule_floor.replays(captured, WARM_RUNS + repeat + 1)
                    after = deep["rest"] if page == "deep" else None
                    fetches: dict[str, Callable[[], Any]] = {
                        "floor": functools.partial(floor.fetch, sql),
                        "rule_floor": functools.partial(rule_floor.run_next, replays),
                        # The caller writes nothing: the same statements serve every run.
                        "caller_floor": functools.partial(rule_floor.run, captured.caller_statements),
                        "framework": functools.partial(client.framework, after),
                        "rest": functools.partial(client.rest, after),
                        "graphql": functools.partial(
                            client.graphql, deep["graphql"] if page == "deep" else None
                        ),
                    }
                    fetches["rule_floor"]()
                    rows = {
                        "floor": len(floor.fetch(sql)),
                        "rule_floor": captured.rows,
                        "caller_floor": 0,
                    } | {name: fetches[name]()[0] for name in ("framework", "rest", "graphql")}
                    for name, fetch in fetches.items():
                        timing = Timing.of(_timed(fetch, repeat))
                        out[name][f"{label}/{page}"] = {
                            "p50_ms": timing.p50_ms,
                            "p95_ms": timing.p95_ms,
                            "rows": rows[name],
                        }
                    out["rule_floor"][f"{label}/{page}"]["statements"] = len(captured.statements)
                    out["caller_floor"][f"{label}/{page}"]["statements"] = captured.caller
                out["floor"][f"{label}/deep"]["pages_down"] = reached
            finally:
                client.close()
    finally:
        rule_floor.close()
        floor.close()
    return out


async def _throughput(base: str, token: str, transport: str, clients: int, seconds: float) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"}
    done = 0
    failed = 0
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as http:
        deadline = time.perf_counter() + seconds

        async def worker() -> None:
            nonlocal done, failed
            while time.perf_counter() < deadline:
                if transport == "rest":
                    response = await http.get("/api/v1/intel-items", params={"limit": PAGE})
                else:
                    response = await http.post("/graphql", json={"query": GRAPHQL_PAGE, "variables": {}})
                if response.status_code == 200:
                    done += 1
                else:
                    failed += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        elapsed = time.perf_counter() - started
    return {
        "clients": clients,
        "seconds": elapsed,
        "requests": done,
        "failed": failed,
        "per_second": done / elapsed,
    }


def throughput(base: str, token: str, *, clients: int, seconds: float) -> dict[str, dict[str, Any]]:
    return {
        transport: asyncio.run(_throughput(base, token, transport, clients, seconds))
        for transport in ("rest", "graphql")
    }

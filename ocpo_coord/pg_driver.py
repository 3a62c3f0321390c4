"""How the service talks to PostgreSQL through psycopg: two per-request costs removed.

**Statements are converted once.** psycopg turns a statement's ``%(name)s`` placeholders
into ``$n`` on every execution, and remembers the conversion only for statements under
4 KB with at most 50 parameters. Every statement that carries the sharing rule is
longer: a list page is about 20 KB with about 70 parameters, so each page paid for
parsing it again (about 0.6 ms, the largest single item of a REST page's profile). The
statements the service runs are few and kept (``sharing.visibility.readable_template``),
so their conversions are kept too, in a bounded cache. Bulk inserts, whose text changes
with their row count, are longer than the cache's bound and are converted as before.

This leans on psycopg's query class (``psycopg._queries``), which is not public API:
``tests/test_pg_driver.py`` fails if a new psycopg stops calling it or changes its shape.

**A pooled connection is pinged only after it has been idle.** A ping on every checkout
(SQLAlchemy's ``pool_pre_ping``) is one more round trip per request (about 0.3 ms). A
connection used a moment ago is alive, so the ping is sent only to a connection idle for
``PING_AFTER_IDLE_SECONDS``: a database restart takes longer than that, so a connection
that was pooled across one is found dead and replaced before a request gets it. A
connection that breaks while it is busy fails its request whatever is done here, and
SQLAlchemy then replaces every connection of the pool.
"""

import functools
import time
from typing import Any

from psycopg import AsyncCursor
from psycopg._queries import PostgresQuery, _query2pg_nocache
from sqlalchemy import Engine, event
from sqlalchemy.exc import DisconnectionError

# Long enough for the longest page statement with its count (about 20 KB), far
# shorter than a bulk insert of a few hundred rows.
MAX_KEPT_STATEMENT_BYTES = 64 * 1024
MAX_KEPT_STATEMENT_PARAMS = 256
PING_AFTER_IDLE_SECONDS = 1.0

_converted = functools.lru_cache(maxsize=256)(_query2pg_nocache)


class KeptConversionQuery(PostgresQuery):
    def convert(self, query: Any, vars: Any) -> None:
        if vars is None or not isinstance(query, (str, bytes)):
            super().convert(query, vars)
            return
        encoded = self._ensure_bytes(query)
        if len(encoded) > MAX_KEPT_STATEMENT_BYTES or len(vars) > MAX_KEPT_STATEMENT_PARAMS:
            super().convert(query, vars)
            return
        self.query, self._want_formats, self._order, self._parts = _converted(encoded, self._tx.encoding)
        self.dump(vars)


class KeptConversionCursor(AsyncCursor[Any]):
    _query_cls = KeptConversionQuery


def conversions() -> Any:
    """The cache's statistics (hits, misses, size), for tests."""
    return _converted.cache_info()


def _mark_idle(_dbapi_connection: Any, record: Any, *_: Any) -> None:
    record.info["idle_since"] = time.monotonic()


def ping_when_idle(engine: Engine) -> None:
    """Ping a pooled connection before handing it out, when it has been idle a while."""

    def checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is not None and time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:
            # The pool discards this connection and checks out another (up to three tries).
            raise DisconnectionError(f"a pooled connection was found dead: {error}") from error

    event.listen(engine.pool, "connect", _mark_idle)
    event.listen(engine.pool, "checkin", _mark_idle)
    event.listen(engine.pool, "checkout", checkout)

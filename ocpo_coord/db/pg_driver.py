"""How the service's pooled PostgreSQL connections are checked: pinged only after idling.

A ping on every checkout (SQLAlchemy's ``pool_pre_ping``) is one more round trip per
request. A connection used a moment ago is alive, so the ping is sent only to a
connection idle for ``PING_AFTER_IDLE_SECONDS``: a database restart takes longer than
that, so a connection that was pooled across one is found dead and replaced before a
request gets it. A connection that breaks while it is busy fails its request whatever
is done here, and SQLAlchemy then replaces every connection of the pool.
"""

import time
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.exc import DisconnectionError

PING_AFTER_IDLE_SECONDS = 1.0


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

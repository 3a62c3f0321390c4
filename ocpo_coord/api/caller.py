"""A request's caller, and what its request is about to ask for, in one round trip.

Each round trip to the database costs about as much as a small query's own work, and
every request starts by loading its caller. So the same statement also brings the
sharing agreements in force that decide the caller's reader scopes (every list page
needs them), which travel on the principal, and the directory's agency and theatre
codes (every page shows them), kept for the session's request where the functions that
would otherwise query them look first.
"""

import functools
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, bindparam
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.auth.directory import codes_columns, remember_codes
from ocpo_coord.auth.principal import Principal, principal_from, principal_query
from ocpo_coord.db.queries import execute
from ocpo_coord.models import User
from ocpo_coord.visibility.scopes import agreement_rows, agreements_column


async def load_caller(session: AsyncSession, login: str, now: datetime) -> Principal:
    """The principal for ``login``, carrying the agreements that decide its scopes at
    ``now``; the directory's codes are kept for the session (a session serves one
    request)."""
    found = (await execute(session, _caller_statement(), {"login": login, "instant": now})).one_or_none()
    principal = principal_from(found)
    assert found is not None  # principal_from refuses a missing account
    agreements, agency_codes, theatre_codes = found[4:]
    remember_codes(session, agency_codes, theatre_codes)
    return replace(principal, agreements=agreement_rows(agreements), agreements_at=now)


# Every request runs it: kept, with the login and the instant as parameters, so that it
# is built and its SQLAlchemy cache key computed once per process.
@functools.lru_cache(maxsize=1)
def _caller_statement() -> Any:
    agencies, theatres = codes_columns()
    # Untyped: each takes the type of the column it is compared with.
    login: ColumnElement[str] = bindparam("login", required=True)
    instant: ColumnElement[datetime] = bindparam("instant", required=True)
    return principal_query(login, agreements_column(col(User.agency_id), instant), agencies, theatres)

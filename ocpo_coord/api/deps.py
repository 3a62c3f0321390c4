"""FastAPI dependencies: the request's session (one transaction) and its actor."""

import re
import uuid
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.auth.principal import load_principal
from ocpo_coord.auth.tokens import login_from_claims, verify_token
from ocpo_coord.config import get_settings
from ocpo_coord.context import Actor
from ocpo_coord.exceptions import Unauthenticated

_bearer = HTTPBearer(auto_error=False, description="A JWT from the configured issuer.")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def request_id(request: Request) -> str:
    """The caller's X-Request-ID when it is sane, else a fresh one."""
    existing = getattr(request.state, "request_id", None)
    if isinstance(existing, str):
        return existing
    offered = request.headers.get("x-request-id", "")
    value = offered if _REQUEST_ID.match(offered) else uuid.uuid4().hex
    request.state.request_id = value
    return value


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One transaction per request, committed in this one place.

    Transports mark ``request.state.rollback`` when a request failed without raising
    (a GraphQL error), so nothing half-done is committed.
    """
    async with request.app.state.sessionmaker() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        if getattr(request.state, "rollback", False):
            await session.rollback()
        else:
            await session.commit()


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


async def get_actor(
    request: Request,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthenticated("missing bearer token: send 'Authorization: Bearer <token>'")
    claims = verify_token(get_settings(), credentials.credentials)
    principal = await load_principal(session, login_from_claims(claims))
    return Actor(principal=principal, request_id=request_id(request))


ActorDep = Annotated[Actor, Depends(get_actor)]

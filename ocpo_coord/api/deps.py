"""FastAPI dependencies: the request's session (one transaction) and its actor."""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.concurrency import run_in_threadpool

from ocpo_coord.api.caller import load_caller
from ocpo_coord.api.middleware import accept_request_id
from ocpo_coord.audit.reads import discard_reads, flush_reads
from ocpo_coord.auth.tokens import login_from_claims, verified_tokens, verify_token
from ocpo_coord.config import get_settings
from ocpo_coord.context import Actor
from ocpo_coord.exceptions import Unauthenticated
from ocpo_coord.logging_setup import bind_login
from ocpo_coord.models.base import utcnow

_bearer = HTTPBearer(auto_error=False, description="A JWT from the configured issuer.")


def request_id(request: Request) -> str:
    """This request's id: the one the request middleware chose and sent back as X-Request-ID."""
    existing = getattr(request.state, "request_id", None)
    if isinstance(existing, str):
        return existing
    # Only without the middleware (a request built by hand): same rule, same place.
    value = accept_request_id(request.headers.get("x-request-id"))
    request.state.request_id = value
    return value


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One transaction per request, committed in this one place.

    Reads of protected records noted while the request ran (list pages, nested fields)
    are audited here, in the same transaction, just before it commits. Transports mark
    ``request.state.rollback`` when a request failed without raising (a GraphQL error),
    so nothing half-done is committed.
    """
    async with request.app.state.sessionmaker() as session:
        try:
            yield session
        except BaseException:
            discard_reads(session)  # no answer carries the records: nothing was read
            await session.rollback()
            raise
        if getattr(request.state, "rollback", False):
            await session.rollback()
            # GraphQL answers the fields that worked beside the one that failed: the
            # records that answer still carries are audited, in a transaction of their own.
            if await flush_reads(session):
                await session.commit()
        else:
            await flush_reads(session)
            await session.commit()


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


async def get_actor(
    request: Request,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthenticated("missing bearer token: send 'Authorization: Bearer <token>'")
    # The application's own settings when it was built with some (tests, embedding).
    settings = getattr(request.app, "settings", None) or get_settings()
    token = credentials.credentials
    claims = verified_tokens.get(settings, token)
    if claims is None:
        if settings.oidc_issuer or settings.jwks_url:
            # Fetching the provider's keys (rarely: they are cached) must not stall the event loop.
            claims = await run_in_threadpool(verify_token, settings, token)
        else:
            claims = verify_token(settings, token)
        verified_tokens.keep(settings, token, claims)
    now = utcnow()  # the request's one instant, fixed before its caller's scopes are read
    principal = await load_caller(session, login_from_claims(claims, settings.jwt_user_claim), now)
    bind_login(principal.login)  # for the request's access log line
    actor = Actor(principal=principal, request_id=request_id(request), now=now)
    # Kept so that a refused access can be audited after the request's transaction ends.
    request.state.actor = actor
    return actor


ActorDep = Annotated[Actor, Depends(get_actor)]

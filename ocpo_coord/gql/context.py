"""The typed GraphQL context: session, actor and per-request dataloaders."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from fastapi import Request
from fastapi.security import HTTPBearer
from pydantic import ValidationError
from sqlmodel.ext.asyncio.session import AsyncSession
from strawberry.fastapi import BaseContext
from strawberry.types import Info

from ocpo_coord.api.deps import SessionDep, get_actor
from ocpo_coord.audit.service import record_refusal
from ocpo_coord.context import Actor
from ocpo_coord.exceptions import Forbidden, NotFound, OcpoError
from ocpo_coord.gql.common import ErrorTypes, user_error, validation_error
from ocpo_coord.gql.loaders import Loaders

T = TypeVar("T")

_bearer = HTTPBearer(auto_error=False)


@dataclass
class Context(BaseContext):
    session: AsyncSession
    actor: Actor | None
    http_request: Request
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        super().__init__()
        self.loaders = Loaders(self.session, self.actor)

    def require_actor(self) -> Actor:
        if self.actor is None:  # only the GraphiQL page itself is served without a token
            raise OcpoError("authentication required")
        return self.actor


GraphQLInfo = Info[Context, None]


async def get_context(request: Request, session: SessionDep) -> Context:
    """Every operation needs a valid token; only the GraphiQL page is served without."""
    wants_page = request.method == "GET" and "text/html" in request.headers.get("accept", "")
    credentials = await _bearer(request)
    if credentials is None and wants_page:
        return Context(session=session, actor=None, http_request=request)
    actor = await get_actor(request, session, credentials)
    return Context(session=session, actor=actor, http_request=request)


async def mutate(
    info: GraphQLInfo,
    run: Callable[[Actor], Awaitable[T]],
) -> T | ErrorTypes:
    """Run one mutation in a savepoint: an expected failure undoes only its own writes."""
    context = info.context
    actor = context.require_actor()
    try:
        async with context.session.begin_nested():
            return await run(actor)
    except OcpoError as exc:
        if isinstance(exc, NotFound | Forbidden):
            # The savepoint is gone; the refusal is kept in the request's transaction.
            await record_refusal(
                context.session, actor=actor, record_id=None, detail=f"{info.field_name}: {exc.message}"
            )
        return user_error(exc)
    except ValidationError as exc:
        return validation_error(exc)

"""REST routes every record kind shares: a filtered list, create, get and patch.

A kind declares what differs (its paths, names, models and service functions) and gets
the same four routes as every other kind: creates retried under an Idempotency-Key,
reads and writes tagged with the version's ETag, patches conditional on If-Match. The
route names are the operation ids and summaries of the REST description.
"""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.api.concurrency import IfMatch, conditional, tag_response
from ocpo_coord.api.deps import ActorDep, SessionDep
from ocpo_coord.api.idempotency import IdempotencyKey, idempotent_create
from ocpo_coord.api.pagination import ListResponse, PageParams, envelope
from ocpo_coord.context import Actor
from ocpo_coord.visibility.pagination import Page

F = TypeVar("F", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class Listing(Generic[F]):
    """A kind's list page, filtered by the fields of ``filters`` given as query parameters."""

    name: str  # the route's name: list_cases
    filters: type[F]
    run: Callable[..., Awaitable[Page[Any]]]  # (session, *, actor, filters, first, after)
    description: str | None = None


@dataclass(frozen=True, slots=True)
class RecordRoutes:
    """One record kind over REST. ``create`` and ``update`` are called with keyword
    arguments, the record's id by ``id_name``."""

    name: str  # create_<name>, get_<name>, update_<name>
    id_name: str  # the path parameter: case_id
    public: type[BaseModel]
    create_body: type[BaseModel]
    update_body: type[BaseModel]
    create: Callable[..., Awaitable[Any]]  # (session, *, actor, data)
    read: Callable[[AsyncSession, Actor, uuid.UUID], Awaitable[Any]]  # the kind's read, audited
    update: Callable[..., Awaitable[Any]]  # (session, *, actor, <id_name>, data)
    path: str = ""  # below the router's prefix
    id_path: str = ""  # the record's path below ``path``; "/{<id_name>}" when empty
    create_description: str | None = None
    update_description: str | None = None


def add_listing(router: APIRouter, path: str, public: type[BaseModel], listing: Listing[F]) -> None:
    params_model = type(f"{listing.filters.__name__}Params", (listing.filters, PageParams), {})

    async def run(session: AsyncSession, actor: Actor, params: Any) -> ListResponse[Any]:
        filters = listing.filters.model_validate(params.filters())
        return envelope(
            await listing.run(session, actor=actor, filters=filters, first=params.limit, after=params.after)
        )

    router.add_api_route(
        path,
        _endpoint(run, session=SessionDep, actor=ActorDep, params=Annotated[params_model, Query()]),
        methods=["GET"],
        response_model=ListResponse[public],  # type: ignore[valid-type]
        name=listing.name,
        description=listing.description,
    )


def add_record_routes(router: APIRouter, routes: RecordRoutes) -> None:
    """Create, get and patch, in that order (a route declared before them wins a path)."""
    id_path = routes.id_path or f"{routes.path}/{{{routes.id_name}}}"

    async def create(
        session: AsyncSession,
        actor: Actor,
        request: Request,
        response: Response,
        body: BaseModel,
        idempotency_key: str | None,
    ) -> Any:
        created = await idempotent_create(
            session,
            actor=actor,
            request=request,
            key=idempotency_key,
            body=body,
            create=lambda: routes.create(session, actor=actor, data=body),
        )
        return created if isinstance(created, JSONResponse) else tag_response(response, created)

    async def get(session: AsyncSession, actor: Actor, response: Response, **path: uuid.UUID) -> Any:
        (record_id,) = path.values()
        return tag_response(response, await routes.read(session, actor, record_id))

    async def update(
        session: AsyncSession,
        actor: Actor,
        response: Response,
        body: Any,
        if_match: str | None,
        **record_id: uuid.UUID,
    ) -> Any:
        updated = await conditional(
            if_match,
            body.expected_version,
            lambda version: routes.update(
                session, actor=actor, **record_id, data=body.model_copy(update={"expected_version": version})
            ),
        )
        return tag_response(response, updated)

    record_id = {routes.id_name: uuid.UUID}
    router.add_api_route(
        routes.path,
        _endpoint(
            create,
            session=SessionDep,
            actor=ActorDep,
            request=Request,
            response=Response,
            body=routes.create_body,
            idempotency_key=(IdempotencyKey, None),
        ),
        methods=["POST"],
        response_model=routes.public,
        status_code=status.HTTP_201_CREATED,
        name=f"create_{routes.name}",
        description=routes.create_description,
    )
    router.add_api_route(
        id_path,
        _endpoint(get, session=SessionDep, actor=ActorDep, response=Response, **record_id),
        methods=["GET"],
        response_model=routes.public,
        name=f"get_{routes.name}",
    )
    router.add_api_route(
        id_path,
        _endpoint(
            update,
            session=SessionDep,
            actor=ActorDep,
            response=Response,
            **record_id,
            body=routes.update_body,
            if_match=(IfMatch, None),
        ),
        methods=["PATCH"],
        response_model=routes.public,
        name=f"update_{routes.name}",
        description=routes.update_description,
    )


def _endpoint(run: Callable[..., Awaitable[Any]], **parameters: Any) -> Callable[..., Awaitable[Any]]:
    """An endpoint taking ``parameters`` (name: annotation, or (annotation, default)) as
    FastAPI reads them from its signature: the record's id keeps the kind's own name
    (``case_id``), as its path and the REST description say."""

    async def endpoint(**values: Any) -> Any:
        return await run(**values)

    endpoint.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter(
                name,
                inspect.Parameter.KEYWORD_ONLY,
                annotation=spec[0] if isinstance(spec, tuple) else spec,
                default=spec[1] if isinstance(spec, tuple) else inspect.Parameter.empty,
            )
            for name, spec in parameters.items()
        ]
    )
    return endpoint

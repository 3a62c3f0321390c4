"""The framework floor: what a REST page costs when the page itself costs nothing.

The service is served with one more route, ``GET /bench/framework-floor``, which takes
the intelligence list's query parameters and dependencies (the request's session and
transaction, the bearer token checked, the caller's statement) and answers through the
list's response model, with the client reading the JSON as it reads a page. What it
does not do is the page: the first request for a reader and cursor runs the real list
(a warm-up), and every later one answers that page again from memory. So it costs
HTTP, the middleware, routing, the token, the caller, the commit and the response's
serialisation, and nothing of the page's statements, rows or audit entry.

Beside the rule-keeping floor it bounds what a REST page can reach on this framework:
no page costs less than the framework floor plus the rule-keeping floor, less the part
they share (the caller's statement and a commit, replayed through the bare driver as
the ``caller floor``).

Only the benchmark's service has this route (``create_app`` here, the factory
``bench/measure.py`` serves); the service's own factory never adds it.
"""

from typing import Annotated, Any

from fastapi import FastAPI, Query

from ocpo_coord.api.deps import ActorDep, SessionDep
from ocpo_coord.api.pagination import ListResponse, PageParams, envelope
from ocpo_coord.app import create_app as create_service
from ocpo_coord.intel import service as intel
from ocpo_coord.intel.schemas import IntelItemFilter, IntelItemPublic

PATH = "/bench/framework-floor"

IntelPage = ListResponse[IntelItemPublic]


class _Params(IntelItemFilter, PageParams):
    """The intelligence list's query parameters, as ``api/records.add_listing`` builds them."""


def add_route(app: FastAPI) -> None:
    """The framework floor's route, on ``app``."""
    answered: dict[tuple[str, str], Any] = {}  # by reader and every query parameter

    async def framework_floor(
        session: SessionDep, actor: ActorDep, params: Annotated[_Params, Query()]
    ) -> Any:
        key = (actor.principal.login, params.model_dump_json())
        if key not in answered:
            page = await intel.list_intel_items(
                session,
                actor=actor,
                filters=IntelItemFilter.model_validate(params.filters()),
                first=params.limit,
                after=params.after,
            )
            answered[key] = envelope(page)
        return answered[key]

    app.add_api_route(
        PATH, framework_floor, methods=["GET"], response_model=IntelPage, include_in_schema=False
    )


def create_app() -> FastAPI:
    """The service, as ``ocpo_coord.app:create_app`` builds it, with the floor's route."""
    app = create_service()
    add_route(app)
    return app

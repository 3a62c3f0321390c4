"""The framework floor: what a REST page costs when the page itself costs nothing.

The service is served with one more route, ``GET /bench/framework-floor``: the
intelligence list's own route (its query parameters, dependencies, response model: the
request's session and transaction, the bearer token checked, the caller's statement),
read by the client as a page is read. What it does not do is the page: the first
request for a reader and query runs the real list (a warm-up), and every later one
answers that page again from memory. So it costs
HTTP, the middleware, routing, the token, the caller, the commit and the response's
serialisation, and nothing of the page's statements, rows or audit entry.

Beside the rule-keeping floor it bounds what a REST page can reach on this framework:
no page costs less than the framework floor plus the rule-keeping floor, less the part
they share (the caller's statement and a commit, replayed through the bare driver as
the ``caller floor``).

Only the benchmark's service has this route (``create_app`` here, the factory
``bench/measure.py`` serves), never in production; the service's own factory never adds
it.
"""

from typing import Any

from fastapi import APIRouter, FastAPI
from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.api.records import Listing, add_listing
from ocpo_coord.app import create_app as create_service
from ocpo_coord.config import Environment, get_settings
from ocpo_coord.context import Actor
from ocpo_coord.intel import service as intel
from ocpo_coord.intel.schemas import IntelItemFilter, IntelItemPublic
from ocpo_coord.visibility.pagination import Page

PATH = "/bench/framework-floor"


def add_route(app: FastAPI) -> None:
    """The framework floor's route, on ``app``: the intelligence list's own route
    (``api/records.add_listing``) around a list that answers from memory."""
    # Kept under the whole principal with the agreements in force, as the rule's own
    # caches are: a reader whose clearance, agency, groups, theatres or agreements
    # changed is answered by the real list again.
    answered: dict[tuple[Any, ...], Page[Any]] = {}

    async def remembered(
        session: AsyncSession, *, actor: Actor, filters: IntelItemFilter, first: int, after: str | None
    ) -> Page[Any]:
        key = (actor.principal, actor.principal.agreements, filters.model_dump_json(), first, after)
        if key not in answered:
            answered[key] = await intel.list_intel_items(
                session, actor=actor, filters=filters, first=first, after=after
            )
        return answered[key]

    router = APIRouter()
    add_listing(router, PATH, IntelItemPublic, Listing("bench_framework_floor", IntelItemFilter, remembered))
    app.include_router(router, include_in_schema=False)


def create_app() -> FastAPI:
    """The service, as ``ocpo_coord.app:create_app`` builds it, with the floor's route.
    Refused in production: its answers are a measurement, not the rule's."""
    if get_settings().environment is Environment.PRODUCTION:
        raise RuntimeError("the benchmark's framework floor is not served in production")
    app = create_service()
    add_route(app)
    return app

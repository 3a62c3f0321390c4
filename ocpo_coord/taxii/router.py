"""TAXII 2.1 over HTTP: discovery at /taxii2/, one API root, its collections and status.

Every answer is ``application/taxii+json;version=2.1``, errors included (TAXII error
messages, ``messages.py``). The routes are left out of the OpenAPI description: TAXII
clients follow the OASIS specification, not this service's description, and the
specification's media types and content negotiation (406, 415) are its own.
"""

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel

from ocpo_coord.api.deps import ActorDep, SessionDep
from ocpo_coord.exceptions import InvalidInput
from ocpo_coord.taxii import service
from ocpo_coord.taxii.schemas import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    TAXII_MEDIA_TYPE,
    ApiRoot,
    Discovery,
    Envelope,
    Manifest,
    ObjectFilter,
    Page,
)

API_ROOT = "intel"
_MAX_CONTENT_LENGTH = 4 * 1024 * 1024  # the service's body limit (api/middleware.py)


def _taxii(model: BaseModel, status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    body = model.model_dump_json(exclude_none=True)
    return Response(content=body, status_code=status_code, media_type=TAXII_MEDIA_TYPE, headers=headers)


# A collection's or a status's id is not named ``*_id`` in the paths: the audit of a refused
# access takes such a parameter for the id of the record refused, and neither is a record.
router = APIRouter(prefix="/taxii2", include_in_schema=False)


def _values(raw: list[str] | None) -> list[str]:
    """TAXII filters take several values as a comma-separated list, or the key repeated."""
    return [v.strip() for item in raw or [] for v in item.split(",") if v.strip()]


def object_filter(
    added_after: str | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    next: str | None = None,
    match_id: Annotated[list[str] | None, Query(alias="match[id]")] = None,
    match_type: Annotated[list[str] | None, Query(alias="match[type]")] = None,
    match_version: Annotated[list[str] | None, Query(alias="match[version]")] = None,
    match_spec_version: Annotated[list[str] | None, Query(alias="match[spec_version]")] = None,
) -> ObjectFilter:
    return ObjectFilter(
        added_after=added_after,
        limit=limit,
        next=next,
        ids=_values(match_id),
        types=_values(match_type),
        versions=_values(match_version),
        spec_versions=_values(match_spec_version),
    )


FilterDep = Annotated[ObjectFilter, Depends(object_filter)]


def _paged(model: BaseModel, page: Page) -> Response:
    headers = {}
    if page.first_added and page.last_added:
        headers = {"X-TAXII-Date-Added-First": page.first_added, "X-TAXII-Date-Added-Last": page.last_added}
    return _taxii(model, headers=headers)


@router.get("/")
async def discovery(request: Request, _: ActorDep) -> Response:
    root = f"{str(request.base_url).rstrip('/')}/taxii2/{API_ROOT}/"
    return _taxii(
        Discovery(
            title="ocpo-coord TAXII 2.1",
            description="Intelligence of the theatres of your agency, as the sharing rules let you read it.",
            default=root,
            api_roots=[root],
        )
    )


@router.get(f"/{API_ROOT}/")
async def api_root(_: ActorDep) -> Response:
    return _taxii(
        ApiRoot(
            title="Intelligence",
            description="One collection per theatre of your agency.",
            versions=[TAXII_MEDIA_TYPE],
            max_content_length=_MAX_CONTENT_LENGTH,
        )
    )


@router.get(f"/{API_ROOT}/collections/")
async def collections(session: SessionDep, actor: ActorDep) -> Response:
    return _taxii(await service.list_collections(session, actor=actor))


@router.get(f"/{API_ROOT}/collections/{{collection}}/")
async def collection(session: SessionDep, actor: ActorDep, collection: str) -> Response:
    return _taxii(await service.get_collection(session, actor=actor, collection=collection))


@router.get(f"/{API_ROOT}/collections/{{collection}}/objects/")
async def objects(session: SessionDep, actor: ActorDep, collection: str, filters: FilterDep) -> Response:
    page = await service.page(session, actor=actor, collection=collection, filters=filters, with_objects=True)
    return _paged(Envelope(more=page.more, next=page.next, objects=page.objects), page)


@router.get(f"/{API_ROOT}/collections/{{collection}}/manifest/")
async def manifest(session: SessionDep, actor: ActorDep, collection: str, filters: FilterDep) -> Response:
    page = await service.page(
        session, actor=actor, collection=collection, filters=filters, with_objects=False
    )
    return _paged(Manifest(more=page.more, next=page.next, objects=page.manifest), page)


@router.get(f"/{API_ROOT}/collections/{{collection}}/objects/{{object_id}}/")
async def object_by_id(
    session: SessionDep, actor: ActorDep, collection: str, object_id: str, filters: FilterDep
) -> Response:
    page = await service.page(
        session,
        actor=actor,
        collection=collection,
        filters=filters,
        with_objects=True,
        object_id=object_id,
    )
    return _paged(Envelope(more=page.more, next=page.next, objects=page.objects), page)


@router.get(f"/{API_ROOT}/collections/{{collection}}/objects/{{object_id}}/versions/")
async def object_versions(
    session: SessionDep, actor: ActorDep, collection: str, object_id: str, filters: FilterDep
) -> Response:
    found = await service.versions(
        session, actor=actor, collection=collection, object_id=object_id, filters=filters
    )
    return _taxii(found)


@router.post(f"/{API_ROOT}/collections/{{collection}}/objects/")
async def add_objects(request: Request, session: SessionDep, actor: ActorDep, collection: str) -> Response:
    try:
        envelope: Any = json.loads(await request.body())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput(f"the envelope is not JSON: {exc}", field="body") from exc
    status = await service.add_objects(session, actor=actor, collection=collection, envelope=envelope)
    return _taxii(status, 202)


@router.get(f"/{API_ROOT}/status/{{status_ref}}/")
async def status(session: SessionDep, actor: ActorDep, status_ref: str) -> Response:
    return _taxii(await service.get_status(session, actor=actor, status_id=status_ref))

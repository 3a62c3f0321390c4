"""REST: STIX 2.1 bundles out (/stix/bundle, /intel-items/{id}/stix) and in (/stix/import)."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Response

from ocpo_coord.api.deps import ActorDep, SessionDep
from ocpo_coord.stix import export, importer
from ocpo_coord.stix.schemas import StixExportFilter, StixImportResult

STIX_MEDIA_TYPE = "application/stix+json;version=2.1"

router = APIRouter(tags=["stix"])

_BUNDLE_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"description": "A STIX 2.1 bundle.", "content": {STIX_MEDIA_TYPE: {"schema": {"type": "object"}}}}
}


def _bundle(body: str) -> Response:
    return Response(content=body, media_type=STIX_MEDIA_TYPE)


@router.get("/stix/bundle", response_class=Response, responses=_BUNDLE_RESPONSE)
async def stix_bundle(
    session: SessionDep, actor: ActorDep, params: Annotated[StixExportFilter, Query()]
) -> Response:
    """Readable intelligence (one item, a case's, or a filtered list), with its entities and cases."""
    return _bundle(await export.export_bundle(session, actor=actor, selection=params))


@router.get("/intel-items/{item_id}/stix", response_class=Response, responses=_BUNDLE_RESPONSE)
async def intel_item_stix(session: SessionDep, actor: ActorDep, item_id: uuid.UUID) -> Response:
    selection = StixExportFilter(intel_id=item_id)
    return _bundle(await export.export_bundle(session, actor=actor, selection=selection))


@router.post("/stix/import", response_model=StixImportResult)
async def stix_import(
    session: SessionDep,
    actor: ActorDep,
    bundle: Annotated[dict[str, Any], Body(description="A STIX 2.1 bundle.")],
    theatre: Annotated[
        str | None, Query(max_length=32, description="Theatre for items that name none known here.")
    ] = None,
    source: Annotated[
        str | None, Query(max_length=200, description="The sending system, for provenance.")
    ] = None,
) -> StixImportResult:
    """Create intelligence items owned by your agency; their markings are never widened."""
    return await importer.import_bundle(session, actor=actor, bundle=bundle, theatre=theatre, source=source)

"""REST: /api/v1/cases. Parse, call one service function, shape the answer."""

from fastapi import APIRouter

from ocpo_coord.api.records import Listing, RecordRoutes, add_listing, add_record_routes
from ocpo_coord.case import service
from ocpo_coord.case.schemas import CaseCreate, CaseFilter, CasePublic, CaseUpdate

router = APIRouter(prefix="/cases", tags=["cases"])

add_listing(router, "", CasePublic, Listing("list_cases", CaseFilter, service.list_cases))
add_record_routes(
    router,
    RecordRoutes(
        "case",
        "case_id",
        CasePublic,
        CaseCreate,
        CaseUpdate,
        create=service.create_case,
        read=service.KIND.read,
        update=service.update_case,
    ),
)

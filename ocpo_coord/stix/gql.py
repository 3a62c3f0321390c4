"""GraphQL: a STIX 2.1 bundle of readable intelligence, as JSON text."""

import strawberry

from ocpo_coord.exceptions import InvalidInput
from ocpo_coord.gql.common import described_field, input_model
from ocpo_coord.gql.context import GraphQLInfo
from ocpo_coord.gql.ids import parse_id
from ocpo_coord.intel.gql import IntelItemFilterInput
from ocpo_coord.intel.schemas import IntelItemFilter
from ocpo_coord.stix import export
from ocpo_coord.stix.schemas import MAX_EXPORT, StixExportFilter


@strawberry.type
class StixQuery:
    @described_field(
        "A STIX 2.1 bundle (JSON text) of the intelligence you may read: one item, a case's, "
        "or a filtered list, with linked entities and cases and their markings. Audited as an export."
    )
    async def stix_bundle(
        self,
        info: GraphQLInfo,
        intel_id: strawberry.ID | None = None,
        filter: IntelItemFilterInput | None = None,
        first: int = 200,
    ) -> str:
        if not 1 <= first <= MAX_EXPORT:
            raise InvalidInput(f"must be between 1 and {MAX_EXPORT}", field="first")
        filters = (
            input_model(info, filter, IntelItemFilter, argument="filter") if filter else IntelItemFilter()
        )
        selection = StixExportFilter.model_validate(
            {
                **filters.model_dump(),
                "intel_id": parse_id(intel_id, "intelligence item") if intel_id is not None else None,
                "limit": first,
            }
        )
        return await export.export_bundle(
            info.context.session, actor=info.context.require_actor(), selection=selection
        )

"""GraphQL type for handling markings, from the curated public model."""

import strawberry.experimental.pydantic as spy

from ocpo_coord.records.schemas import MarkingsInput, MarkingsPublic


@spy.type(model=MarkingsPublic, all_fields=True, name="Markings")
class Markings:
    pass


@spy.input(model=MarkingsInput, all_fields=True, name="MarkingsInput")
class MarkingsInputType:
    pass

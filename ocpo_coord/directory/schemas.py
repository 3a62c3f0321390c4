"""Directory payloads."""

import uuid
from datetime import date

from pydantic import BaseModel

from ocpo_coord.models.enums import AgencyKind, ParentOrganisation, Role
from ocpo_coord.records.schemas import ClassificationName


class TheatrePublic(BaseModel):
    id: uuid.UUID
    code: str
    name: str
    country: str
    regions: list[str]


class AgencyPublic(BaseModel):
    id: uuid.UUID
    code: str
    name: str
    kind: AgencyKind
    parent_organisation: ParentOrganisation
    host_nation: bool
    mandate_start: date | None
    mandate_end: date | None
    predecessor: str | None
    successors: list[str]
    theatres: list[str]


class MePublic(BaseModel):
    id: uuid.UUID
    login: str
    display_name: str
    agency: str | None
    roles: list[Role]
    clearance: ClassificationName

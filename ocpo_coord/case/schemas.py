"""Case payloads of the APIs: curated, so a new column is never exposed by accident."""

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from ocpo_coord.models.enums import CaseStatus, CrimeType, JudicialStage, Priority
from ocpo_coord.records.schemas import (
    AgencyCode,
    DateText,
    Login,
    MarkingsInput,
    MarkingsPublic,
    UpdateModel,
    Version,
)

Title = Field(min_length=1, max_length=300)


class CaseCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Title
    summary: str = Field(default="", max_length=20_000)
    crime_types: list[CrimeType] = Field(default_factory=list, max_length=20)
    status: CaseStatus = CaseStatus.OPEN
    judicial_stage: JudicialStage = JudicialStage.INVESTIGATION
    priority: Priority = Priority.MEDIUM
    theatre: str = Field(min_length=1, max_length=32, description="Theatre code, e.g. KOS.")
    participating_agencies: list[AgencyCode] = Field(default_factory=list, max_length=50)
    members: list[Login] = Field(default_factory=list, max_length=200)
    restricted: StrictBool = False
    opened_on: DateText | None = None
    markings: MarkingsInput = Field(default_factory=MarkingsInput)


class CaseUpdate(UpdateModel):
    expected_version: Version | None = None
    title: str | None = Field(default=None, min_length=1, max_length=300)
    summary: str | None = Field(default=None, max_length=20_000)
    crime_types: list[CrimeType] | None = Field(default=None, max_length=20)
    status: CaseStatus | None = None
    judicial_stage: JudicialStage | None = None
    priority: Priority | None = None
    participating_agencies: list[AgencyCode] | None = Field(default=None, max_length=50)
    members: list[Login] | None = Field(default=None, max_length=200)
    restricted: StrictBool | None = None
    markings: MarkingsInput | None = None


class CaseFilter(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: CaseStatus | None = None
    crime_type: CrimeType | None = None
    theatre: str | None = Field(default=None, max_length=32)
    agency: AgencyCode | None = None
    text: str | None = Field(default=None, min_length=1, max_length=200)


class CasePublic(BaseModel):
    id: uuid.UUID
    reference: str
    title: str
    summary: str
    crime_types: list[CrimeType]
    status: CaseStatus
    judicial_stage: JudicialStage
    priority: Priority
    lead_agency: str
    participating_agencies: list[str]
    members: list[str]
    theatre: str | None
    restricted: bool
    opened_on: date | None
    created_at: datetime
    updated_at: datetime
    version: int
    markings: MarkingsPublic

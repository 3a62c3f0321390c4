"""Intelligence item payloads."""

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from ocpo_coord.models.enums import InformationCredibility, SourceReliability
from ocpo_coord.records.schemas import (
    AgencyCode,
    DateText,
    MarkingsInput,
    MarkingsPublic,
    UpdateModel,
    Version,
)


class IntelItemCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=300)
    content: str = Field(min_length=1, max_length=50_000)
    information_date: DateText
    source_reliability: SourceReliability
    information_credibility: InformationCredibility
    source_description: str = Field(default="", max_length=300)
    theatre: str = Field(min_length=1, max_length=32)
    case_ids: list[uuid.UUID] = Field(default_factory=list, max_length=50)
    markings: MarkingsInput = Field(default_factory=MarkingsInput)


class IntelItemUpdate(UpdateModel):
    expected_version: Version | None = None
    title: str | None = Field(default=None, min_length=1, max_length=300)
    content: str | None = Field(default=None, min_length=1, max_length=50_000)
    information_date: DateText | None = None
    source_reliability: SourceReliability | None = None
    information_credibility: InformationCredibility | None = None
    source_description: str | None = Field(default=None, max_length=300)
    case_ids: list[uuid.UUID] | None = Field(default=None, max_length=50)
    markings: MarkingsInput | None = None


class IntelItemFilter(BaseModel):
    model_config = ConfigDict(extra="forbid")

    theatre: str | None = Field(default=None, max_length=32)
    agency: AgencyCode | None = Field(default=None, description="Originator or owner.")
    case_id: uuid.UUID | None = None
    source_reliability: SourceReliability | None = None
    text: str | None = Field(default=None, min_length=1, max_length=200)


class IntelItemPublic(BaseModel):
    id: uuid.UUID
    title: str
    content: str
    information_date: date
    source_reliability: SourceReliability
    information_credibility: InformationCredibility
    grading: str = Field(description="Admiralty grading, e.g. B2.")
    source_description: str
    theatre: str | None
    case_ids: list[uuid.UUID] = Field(description="Linked cases the reader may read.")
    created_at: datetime
    updated_at: datetime
    version: int
    markings: MarkingsPublic


class TearLineCreate(BaseModel):
    """A sanitised version for wider release; grading and date come from the original."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=300)
    content: str = Field(min_length=1, max_length=50_000)
    source_description: str = Field(default="", max_length=300)
    markings: MarkingsInput

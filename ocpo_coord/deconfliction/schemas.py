"""Planned operation and deconfliction hit payloads."""

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from ocpo_coord.models.enums import HitKind, HitOutcome, HitStatus, OperationKind, OperationStatus
from ocpo_coord.records.schemas import (
    MarkingsInput,
    MarkingsPublic,
    UpdateModel,
    Version,
    ZonedDatetime,
)


class PlannedOperationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    operation_kind: OperationKind
    title: str = Field(min_length=1, max_length=300)
    site_name: str = Field(default="", max_length=300)
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    radius_m: float = Field(default=100.0, ge=0, le=100_000)
    starts_at: ZonedDatetime
    ends_at: ZonedDatetime
    theatre: str = Field(min_length=1, max_length=32)
    status: OperationStatus = OperationStatus.PLANNED
    markings: MarkingsInput = Field(default_factory=MarkingsInput)

    @field_validator("ends_at")
    @classmethod
    def _window(cls, value: datetime, info: ValidationInfo) -> datetime:
        starts_at = info.data.get("starts_at")
        if starts_at is not None and value <= starts_at:
            raise ValueError("must be after starts_at")
        return value


class PlannedOperationUpdate(UpdateModel):
    """A change of plan; a new place or window is deconflicted again."""

    expected_version: Version | None = None
    title: str | None = Field(default=None, min_length=1, max_length=300)
    site_name: str | None = Field(default=None, max_length=300)
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    radius_m: float | None = Field(default=None, ge=0, le=100_000)
    starts_at: ZonedDatetime | None = None
    ends_at: ZonedDatetime | None = None
    status: OperationStatus | None = None
    markings: MarkingsInput | None = None


class PlannedOperationFilter(BaseModel):
    model_config = ConfigDict(extra="forbid")

    theatre: str | None = Field(default=None, max_length=32)
    operation_kind: OperationKind | None = None
    status: OperationStatus | None = None


class PlannedOperationPublic(BaseModel):
    id: uuid.UUID
    operation_kind: OperationKind
    title: str
    site_name: str
    latitude: float
    longitude: float
    radius_m: float
    starts_at: datetime
    ends_at: datetime
    status: OperationStatus
    theatre: str | None
    created_at: datetime
    updated_at: datetime
    version: int
    markings: MarkingsPublic
    hits: int = Field(description="Deconfliction hits on it that you may see (your agency's side only).")


class HitFilter(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: HitStatus | None = None
    hit_kind: HitKind | None = None


class HitPublic(BaseModel):
    """A hit as its reader sees it: the other side is only an agency and a contact,
    unless the reader may already read the other record."""

    id: uuid.UUID
    hit_kind: HitKind
    match_kind: str = Field(description="The selector kind, or place_and_time for operations.")
    agency: str
    record_id: uuid.UUID | None = Field(description="Your agency's record, if you may read it.")
    other_agency: str
    other_record_id: uuid.UUID | None = Field(description="Only if you may already read it.")
    contact: str = Field(description="Whom to contact: position title and agency.")
    recipient_position: str | None
    theatre: str | None
    status: HitStatus
    created_at: datetime
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    resolved_by: str | None
    resolved_at: datetime | None
    outcome: HitOutcome | None
    outcome_note: str


class HitResolve(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: HitOutcome
    note: str = Field(default="", max_length=2000, description="Seen by your agency only.")

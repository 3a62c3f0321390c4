"""Responsibility matrix and transfer payloads."""

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from ocpo_coord.models.enums import ActionAxis, ActivityArea, CrimeAxis, ResponsibilityRole, TransferStatus
from ocpo_coord.records.schemas import AgencyCode, DateText


class MatrixFilter(BaseModel):
    model_config = ConfigDict(extra="forbid")

    theatre: str = Field(min_length=1, max_length=32)
    region: str | None = Field(
        default=None, max_length=100, description="One region; theatre-wide entries apply to it too."
    )
    on: date | None = Field(
        default=None, description="The day the matrix and its gaps are for (default today)."
    )


class ResponsibilityPublic(BaseModel):
    id: uuid.UUID
    theatre: str
    region: str = Field(description="Empty for the whole theatre.")
    activity_area: ActivityArea
    agency: str
    role: ResponsibilityRole
    valid_from: date
    valid_until: date | None
    mandate_basis: str


class MatrixCell(BaseModel):
    agency: str
    roles: list[ResponsibilityRole]
    responsibility_ids: list[uuid.UUID]


class MatrixRow(BaseModel):
    activity_area: ActivityArea
    crime_axis: CrimeAxis
    action_axis: ActionAxis
    cells: list[MatrixCell] = Field(description="One per agency with a role on the day.")
    leads: list[str]


class Overlap(BaseModel):
    """Two leads for one activity area and region whose periods overlap."""

    activity_area: ActivityArea
    region: str
    agencies: list[str]
    responsibility_ids: list[uuid.UUID]
    overlap_from: date
    overlap_until: date | None


class Gap(BaseModel):
    """An activity area with no lead in the theatre on the day."""

    activity_area: ActivityArea
    crime_axis: CrimeAxis
    action_axis: ActionAxis
    regional_leads: list[str] = Field(
        description="Leads for single regions only, if any: still a gap theatre-wide."
    )


class ResponsibilityMatrix(BaseModel):
    theatre: str
    region: str | None
    on: date
    agencies: list[str] = Field(description="Agencies deployed in the theatre.")
    rows: list[MatrixRow]
    responsibilities: list[ResponsibilityPublic] = Field(description="All periods, past and future.")
    overlaps: list[Overlap]
    gaps: list[Gap]


class TransferCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    responsibility_id: uuid.UUID
    to_agency: AgencyCode
    effective_date: DateText = Field(
        description="The receiving agency's first day; the old one ends the day before."
    )
    note: str = Field(default="", max_length=1000)


class TransferDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = Field(default="", max_length=1000)
    mandate_basis: str | None = Field(
        default=None, max_length=300, description="Acceptance only: the receiver's mandate basis."
    )


class TransferFilter(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: TransferStatus | None = None


class TransferPublic(BaseModel):
    id: uuid.UUID
    responsibility_id: uuid.UUID
    theatre: str
    region: str
    activity_area: ActivityArea
    role: ResponsibilityRole
    from_agency: str
    to_agency: str
    effective_date: date
    status: TransferStatus
    note: str
    offered_by: str
    offered_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str
    new_responsibility_id: uuid.UUID | None

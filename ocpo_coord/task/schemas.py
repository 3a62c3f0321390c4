"""Task payloads."""

import uuid
from datetime import date, datetime
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from ocpo_coord.models.enums import ActionAxis, ActivityArea, CrimeAxis, Priority, TaskStatus
from ocpo_coord.records.schemas import (
    AgencyCode,
    DateText,
    Login,
    MarkingsInput,
    MarkingsPublic,
    UpdateModel,
    Version,
)


class TaskCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=300)
    description: str = Field(default="", max_length=20_000)
    activity_area: ActivityArea
    case_id: uuid.UUID | None = None
    theatre: str = Field(min_length=1, max_length=32)
    supporting_agencies: list[AgencyCode] = Field(default_factory=list, max_length=50)
    status: TaskStatus = TaskStatus.PROPOSED
    priority: Priority = Priority.MEDIUM
    due_date: DateText | None = None
    assignee_position_id: uuid.UUID | None = None
    assignee_login: Login | None = None
    depends_on: list[uuid.UUID] = Field(default_factory=list, max_length=50)
    markings: MarkingsInput = Field(default_factory=MarkingsInput)


class TaskUpdate(UpdateModel):
    clearable: ClassVar[frozenset[str]] = UpdateModel.clearable | {
        "assignee_login",
        "assignee_position_id",
        "due_date",
    }

    expected_version: Version | None = None
    title: str | None = Field(default=None, min_length=1, max_length=300)
    description: str | None = Field(default=None, max_length=20_000)
    activity_area: ActivityArea | None = None
    supporting_agencies: list[AgencyCode] | None = Field(default=None, max_length=50)
    status: TaskStatus | None = None
    priority: Priority | None = None
    due_date: DateText | None = None
    assignee_position_id: uuid.UUID | None = None
    assignee_login: Login | None = None
    depends_on: list[uuid.UUID] | None = Field(default=None, max_length=50)
    markings: MarkingsInput | None = None


class TaskFilter(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: TaskStatus | None = None
    theatre: str | None = Field(default=None, max_length=32)
    agency: AgencyCode | None = Field(default=None, description="Lead or supporting agency.")
    lead_agency: AgencyCode | None = None
    supporting_agency: AgencyCode | None = None
    activity_area: ActivityArea | None = None
    crime_axis: CrimeAxis | None = Field(default=None, description="Activity areas on this axis.")
    action_axis: ActionAxis | None = Field(default=None, description="Activity areas on this axis.")
    case_id: uuid.UUID | None = None
    assignee_position_id: uuid.UUID | None = None
    assignee: Login | None = Field(default=None, description="Login of the assigned user.")
    overdue: bool | None = None
    blocked: bool | None = Field(
        default=None, description="Status blocked, or waiting on an open dependency you may read."
    )
    text: str | None = Field(default=None, min_length=1, max_length=200)


class GroupCount(BaseModel):
    key: str
    count: int


class TaskBoardSummary(BaseModel):
    """Counts over the tasks the reader may read that match the filter, and no others."""

    total: int
    overdue: int
    blocked: int
    by_status: list[GroupCount]
    by_activity_area: list[GroupCount]
    by_crime_axis: list[GroupCount]
    by_action_axis: list[GroupCount]
    by_lead_agency: list[GroupCount]
    by_supporting_agency: list[GroupCount]


class TaskPublic(BaseModel):
    id: uuid.UUID
    title: str
    description: str
    activity_area: ActivityArea
    crime_axis: CrimeAxis
    action_axis: ActionAxis
    case_id: uuid.UUID | None
    theatre: str | None
    lead_agency: str
    supporting_agencies: list[str]
    status: TaskStatus
    priority: Priority
    due_date: date | None
    overdue: bool
    blocked: bool = Field(description="Status blocked, or waiting on an open dependency you may read.")
    assignee_position_id: uuid.UUID | None
    assignee_position: str | None
    assignee: str | None
    depends_on: list[uuid.UUID] = Field(description="Dependencies the reader may read.")
    created_at: datetime
    updated_at: datetime
    version: int
    markings: MarkingsPublic

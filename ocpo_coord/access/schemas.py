"""Access request payloads."""

import uuid
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from ocpo_coord.models.enums import AccessRequestStatus
from ocpo_coord.records.schemas import ZonedDatetime


class AccessRequestCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    record_id: uuid.UUID
    reason: str = Field(min_length=10, max_length=2000, description="Why you need it; the owner reads this.")


class AccessDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = Field(default="", max_length=1000)
    expires_at: ZonedDatetime | None = Field(
        default=None, description="When the grant ends (approvals only; default 30 days, at most 365)."
    )


class Direction(StrEnum):
    OUTGOING = "outgoing"
    INCOMING = "incoming"


class AccessRequestFilter(BaseModel):
    model_config = ConfigDict(extra="forbid")

    direction: Direction = Direction.OUTGOING
    status: AccessRequestStatus | None = None


class AccessRequestPublic(BaseModel):
    id: uuid.UUID
    record_id: uuid.UUID
    requester: str
    requester_agency: str
    reason: str
    status: AccessRequestStatus
    created_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str
    grant_expires_at: datetime | None

"""Access request payloads."""

import uuid
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ocpo_coord.models.enums import AccessRequestStatus
from ocpo_coord.records.schemas import ZonedDatetime


class AccessRequestCreate(BaseModel):
    """What to ask for: a record by id, or by the handle you were given for something
    you may not read (a deconfliction hit's id, a handover stub's line id). Exactly one."""

    model_config = ConfigDict(extra="forbid")

    record_id: uuid.UUID | None = None
    hit_id: uuid.UUID | None = Field(default=None, description="A hit of yours: the other agency's record.")
    handover_line_id: uuid.UUID | None = Field(default=None, description="A handover line you see as a stub.")
    reason: str = Field(min_length=10, max_length=2000, description="Why you need it; the owner reads this.")

    @model_validator(mode="after")
    def _one_subject(self) -> "AccessRequestCreate":
        named = [f for f in ("record_id", "hit_id", "handover_line_id") if getattr(self, f) is not None]
        if len(named) != 1:
            raise ValueError("give exactly one of record_id, hit_id and handover_line_id")
        return self

    @property
    def handle_field(self) -> str:
        if self.hit_id is not None:
            return "hit_id"
        return "handover_line_id" if self.handover_line_id is not None else "record_id"


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
    record_id: uuid.UUID | None = Field(description="Only while you may read the record.")
    requester: str
    requester_agency: str
    reason: str
    status: AccessRequestStatus
    created_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str
    grant_expires_at: datetime | None

"""Requests for access to a record the requester learned exists but cannot read."""

import uuid
from datetime import datetime

from sqlalchemy import Index, String, Text
from sqlmodel import Field, SQLModel

from ocpo_coord.models.base import UTCDateTime, new_id, utcnow
from ocpo_coord.models.enums import AccessRequestStatus


class AccessRequest(SQLModel, table=True):
    __tablename__ = "access_request"
    __table_args__ = (Index("ix_access_request_record_status", "record_id", "status"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    # Deliberately no foreign key: a request naming an id that does not exist is
    # stored exactly like one naming a record the requester cannot read, so the
    # answer to "request access" never tells the two apart.
    record_id: uuid.UUID
    requester_id: uuid.UUID = Field(foreign_key="user_account.id", index=True)
    requester_agency_id: uuid.UUID = Field(foreign_key="agency.id")
    reason: str = Field(sa_type=Text)
    status: AccessRequestStatus = Field(default=AccessRequestStatus.PENDING, sa_type=String(16))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    decided_by_id: uuid.UUID | None = Field(default=None, foreign_key="user_account.id")
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decision_note: str = Field(default="", max_length=1000)
    grant_expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

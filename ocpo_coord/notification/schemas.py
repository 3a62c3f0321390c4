"""Notification payloads."""

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from ocpo_coord.models.enums import NotificationKind


class NotificationFilter(BaseModel):
    model_config = ConfigDict(extra="forbid")

    unread: bool | None = Field(default=None, description="Only unread (true) or only read (false).")
    kind: NotificationKind | None = None


class NotificationPublic(BaseModel):
    id: uuid.UUID
    kind: NotificationKind
    subject_id: uuid.UUID = Field(description="The hit, task, request or transfer this is about.")
    record_id: uuid.UUID | None = Field(description="The record concerned, only while you may read it.")
    title: str
    body: str
    created_at: datetime
    read_at: datetime | None


class NotificationPage(BaseModel):
    items: list[NotificationPublic]
    next_cursor: str | None
    total_count: int
    unread_count: int


class MarkRead(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ids: list[uuid.UUID] = Field(default_factory=list, max_length=100, description="Empty: all of yours.")


class MarkReadResult(BaseModel):
    marked: int

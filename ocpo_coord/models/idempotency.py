"""Responses to REST creates, kept by Idempotency-Key so a retried request creates nothing new."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON
from sqlmodel import Field, SQLModel

from ocpo_coord.models.base import UTCDateTime, utcnow


class IdempotencyRecord(SQLModel, table=True):
    __tablename__ = "idempotency_key"

    # Keys are per user: one user's key can never replay another user's answer.
    user_id: uuid.UUID = Field(foreign_key="user_account.id", primary_key=True)
    key: str = Field(max_length=200, primary_key=True)
    route: str = Field(max_length=200)
    request_hash: str = Field(max_length=64)
    status_code: int = 0
    response_body: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)

"""Audit log payloads for auditors."""

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ocpo_coord.records.schemas import DateTimeText


class AuditFilter(BaseModel):
    model_config = ConfigDict(extra="forbid")

    record_id: uuid.UUID | None = None
    action: str | None = Field(default=None, max_length=64, pattern=r"^[a-z_.]+$")
    actor: str | None = Field(default=None, max_length=100, description="Login of the actor.")
    since: DateTimeText | None = None


class AuditEventPublic(BaseModel):
    seq: int
    id: uuid.UUID
    at: datetime
    actor_name: str
    agency: str | None
    request_id: str
    action: str
    record_kind: str | None
    record_id: uuid.UUID | None
    record_ids: list[uuid.UUID] = Field(
        default_factory=list,
        description="For an entry about several records (a list page, nested fields): "
        "those of them you may read.",
    )
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    detail: str
    hash: str = Field(
        description="The entry's leaf hash in the audit log's Merkle tree (hex); entries written "
        "before the tree show the hash of the chain they were written in."
    )


class AuditPage(BaseModel):
    items: list[AuditEventPublic]
    next_cursor: str | None

"""Timeline note payloads."""

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from ocpo_coord.records.schemas import MarkingsInput, MarkingsPublic, UpdateModel, Version


class NoteCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    case_id: uuid.UUID
    body: str = Field(min_length=1, max_length=20_000)
    markings: MarkingsInput = Field(default_factory=MarkingsInput)


class NoteUpdate(UpdateModel):
    expected_version: Version | None = None
    body: str | None = Field(default=None, min_length=1, max_length=20_000)
    markings: MarkingsInput | None = None


class NotePublic(BaseModel):
    id: uuid.UUID
    case_id: uuid.UUID
    body: str
    author: str | None
    created_at: datetime
    updated_at: datetime
    version: int
    markings: MarkingsPublic

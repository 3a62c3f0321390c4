"""Evidence and document payloads."""

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from ocpo_coord.evidence.store import DIGEST
from ocpo_coord.models.enums import EvidenceKind
from ocpo_coord.records.schemas import (
    AgencyCode,
    ByteCount,
    Login,
    MarkingsInput,
    MarkingsPublic,
    UpdateModel,
    Version,
    ZonedDatetime,
)

Sha256 = Field(default=None, pattern=rf"^{DIGEST}$", description="Lower-case hex SHA-256.")


class CustodyTransfer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    holder_agency: AgencyCode
    holder_login: Login | None = None
    received_at: ZonedDatetime
    location: str = Field(min_length=1, max_length=300)
    note: str = Field(default="", max_length=1000)


class EvidenceCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    case_id: uuid.UUID
    evidence_kind: EvidenceKind
    title: str = Field(min_length=1, max_length=300)
    description: str = Field(default="", max_length=20_000)
    sha256: str | None = Sha256
    file_name: str | None = Field(default=None, min_length=1, max_length=300)
    size_bytes: ByteCount | None = None
    storage_location: str = Field(default="", max_length=300)
    collected_at: ZonedDatetime | None = None
    markings: MarkingsInput = Field(default_factory=MarkingsInput)


class EvidenceUpdate(UpdateModel):
    expected_version: Version | None = None
    title: str | None = Field(default=None, min_length=1, max_length=300)
    description: str | None = Field(default=None, max_length=20_000)
    storage_location: str | None = Field(default=None, max_length=300)
    custody_transfer: CustodyTransfer | None = None
    markings: MarkingsInput | None = None


class CustodyEventPublic(BaseModel):
    holder_agency: str
    holder: str | None
    received_at: datetime
    location: str
    note: str


class EvidencePublic(BaseModel):
    id: uuid.UUID
    case_id: uuid.UUID | None
    evidence_kind: EvidenceKind
    title: str
    description: str
    sha256: str | None
    file_name: str | None
    size_bytes: int | None
    storage_location: str
    # The file's bytes are kept here: GET /api/v1/evidence/{id}/file gives them.
    content_stored: bool
    collected_at: datetime | None
    custody: list[CustodyEventPublic]
    created_at: datetime
    updated_at: datetime
    version: int
    markings: MarkingsPublic

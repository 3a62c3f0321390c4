"""Sharing administration payloads: groups, agreements (MoUs) and grants, curated."""

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from ocpo_coord.models.enums import Classification
from ocpo_coord.records.schemas import NAMED_DEFAULT, AgencyCode, ClassificationName, Login, ZonedDatetime

GroupName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
AgreementTitle = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
GrantReason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]


class SharingGroupCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: GroupName = Field(description="Unique among your agency's groups.")
    members: list[AgencyCode] = Field(
        default_factory=list, max_length=100, description="Member agencies, by code."
    )


class SharingGroupUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: GroupName | None = None


class SharingGroupMemberChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    agency: AgencyCode = Field(description="The member agency's code.")


class SharingGroupPublic(BaseModel):
    id: uuid.UUID
    name: str
    owner_agency: str
    members: list[str]
    created_at: datetime


class AgreementStatus(StrEnum):
    PENDING = "pending"
    IN_FORCE = "in_force"
    ENDED = "ended"


class AgreementCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: AgreementTitle
    grantee_agency: AgencyCode = Field(description="The agency whose users the agreement lets read.")
    valid_from: ZonedDatetime
    valid_until: ZonedDatetime = Field(description="Exclusive end: after the start, and in the future.")
    max_classification: ClassificationName = Field(
        default=Classification.RESTRICTED,
        json_schema_extra=NAMED_DEFAULT,
        description="The highest classification the agreement covers.",
    )


class AgreementPublic(BaseModel):
    id: uuid.UUID
    title: str
    grantor_agency: str
    grantee_agency: str
    valid_from: datetime
    valid_until: datetime
    max_classification: ClassificationName
    status: AgreementStatus
    created_at: datetime


class GrantCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    agency: AgencyCode | None = Field(
        default=None, description="The agency granted access, by code; an agency or a user, not both."
    )
    user: Login | None = Field(
        default=None, description="The user granted access, by login; an agency or a user, not both."
    )
    expires_at: ZonedDatetime = Field(description="Required: in the future, at most 365 days ahead.")
    reason: GrantReason


class GrantPublic(BaseModel):
    id: uuid.UUID
    record_id: uuid.UUID
    agency: str | None
    user: str | None
    expires_at: datetime | None
    reason: str
    granted_by: str | None
    created_at: datetime
    active: bool = Field(description="False once the grant has expired.")

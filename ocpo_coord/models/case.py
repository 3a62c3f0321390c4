"""Criminal cases, their crime types, participating agencies and named members."""

import uuid
from datetime import date

from sqlalchemy import String, Text
from sqlmodel import Field, SQLModel

from ocpo_coord.models.enums import CaseAgencyRole, CaseStatus, CrimeType, JudicialStage, Priority


class Case(SQLModel, table=True):
    __tablename__ = "case_file"  # "case" is an SQL keyword

    id: uuid.UUID = Field(foreign_key="record.id", primary_key=True)
    reference: str = Field(max_length=64, unique=True)
    title: str = Field(max_length=300)
    summary: str = Field(default="", sa_type=Text)
    status: CaseStatus = Field(default=CaseStatus.OPEN, sa_type=String(16), index=True)
    judicial_stage: JudicialStage = Field(default=JudicialStage.INVESTIGATION, sa_type=String(16))
    priority: Priority = Field(default=Priority.MEDIUM, sa_type=String(16))
    lead_agency_id: uuid.UUID = Field(foreign_key="agency.id", index=True)
    restricted: bool = False
    opened_on: date | None = None


class CaseCrimeType(SQLModel, table=True):
    __tablename__ = "case_crime_type"

    case_id: uuid.UUID = Field(foreign_key="case_file.id", primary_key=True)
    crime_type: CrimeType = Field(sa_type=String(40), primary_key=True, index=True)


class CaseAgency(SQLModel, table=True):
    """An agency taking part in a case besides the lead."""

    __tablename__ = "case_agency"

    case_id: uuid.UUID = Field(foreign_key="case_file.id", primary_key=True)
    agency_id: uuid.UUID = Field(foreign_key="agency.id", primary_key=True, index=True)
    role: CaseAgencyRole = Field(default=CaseAgencyRole.PARTICIPANT, sa_type=String(16))


class CaseMember(SQLModel, table=True):
    """Named members: for a restricted case, the only people who may read it."""

    __tablename__ = "case_member"

    case_id: uuid.UUID = Field(foreign_key="case_file.id", primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="user_account.id", primary_key=True, index=True)

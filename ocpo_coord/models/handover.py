"""Handovers: an inventory of lines, each ending in one recorded disposition.

A line points at what it accounts for (a record, a responsibility, a position) by
id without a foreign key to the record: the inventory must outlive anything that
happens to the subject, because the report has to account for every line forever.
"""

import uuid
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Index, String, Text, UniqueConstraint, true
from sqlmodel import Field, SQLModel

from ocpo_coord.models.base import UTCDateTime, new_id, utcnow
from ocpo_coord.models.enums import (
    ConsentStatus,
    DeclineOutcome,
    Disposition,
    HandoverKind,
    HandoverStatus,
    LineKind,
)


class Handover(SQLModel, table=True):
    __tablename__ = "handover"
    __table_args__ = (
        CheckConstraint("outgoing_agency_id <> incoming_agency_id OR kind = 'rotation'", name="two_sides"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    reference: str = Field(max_length=64, unique=True)
    kind: HandoverKind = Field(default=HandoverKind.MISSION, sa_type=String(16))
    title: str = Field(max_length=300)
    scope: str = Field(default="", sa_type=Text)
    outgoing_agency_id: uuid.UUID = Field(foreign_key="agency.id", index=True)
    incoming_agency_id: uuid.UUID = Field(foreign_key="agency.id", index=True)
    theatre_id: uuid.UUID = Field(foreign_key="theatre.id", index=True)
    # Rotation handovers move one position holder's work to the next.
    outgoing_position_id: uuid.UUID | None = Field(default=None, foreign_key="position.id")
    incoming_position_id: uuid.UUID | None = Field(default=None, foreign_key="position.id")
    outgoing_user_id: uuid.UUID | None = Field(default=None, foreign_key="user_account.id")
    incoming_user_id: uuid.UUID | None = Field(default=None, foreign_key="user_account.id")
    cut_off: date
    status: HandoverStatus = Field(default=HandoverStatus.DRAFT, sa_type=String(16), index=True)
    created_by_id: uuid.UUID | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    inventory_built_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    submitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reviewed_by_id: uuid.UUID | None = Field(default=None, foreign_key="user_account.id")
    reviewed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    review_note: str = Field(default="", max_length=2000)
    outgoing_signed_by_id: uuid.UUID | None = Field(default=None, foreign_key="user_account.id")
    outgoing_signed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    incoming_signed_by_id: uuid.UUID | None = Field(default=None, foreign_key="user_account.id")
    incoming_signed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    completed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    cancelled_reason: str = Field(default="", max_length=2000)
    # Records in scope without a line, counted when the handover completed.
    dropped_count: int | None = None
    # Set on an installation that imported this handover from another one.
    source_installation: str | None = Field(default=None, max_length=100)
    source_handover_id: uuid.UUID | None = None
    version: int = 1


class HandoverLine(SQLModel, table=True):
    __tablename__ = "handover_line"
    __table_args__ = (
        UniqueConstraint("handover_id", "kind", "subject_id", name="one_line_per_subject"),
        Index("ix_handover_line_handover_disposition", "handover_id", "disposition", "seq"),
        CheckConstraint("(kind = 'checklist') = (subject_id IS NULL)", name="subject_unless_checklist"),
        CheckConstraint(
            "disposition <> 'declined' OR (reason <> '' AND (decline_outcome IS NOT NULL OR kind = 'checklist'))",
            name="declined_says_why",
        ),
        CheckConstraint("disposition <> 'withheld' OR reason <> ''", name="withheld_says_why"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    handover_id: uuid.UUID = Field(foreign_key="handover.id")
    seq: int
    kind: LineKind = Field(sa_type=String(16))
    subject_id: uuid.UUID | None = None
    # The in-scope case a child record hangs off, for filtering and grouping.
    case_id: uuid.UUID | None = None
    # Checklist lines: what to do, who does it, by when, and the proof it was done.
    title: str = Field(default="", max_length=300)
    owner_user_id: uuid.UUID | None = Field(default=None, foreign_key="user_account.id")
    due_date: date | None = None
    completion_evidence: str = Field(default="", max_length=2000)
    # A host-nation receiver must not learn that NOHOST material exists at all.
    hidden_from_incoming: bool = False
    disposition: Disposition = Field(default=Disposition.OPEN, sa_type=String(16))
    reason: str = Field(default="", max_length=2000)
    decline_outcome: DeclineOutcome | None = Field(default=None, sa_type=String(32))
    decided_by_id: uuid.UUID | None = Field(default=None, foreign_key="user_account.id")
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Third-party material moves only with its originator's recorded consent.
    consent_agency_id: uuid.UUID | None = Field(default=None, foreign_key="agency.id", index=True)
    consent_status: ConsentStatus = Field(default=ConsentStatus.NOT_REQUIRED, sa_type=String(16))
    consent_by_id: uuid.UUID | None = Field(default=None, foreign_key="user_account.id")
    consent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    consent_note: str = Field(default="", max_length=2000)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ChecklistTemplateItem(SQLModel, table=True):
    """One line every handover of an agency starts with; agency None = the default."""

    __tablename__ = "checklist_template_item"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    agency_id: uuid.UUID | None = Field(default=None, foreign_key="agency.id", index=True)
    title: str = Field(max_length=300)
    # Days before the cut-off the item falls due.
    due_days_before_cut_off: int = 0
    sort_order: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Installation(SQLModel, table=True):
    """This installation's identity, named in the packages it exports."""

    __tablename__ = "installation"
    # One row at most: two first uses at once must agree on one identity.
    __table_args__ = (
        UniqueConstraint("singleton", name="one_installation"),
        CheckConstraint("singleton", name="singleton"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    name: str = Field(max_length=100)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    singleton: bool = Field(default=True, sa_column_kwargs={"server_default": true()})


class ImportedRecord(SQLModel, table=True):
    """Old id (in the source installation) to new id: makes a re-import a no-op."""

    __tablename__ = "imported_record"
    __table_args__ = (UniqueConstraint("source_installation", "source_id", name="once_per_source"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    source_installation: str = Field(max_length=100)
    source_handover_id: uuid.UUID = Field(index=True)
    source_id: uuid.UUID
    target_id: uuid.UUID
    kind: str = Field(max_length=32)
    imported_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

"""Deconfliction hits, responsibility transfers and per-user notifications."""

import uuid
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Index, String, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from ocpo_coord.models.base import UTCDateTime, new_id, utcnow
from ocpo_coord.models.enums import HitKind, HitOutcome, HitStatus, NotificationKind, TransferStatus


class DeconflictionHit(SQLModel, table=True):
    """One agency's side of a hit: "agency X holds something matching; contact Y".

    Both sides of one collision share ``pair_id``. A side names the other side's record
    (``other_record_id``) so that the hit can be shown in full to a reader who may read
    that record already; everyone else sees only the other agency, the kind of match
    and the contact position. A host-nation agency never gets a side about a NOHOST
    record, so a hit may have one side only.
    """

    __tablename__ = "deconfliction_hit"
    __table_args__ = (
        UniqueConstraint(
            "agency_id",
            "record_id",
            "other_record_id",
            "match_kind",
            name="uq_deconfliction_hit_one_per_match",
        ),
        CheckConstraint("agency_id <> other_agency_id", name="distinct_agencies"),
        Index("ix_deconfliction_hit_agency_created", "agency_id", "created_at", "id"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    pair_id: uuid.UUID = Field(index=True)
    hit_kind: HitKind = Field(sa_type=String(16))
    # The selector kind for selector hits; the two operation kinds ("raid/surveillance")
    # for operation hits. Never a value from the other side.
    match_kind: str = Field(max_length=64)
    agency_id: uuid.UUID = Field(foreign_key="agency.id")
    record_id: uuid.UUID = Field(foreign_key="record.id", index=True)
    other_agency_id: uuid.UUID = Field(foreign_key="agency.id")
    other_record_id: uuid.UUID = Field(foreign_key="record.id", index=True)
    theatre_id: uuid.UUID | None = Field(default=None, foreign_key="theatre.id")
    recipient_position_id: uuid.UUID | None = Field(default=None, foreign_key="position.id")
    contact_position_id: uuid.UUID | None = Field(default=None, foreign_key="position.id")
    status: HitStatus = Field(default=HitStatus.OPEN, sa_type=String(16))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    acknowledged_by_id: uuid.UUID | None = Field(default=None, foreign_key="user_account.id")
    acknowledged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolved_by_id: uuid.UUID | None = Field(default=None, foreign_key="user_account.id")
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    outcome: HitOutcome | None = Field(default=None, sa_type=String(24))
    outcome_note: str = Field(default="", sa_type=Text)


class ResponsibilityTransfer(SQLModel, table=True):
    """An offer to hand a responsibility to another agency from an effective date.

    On acceptance the old responsibility ends the day before ``effective_date`` and a
    new one, for the receiving agency, starts on it.
    """

    __tablename__ = "responsibility_transfer"
    __table_args__ = (
        CheckConstraint("from_agency_id <> to_agency_id", name="distinct_agencies"),
        # At most one open offer per responsibility, on both dialects.
        Index(
            "uq_responsibility_transfer_one_offer",
            "responsibility_id",
            unique=True,
            sqlite_where=text("status = 'offered'"),
            postgresql_where=text("status = 'offered'"),
        ),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    responsibility_id: uuid.UUID = Field(foreign_key="responsibility.id", index=True)
    from_agency_id: uuid.UUID = Field(foreign_key="agency.id")
    to_agency_id: uuid.UUID = Field(foreign_key="agency.id", index=True)
    effective_date: date
    status: TransferStatus = Field(default=TransferStatus.OFFERED, sa_type=String(16))
    note: str = Field(default="", max_length=1000)
    offered_by_id: uuid.UUID = Field(foreign_key="user_account.id")
    offered_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    decided_by_id: uuid.UUID | None = Field(default=None, foreign_key="user_account.id")
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decision_note: str = Field(default="", max_length=1000)
    new_responsibility_id: uuid.UUID | None = Field(default=None, foreign_key="responsibility.id")


class Notification(SQLModel, table=True):
    """Something that concerns one user: a hit, an assignment, a request to decide.

    ``title`` and ``body`` are written to be safe to show for as long as the row lives
    (agency codes, position titles, kinds of match; never a record's content). The
    subject is named by kind and id with no foreign key, so later kinds (handover
    events, consent requests) need no new table. ``record_id``, when set, is shown only
    while the recipient may read that record.
    """

    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_recipient_created", "recipient_id", "created_at", "id"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    recipient_id: uuid.UUID = Field(foreign_key="user_account.id")
    kind: NotificationKind = Field(sa_type=String(32))
    subject_id: uuid.UUID
    record_id: uuid.UUID | None = None
    title: str = Field(max_length=300)
    body: str = Field(default="", max_length=2000)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    read_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

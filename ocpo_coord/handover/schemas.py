"""Handover payloads: the handover, its inventory lines, decisions and the report."""

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field, StrictBool, model_validator

from ocpo_coord.models.enums import (
    ConsentStatus,
    DeclineOutcome,
    Disposition,
    HandoverKind,
    HandoverStatus,
    LineKind,
)
from ocpo_coord.records.schemas import DateText, JsonInt


class HandoverCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=3, max_length=300)
    incoming_agency: str = Field(min_length=1, max_length=32, description="Code of the receiving agency.")
    theatre: str = Field(min_length=1, max_length=16, description="Code of the theatre handed over.")
    scope: str = Field(default="", max_length=5000, description="What the handover covers, in words.")
    cut_off: DateText = Field(
        description="The day responsibilities, positions and tours pass to the receiver. Every record the "
        "outgoing agency holds in the theatre is in scope, whenever it was created."
    )


class HandoverPublic(BaseModel):
    id: uuid.UUID
    reference: str
    kind: HandoverKind
    title: str
    scope: str
    outgoing_agency: str
    incoming_agency: str
    theatre: str
    cut_off: date
    status: HandoverStatus
    created_by: str | None
    created_at: datetime
    inventory_built_at: datetime | None
    submitted_at: datetime | None
    reviewed_by: str | None
    reviewed_at: datetime | None
    review_note: str
    outgoing_signed_by: str | None
    outgoing_signed_at: datetime | None
    incoming_signed_by: str | None
    incoming_signed_at: datetime | None
    completed_at: datetime | None
    cancelled_reason: str
    source_installation: str | None
    version: int
    line_counts: dict[str, int] = Field(description="Lines by disposition, as the reader sees them.")


class LinePublic(BaseModel):
    """One inventory line. A reader who may not read its record gets a stub: where the
    line stands and whom to ask, nothing about the record (not its id, kind or owner)."""

    id: uuid.UUID = Field(description="The line; for a stub, also the handle to request access with.")
    seq: int
    kind: LineKind | None = Field(description="Null on a stub.")
    subject_id: uuid.UUID | None
    case_id: uuid.UUID | None
    label: str
    readable: bool
    owner_agency: str | None
    originator_agency: str | None
    classification: str | None
    title: str
    owner: str | None
    due_date: date | None
    completion_evidence: str
    disposition: Disposition
    reason: str
    decline_outcome: DeclineOutcome | None
    decided_by: str | None
    decided_at: datetime | None
    consent_agency: str | None
    consent_status: ConsentStatus
    consent_by: str | None
    consent_at: datetime | None
    consent_note: str
    ask: str | None = Field(description="On a stub, whom to ask about it (agency: position).")


class LineFilter(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: LineKind | None = None
    disposition: Disposition | None = None
    consent_status: ConsentStatus | None = None
    case_id: uuid.UUID | None = None
    line_ids: list[uuid.UUID] | None = Field(default=None, max_length=10000)


class LineDecision(BaseModel):
    """One disposition for every line the filter selects (bulk) or for one line."""

    model_config = ConfigDict(extra="forbid")

    disposition: Disposition
    reason: str = Field(default="", max_length=2000)
    decline_outcome: DeclineOutcome | None = None
    completion_evidence: str = Field(default="", max_length=2000, description="Checklist lines only.")

    @model_validator(mode="after")
    def _explained(self) -> "LineDecision":
        if self.disposition is Disposition.OPEN:
            raise ValueError("disposition: a decision cannot reopen a line; use reopen")
        if self.disposition in (Disposition.DECLINED, Disposition.WITHHELD) and not self.reason.strip():
            raise ValueError(f"reason: a {self.disposition.value} line needs a reason")
        return self


class BulkDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    filter: LineFilter = Field(default_factory=LineFilter)
    decision: LineDecision


class BulkResult(BaseModel):
    decided: int
    skipped: dict[str, int] = Field(description="Lines left as they were, counted by reason.")


class ConsentAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    grant: StrictBool
    note: str = Field(default="", max_length=2000)


class ConsentRequestPublic(BaseModel):
    line_id: uuid.UUID
    handover_id: uuid.UUID
    handover_reference: str
    outgoing_agency: str
    incoming_agency: str
    kind: LineKind | None = Field(description="Null when you may not read the record.")
    subject_id: uuid.UUID | None
    label: str
    consent_status: ConsentStatus
    consent_at: datetime | None


class ReviewInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    approve: StrictBool
    note: str = Field(default="", max_length=2000)

    @model_validator(mode="after")
    def _returned_says_why(self) -> "ReviewInput":
        if not self.approve and not self.note.strip():
            raise ValueError("note: say why the handover goes back for more work")
        return self


class CancelInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=5, max_length=2000)


class ChecklistItemCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=3, max_length=300)
    due_days_before_cut_off: JsonInt = Field(default=0, ge=0, le=365)
    sort_order: JsonInt = Field(default=0, ge=0, le=1000)


class ChecklistItemPublic(BaseModel):
    id: uuid.UUID
    agency: str | None
    title: str
    due_days_before_cut_off: int
    sort_order: int


class ReportLine(BaseModel):
    seq: int
    kind: LineKind | None = Field(description="Null on a stub (a line whose record you may not read).")
    subject_id: uuid.UUID | None
    label: str
    disposition: Disposition
    reason: str
    decline_outcome: DeclineOutcome | None
    decided_by: str | None
    decided_at: datetime | None
    consent_agency: str | None
    consent_status: ConsentStatus
    consent_by: str | None
    ask: str | None = Field(default=None, description="On a stub, whom to ask about it.")
    marking: str | None = Field(
        default=None, description="The record's short marking, e.g. (C AMBER NOHOST), where you may read it."
    )


class HandoverReport(BaseModel):
    handover: HandoverPublic
    total_lines: int
    decided_lines: int
    completeness: float = Field(description="Decided lines over all lines, 0 to 1.")
    dropped_records: int = Field(description="Records in scope without a line. Must be zero.")
    by_disposition: dict[str, int]
    by_kind: dict[str, dict[str, int]]
    lines: list[ReportLine]
    banner: str = Field(
        description="The report's overall marking: the highest classification, narrowest TLP and every "
        "caveat of the records it names, printed at its top and bottom."
    )
    generated_at: datetime


class RotationCreate(BaseModel):
    """A position-to-position handover when a person's tour ends."""

    model_config = ConfigDict(extra="forbid")

    outgoing_user: str = Field(min_length=1, max_length=100, description="Login of the person leaving.")
    incoming_user: str = Field(min_length=1, max_length=100, description="Login of the successor.")
    theatre: str = Field(min_length=1, max_length=16)
    cut_off: DateText = Field(
        description="Last day of the outgoing tour; the successor starts the day after."
    )
    title: str = Field(default="", max_length=300)


class TourPublic(BaseModel):
    position_id: uuid.UUID
    position: str
    start_date: date
    end_date: date | None


class OpenTaskPublic(BaseModel):
    id: uuid.UUID
    title: str
    status: str
    due_date: date | None
    via_position: bool = Field(description="Assigned to one of the person's positions rather than to them.")


class MemberCasePublic(BaseModel):
    id: uuid.UUID
    reference: str
    title: str
    status: str


class TourEndReport(BaseModel):
    """What a person leaves behind: everything here must be reassigned."""

    login: str
    display_name: str
    agency: str | None
    tours: list[TourPublic]
    open_tasks: list[OpenTaskPublic]
    cases: list[MemberCasePublic] = Field(
        description="Open cases the person is a member of. Like open tasks, only those the reader "
        "may read, and no count of the others."
    )


class TourEndingPublic(BaseModel):
    login: str
    display_name: str
    position: str
    end_date: date


class ChecklistAssignment(BaseModel):
    """Who does a checklist line, and by when."""

    model_config = ConfigDict(extra="forbid")

    owner: str | None = Field(default=None, max_length=100, description="Login of a user of either agency.")
    due_date: DateText | None = None

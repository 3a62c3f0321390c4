"""Lines as a reader sees them: a subject's title only if the reader may read it.

Everyone else gets a stub naming the kind of record and whom to ask, which is what
PRODUCT.md promises the receiver of material whose originator did not consent.
"""

import uuid

from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.api.printable import Marking
from ocpo_coord.audit.reads import ReadWay, note_reads
from ocpo_coord.auth.directory import user_logins
from ocpo_coord.context import Actor
from ocpo_coord.db.queries import rows_by_id
from ocpo_coord.handover import repository
from ocpo_coord.handover.schemas import LinePublic
from ocpo_coord.models import HandoverLine, Position, Record, Responsibility
from ocpo_coord.models.enums import Classification, LineKind, Tlp
from ocpo_coord.visibility.repository import agency_codes, readable_record_ids, records_by_id

_RECORD_KINDS = repository.RECORD_LINE_KINDS


class LineViews:
    """Labels, readability and contacts for a batch of lines, in a fixed number of queries."""

    def __init__(self, session: AsyncSession, actor: Actor) -> None:
        self.session = session
        self.actor = actor
        self.codes: dict[uuid.UUID, str] = {}
        self.records: dict[uuid.UUID, Record] = {}
        self.readable: set[uuid.UUID] = set()
        self.labels: dict[uuid.UUID, str] = {}
        self.responsibilities: dict[uuid.UUID, Responsibility] = {}
        self.positions: dict[uuid.UUID, Position] = {}
        self.logins: dict[uuid.UUID, str] = {}
        self.contacts: dict[uuid.UUID, str] = {}

    async def load(self, lines: list[HandoverLine]) -> "LineViews":
        record_ids = [ln.subject_id for ln in lines if ln.subject_id and LineKind(ln.kind) in _RECORD_KINDS]
        self.codes = await agency_codes(self.session)
        self.records = await records_by_id(self.session, record_ids)
        self.readable = await readable_record_ids(
            self.session, self.actor.principal, self.actor.now, record_ids
        )
        # A readable subject's line shows its title and classification: a read.
        note_reads(self.session, self.actor, ReadWay.HANDOVER_LINE, (self.records[i] for i in self.readable))
        self.labels = await repository.record_labels(self.session, self.readable)
        self.responsibilities = await rows_by_id(
            self.session,
            Responsibility,
            [ln.subject_id for ln in lines if ln.kind == LineKind.RESPONSIBILITY and ln.subject_id],
        )
        self.positions = await rows_by_id(
            self.session,
            Position,
            [ln.subject_id for ln in lines if ln.kind == LineKind.POSITION and ln.subject_id],
        )
        people = (
            {ln.decided_by_id for ln in lines}
            | {ln.consent_by_id for ln in lines}
            | {ln.owner_user_id for ln in lines}
        )
        self.logins = await user_logins(self.session, {p for p in people if p is not None})
        stubs = [ln for ln in lines if self._is_stub(ln)]
        for agency_id in {a for a in map(self._contact_agency, stubs) if a is not None}:
            contact = await repository.contact_position(self.session, agency_id)
            self.contacts[agency_id] = (
                f"{self.codes.get(agency_id, '?')}: {contact.title}"
                if contact
                else self.codes.get(agency_id, "?")
            )
        return self

    def label(self, line: HandoverLine) -> str:
        kind = LineKind(line.kind)
        if kind is LineKind.CHECKLIST:
            return line.title
        if kind is LineKind.RESPONSIBILITY and line.subject_id in self.responsibilities:
            r = self.responsibilities[line.subject_id]
            where = f", {r.region}" if r.region else ""
            return f"{r.role} for {r.activity_area}{where}"
        if kind is LineKind.POSITION and line.subject_id in self.positions:
            return self.positions[line.subject_id].title
        if line.subject_id in self.readable:
            return self.labels.get(line.subject_id, kind.value)
        return "a record you may not read"

    def marking(self, line: HandoverLine) -> Marking | None:
        """The handling of a line's record, for a reader who may read it."""
        if line.subject_id not in self.readable:
            return None
        record = self.records[line.subject_id]
        return Marking(
            Classification(record.classification),
            Tlp(record.tlp),
            record.orcon,
            record.nohost,
            record.restricted_case_id is not None,
        )

    def _is_stub(self, line: HandoverLine) -> bool:
        """A line about a record the reader may not read, or one that is not here (a
        package's refused-consent stub at the receiving installation)."""
        return LineKind(line.kind) in _RECORD_KINDS and line.subject_id not in self.readable

    def _contact_agency(self, line: HandoverLine) -> uuid.UUID | None:
        """Whom a stub's reader asks: the agency whose consent it waits for, or its holder."""
        if line.consent_agency_id is not None:
            return line.consent_agency_id
        record = self.records.get(line.subject_id) if line.subject_id else None
        return record.owner_agency_id if record is not None else None

    def public(self, line: HandoverLine) -> LinePublic:
        if self._is_stub(line):
            return self.stub(line)
        record = self.records.get(line.subject_id) if line.subject_id else None
        return LinePublic(
            id=line.id,
            seq=line.seq,
            kind=line.kind,
            subject_id=line.subject_id,
            case_id=line.case_id if line.case_id in self.readable else None,
            label=self.label(line),
            readable=True,
            owner_agency=self.codes.get(record.owner_agency_id) if record else None,
            originator_agency=self.codes.get(record.originator_agency_id) if record else None,
            classification=Classification(record.classification).name if record else None,
            title=line.title,
            owner=self.logins.get(line.owner_user_id) if line.owner_user_id else None,
            due_date=line.due_date,
            completion_evidence=line.completion_evidence,
            disposition=line.disposition,
            reason=line.reason,
            decline_outcome=line.decline_outcome,
            decided_by=self.logins.get(line.decided_by_id) if line.decided_by_id else None,
            decided_at=line.decided_at,
            consent_agency=self.codes.get(line.consent_agency_id) if line.consent_agency_id else None,
            consent_status=line.consent_status,
            consent_by=self.logins.get(line.consent_by_id) if line.consent_by_id else None,
            consent_at=line.consent_at,
            consent_note=line.consent_note,
            ask=None,
        )

    def stub(self, line: HandoverLine) -> LinePublic:
        """A line whose record the reader may not read: that an agency holds something,
        whom to ask, and where the line stands. Never the record's id, kind, title,
        case, markings, owner or originator, nor the words of decisions about it, which
        may quote it; who decided the line stays, for the handover's own account. The line's id is the handle for an access request (``handover_line_id``)."""
        agency = self._contact_agency(line)
        contact = self.contacts.get(agency) if agency is not None else None
        return LinePublic(
            id=line.id,
            seq=line.seq,
            kind=None,
            subject_id=None,
            case_id=None,
            label=self.label(line),
            readable=False,
            owner_agency=None,
            originator_agency=None,
            classification=None,
            title="",
            owner=None,
            due_date=None,
            completion_evidence="",
            disposition=line.disposition,
            reason="",
            decline_outcome=None,
            decided_by=self.logins.get(line.decided_by_id) if line.decided_by_id else None,
            decided_at=line.decided_at,
            consent_agency=None,
            consent_status=line.consent_status,
            consent_by=None,
            consent_at=None,
            consent_note="",
            ask=contact,
        )

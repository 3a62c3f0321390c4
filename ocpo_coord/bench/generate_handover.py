"""The benchmark's completed handover: some of the theatre's cases, with what hangs off
them, as they stand once both sides signed and the handover completed.

The lines follow the product's mission scope (``handover.repository.scope_of``): the
cases, then their children (evidence, notes, open tasks) and the intelligence linked
to them, each record once. Completion follows ``handover.completion``: what the
outgoing agency held is re-owned by the receiver, with a provenance line; what another
agency holds is released to the receiver, with its originator's recorded consent.
The visibility index of every record touched is rewritten, as the session's flush
hook would.

The generator's cases are spread over every agency; the chosen ones count as the
outgoing agency's (it leads them), their children and intelligence keep their own
owners. TLP:RED material is read by named individuals only, so the receiver declines
it (the outgoing agency retains it) rather than take records nobody there could read.

Everything is Core statements in chunks, like the rest of the generator: a handover of
20,000 cases moves over 100,000 records.
"""

import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, Engine, case, insert, or_, select, update

from ocpo_coord.models import Case, Handover, HandoverLine, IntelCase, Record, RecordRelease, Task
from ocpo_coord.models.base import table_of
from ocpo_coord.models.enums import (
    ConsentStatus,
    DeclineOutcome,
    Disposition,
    HandoverStatus,
    LineKind,
    RecordKind,
    TaskStatus,
    Tlp,
)
from ocpo_coord.visibility.reach import refresh as refresh_reach

REFERENCE = "BENCH-HANDOVER-1"
_CHUNK = 500
_CHILD_KINDS = {RecordKind.EVIDENCE.value: LineKind.EVIDENCE, RecordKind.NOTE.value: LineKind.NOTE}
_OPEN_TASK = [
    s.value for s in (TaskStatus.PROPOSED, TaskStatus.ACCEPTED, TaskStatus.IN_PROGRESS, TaskStatus.BLOCKED)
]

# Inserts rows of a table model, as the generator's loader does.
Insert = Callable[[Any, Iterable[dict[str, Any]]], None]


@dataclass(frozen=True, slots=True)
class Subject:
    """One line's record, and what its disposition and completion depend on."""

    kind: LineKind
    id: uuid.UUID
    case_id: uuid.UUID
    owner: uuid.UUID
    originator: uuid.UUID
    tlp: str

    @property
    def moves(self) -> bool:
        return self.tlp != Tlp.RED.value


@dataclass(frozen=True)
class Parties:
    """Who hands over to whom, and who signs, decides and consents."""

    outgoing: uuid.UUID
    incoming: uuid.UUID
    theatre: uuid.UUID
    codes: dict[uuid.UUID, str]
    # One user per agency: the receiver's signs and decides, an originator's consents.
    user_of: dict[uuid.UUID, uuid.UUID]


@dataclass(frozen=True)
class Moved:
    handover_id: uuid.UUID
    cases: int
    records: int
    lines: int


def _chunks(ids: list[uuid.UUID]) -> Iterator[list[uuid.UUID]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def _subject(kind: LineKind, row: Any, case_id: uuid.UUID) -> Subject:
    return Subject(kind, row.id, case_id, row.owner_agency_id, row.originator_agency_id, row.tlp)


def scope(conn: Connection, cases: list[uuid.UUID]) -> list[Subject]:
    """The cases in creation order, then chunk by chunk their children and the
    intelligence linked to them, each record once: the order ``scope_of`` gives."""
    record, task, links = table_of(Record), table_of(Task), table_of(IntelCase)
    columns = (record.c.id, record.c.owner_agency_id, record.c.originator_agency_id, record.c.tlp)
    order = (record.c.created_at, record.c.id)
    rows = [
        row
        for chunk in _chunks(cases)
        for row in conn.execute(select(*columns, record.c.created_at).where(record.c.id.in_(chunk)))
    ]
    rows.sort(key=lambda row: (row.created_at, row.id))
    found = [_subject(LineKind.CASE, row, row.id) for row in rows]
    seen = {s.id for s in found}
    for chunk in _chunks([s.id for s in found]):
        children = conn.execute(
            select(*columns, record.c.kind, record.c.parent_id)
            .outerjoin(task, task.c.id == record.c.id)
            .where(
                record.c.parent_id.in_(chunk),
                or_(record.c.kind.in_(list(_CHILD_KINDS)), task.c.status.in_(_OPEN_TASK)),
            )
            .order_by(*order)
        )
        for child in children:
            found.append(_subject(_CHILD_KINDS.get(child.kind, LineKind.TASK), child, child.parent_id))
            seen.add(child.id)
        linked = conn.execute(
            select(*columns, links.c.case_id)
            .join(links, links.c.intel_id == record.c.id)
            .where(links.c.case_id.in_(chunk))
            .order_by(*order)
        )
        for item in linked:
            if item.id not in seen:
                seen.add(item.id)
                found.append(_subject(LineKind.INTEL_ITEM, item, item.case_id))
    return found


def _line(
    handover_id: uuid.UUID, seq: int, subject: Subject, parties: Parties, now: datetime
) -> dict[str, Any]:
    third_party = subject.originator not in (parties.outgoing, parties.incoming)
    line: dict[str, Any] = {
        "id": uuid.uuid4(),
        "handover_id": handover_id,
        "seq": seq,
        "kind": subject.kind.value,
        "subject_id": subject.id,
        "case_id": subject.case_id,
        "title": "",
        "completion_evidence": "",
        "hidden_from_incoming": False,
        "disposition": Disposition.ACCEPTED.value,
        "reason": "",
        "decline_outcome": None,
        "decided_by_id": parties.user_of[parties.incoming],
        "decided_at": now,
        "consent_agency_id": subject.originator if third_party else None,
        "consent_status": (ConsentStatus.GRANTED if third_party else ConsentStatus.NOT_REQUIRED).value,
        "consent_by_id": parties.user_of[subject.originator] if third_party else None,
        "consent_at": now if third_party else None,
        "consent_note": "",
        "created_at": now,
    }
    if not subject.moves:
        line["disposition"] = Disposition.DECLINED.value
        line["reason"] = "TLP:RED, read by named individuals only"
        line["decline_outcome"] = DeclineOutcome.RETAINED.value
    return line


def _with_provenance(text: str) -> Any:
    provenance = table_of(Record).c.provenance
    return case((provenance == "", text), else_=provenance + "; " + text)


def _complete(conn: Connection, moving: list[Subject], parties: Parties, now: datetime) -> None:
    """``completion.Transfer`` for accepted record lines, a chunk of records at a time."""
    record, task, case_table = table_of(Record), table_of(Task), table_of(Case)
    given, receiver = parties.codes[parties.outgoing], parties.codes[parties.incoming]
    taken_note = (
        f"transferred from {given} to {receiver} under handover {REFERENCE} on {now.date().isoformat()}"
    )
    released_note = f"released to {receiver} with the originator's consent under handover {REFERENCE}"
    taken = [s.id for s in moving if s.kind is LineKind.CASE or s.owner == parties.outgoing]
    released = [s.id for s in moving if not (s.kind is LineKind.CASE or s.owner == parties.outgoing)]
    touched = {"version": record.c.version + 1, "updated_at": now}
    for chunk in _chunks(taken):
        conn.execute(
            update(record)
            .where(record.c.id.in_(chunk))
            .values(
                owner_agency_id=parties.incoming,
                custodian_agency_id=parties.incoming,
                provenance=_with_provenance(taken_note),
                **touched,
            )
        )
        conn.execute(
            update(case_table).where(case_table.c.id.in_(chunk)).values(lead_agency_id=parties.incoming)
        )
        conn.execute(
            update(task)
            .where(task.c.id.in_(chunk), task.c.lead_agency_id == parties.outgoing)
            .values(lead_agency_id=parties.incoming)
        )
    for chunk in _chunks(released):
        conn.execute(
            update(record)
            .where(record.c.id.in_(chunk))
            .values(provenance=_with_provenance(released_note), **touched)
        )
        # As completion does: a record already released to the receiver keeps its one release.
        releases = table_of(RecordRelease)
        held = set(
            conn.execute(
                select(releases.c.record_id).where(
                    releases.c.record_id.in_(chunk), releases.c.agency_id == parties.incoming
                )
            ).scalars()
        )
        fresh = [
            {"id": uuid.uuid4(), "record_id": rid, "agency_id": parties.incoming, "created_at": now}
            for rid in chunk
            if rid not in held
        ]
        if fresh:
            conn.execute(insert(releases), fresh)
    for chunk in _chunks(taken + released):
        refresh_reach(conn, chunk)


def completed_handover(engine: Engine, load: Insert, parties: Parties, cases: list[uuid.UUID]) -> Moved:
    """A completed mission handover of ``cases`` and everything in their scope."""
    now = datetime.now(UTC)
    handover_id = uuid.uuid4()
    receiver = parties.user_of[parties.incoming]
    load(
        Handover,
        [
            {
                "id": handover_id,
                "reference": REFERENCE,
                "kind": "mission",
                "title": "Benchmark handover",
                "scope": "",
                "outgoing_agency_id": parties.outgoing,
                "incoming_agency_id": parties.incoming,
                "theatre_id": parties.theatre,
                "cut_off": date(2026, 1, 1),
                "status": HandoverStatus.COMPLETED.value,
                "created_by_id": parties.user_of[parties.outgoing],
                "created_at": now,
                "outgoing_signed_by_id": parties.user_of[parties.outgoing],
                "outgoing_signed_at": now,
                "incoming_signed_by_id": receiver,
                "incoming_signed_at": now,
                "completed_at": now,
                "dropped_count": 0,
                "review_note": "",
                "cancelled_reason": "",
                "version": 1,
            }
        ],
    )
    with engine.connect() as conn:
        subjects = scope(conn, cases)
    load(
        HandoverLine,
        (_line(handover_id, seq, subject, parties, now) for seq, subject in enumerate(subjects, start=1)),
    )
    moving = [s for s in subjects if s.moves]
    with engine.begin() as conn:
        _complete(conn, moving, parties, now)
    return Moved(handover_id, cases=len(cases), records=len(moving), lines=len(subjects))

"""Export a completed handover as a BagIt package for the receiving installation.

Only what moved leaves: records on accepted lines, which after completion belong to
the receiver or were released to it with the originator's consent. Every one of them
must be readable by the person exporting (the sharing rule, in the database query);
if some are not, the export stops and says how many, rather than leave them behind.
Records are written one file at a time, so memory does not grow with the package.
"""

import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.audit.canonical import jsonable
from ocpo_coord.audit.service import record_event
from ocpo_coord.context import Actor
from ocpo_coord.directory.repository import theatre_codes, user_logins
from ocpo_coord.exceptions import Conflict, InvalidInput
from ocpo_coord.handover import repository
from ocpo_coord.handover.package import (
    FORMAT,
    RECORD_KINDS,
    dump_json,
    installation_identity,
    make_bag,
    stage,
    target_is_empty,
    unstage,
)
from ocpo_coord.handover.service import visible
from ocpo_coord.models import (
    Case,
    CaseAgency,
    CaseCrimeType,
    CaseMember,
    CustodyEvent,
    Evidence,
    HandoverLine,
    IntelCase,
    IntelItem,
    Note,
    Position,
    Record,
    RecordRelease,
    Responsibility,
    Task,
    TaskDependency,
    TaskSupportingAgency,
)
from ocpo_coord.models.base import column_values
from ocpo_coord.models.enums import Classification, Disposition, HandoverStatus, LineKind
from ocpo_coord.records.repository import agency_codes, readable_record_ids

_DOMAIN: dict[str, Any] = {
    "case": Case,
    "evidence": Evidence,
    "note": Note,
    "intel_item": IntelItem,
    "task": Task,
}


class ExportSummary(BaseModel):
    directory: str
    handover_reference: str
    source_installation: str
    records: int
    counts: dict[str, int]


async def export_handover(
    session: AsyncSession, *, actor: Actor, handover_id: uuid.UUID, directory: Path
) -> ExportSummary:
    handover = await visible(session, actor, handover_id)
    if handover.status != HandoverStatus.COMPLETED:
        raise Conflict(
            f"only a completed handover is exported; this one is {handover.status}", field="status"
        )
    if not target_is_empty(directory):
        raise InvalidInput(f"{directory} is not empty", field="directory")
    # The receiver's installation must never learn of lines hidden from it.
    lines = await repository.lines(session, repository.lines_statement(handover.id, include_hidden=False))
    moving = [
        ln
        for ln in lines
        if ln.disposition == Disposition.ACCEPTED and ln.subject_id and ln.kind in RECORD_KINDS
    ]
    wanted = [ln.subject_id for ln in moving if ln.subject_id]
    readable = set()
    for start in range(0, len(wanted), 500):
        readable |= await readable_record_ids(
            session, actor.principal, actor.now, wanted[start : start + 500]
        )
    unreadable = len(set(wanted) - readable)
    if unreadable:
        raise Conflict(
            f"{unreadable} transferred records are not readable by you; export as a user of the "
            "receiving agency with enough clearance",
            field="actor",
        )
    source = await installation_identity(session)
    writer = _Writer(session, directory / "payload-tmp")
    await writer.prepare()
    counts: Counter[str] = Counter()
    for line in moving:
        assert line.subject_id is not None
        await writer.record(line.kind, line.subject_id)
        counts[str(line.kind)] += 1
    await writer.coordination(lines)
    dump_json(writer.root / "handover.json", await writer.handover_json(handover, lines, source))
    unstage(writer.root, directory)
    codes = await agency_codes(session)
    make_bag(
        directory,
        {
            "Source-Organization": codes.get(handover.outgoing_agency_id, "?"),
            "External-Identifier": handover.reference,
            "External-Description": f"ocpo-coord handover {handover.reference}: {handover.title}"[:500],
            "Ocpo-Format": FORMAT,
            "Ocpo-Handover-Id": str(handover.id),
            "Ocpo-Source-Installation": source,
            "Ocpo-Record-Count": str(sum(counts.values())),
            "Ocpo-Counts": " ".join(f"{k}={counts.get(k, 0)}" for k in RECORD_KINDS),
            "Ocpo-Exported-At": actor.now.astimezone(UTC).isoformat(),
        },
    )
    await record_event(
        session,
        actor=actor,
        action="handover.export",
        record_kind="handover",
        record_id=handover.id,
        after={"records": sum(counts.values()), "counts": dict(counts), "source": source},
        detail=f"exported {handover.reference}",
    )
    return ExportSummary(
        directory=str(directory),
        handover_reference=handover.reference,
        source_installation=source,
        records=sum(counts.values()),
        counts=dict(counts),
    )


class _Writer:
    def __init__(self, session: AsyncSession, root: Path) -> None:
        self.session = session
        self.root = root
        self.codes: dict[uuid.UUID, str] = {}
        self.theatres: dict[uuid.UUID, str] = {}

    async def prepare(self) -> None:
        stage(self.root)
        self.codes = await agency_codes(self.session)
        self.theatres = await theatre_codes(self.session)

    def code(self, agency_id: uuid.UUID | None) -> str | None:
        return self.codes.get(agency_id) if agency_id else None

    async def login(self, user_id: uuid.UUID | None) -> str | None:
        if user_id is None:
            return None
        return (await user_logins(self.session, [user_id])).get(user_id)

    async def record(self, kind: str, record_id: uuid.UUID) -> None:
        record = await self.session.get(Record, record_id)
        row = await self.session.get(_DOMAIN[kind], record_id)
        assert record is not None
        assert row is not None
        releases = (
            await self.session.exec(select(RecordRelease).where(RecordRelease.record_id == record_id))
        ).all()
        named = await user_logins(self.session, [r.user_id for r in releases if r.user_id])
        data = jsonable({k: v for k, v in column_values(row).items() if k != "id"})
        payload: dict[str, Any] = {
            "id": str(record.id),
            "kind": kind,
            "markings": {
                "classification": Classification(record.classification).name,
                "tlp": record.tlp,
                "orcon": record.orcon,
                "nohost": record.nohost,
                "releasable_to": sorted(
                    self.codes[r.agency_id] for r in releases if r.agency_id in self.codes
                ),
                "named_readers": sorted(named.values()),
            },
            "originator_agency": self.code(record.originator_agency_id),
            "owner_agency": self.code(record.owner_agency_id),
            "custodian_agency": self.code(record.custodian_agency_id),
            "theatre": self.theatres.get(record.theatre_id) if record.theatre_id else None,
            "parent_id": str(record.parent_id) if record.parent_id else None,
            "restricted_case_id": str(record.restricted_case_id) if record.restricted_case_id else None,
            "provenance": record.provenance,
            "created_at": record.created_at.isoformat(),
            "created_by": await self.login(record.created_by_id),
            "data": data,
        }
        payload["links"] = await self._links(kind, record_id, data)
        dump_json(self.root / "records" / kind / f"{record_id}.json", payload)

    async def _links(self, kind: str, record_id: uuid.UUID, data: dict[str, Any]) -> dict[str, Any]:
        s = self.session
        if kind == "case":
            data["lead_agency_id"] = None
            case = await s.get(Case, record_id)
            members = (await s.exec(select(CaseMember.user_id).where(CaseMember.case_id == record_id))).all()
            agencies = (await s.exec(select(CaseAgency).where(CaseAgency.case_id == record_id))).all()
            crime = (
                await s.exec(select(CaseCrimeType.crime_type).where(CaseCrimeType.case_id == record_id))
            ).all()
            return {
                "lead_agency": self.code(case.lead_agency_id) if case else None,
                "crime_types": sorted(str(c) for c in crime),
                "agencies": [{"agency": self.code(a.agency_id), "role": a.role} for a in agencies],
                "members": sorted((await user_logins(s, members)).values()),
            }
        if kind == "intel_item":
            cases = (await s.exec(select(IntelCase.case_id).where(IntelCase.intel_id == record_id))).all()
            return {"case_ids": sorted(str(c) for c in cases)}
        if kind == "evidence":
            events = (
                await s.exec(
                    select(CustodyEvent)
                    .where(CustodyEvent.evidence_id == record_id)
                    .order_by(col(CustodyEvent.received_at))
                )
            ).all()
            return {
                "custody": [
                    {
                        "holder_agency": self.code(e.holder_agency_id),
                        "holder": await self.login(e.holder_user_id),
                        "received_at": e.received_at.isoformat(),
                        "location": e.location,
                        "note": e.note,
                    }
                    for e in events
                ]
            }
        if kind == "task":
            task = await s.get(Task, record_id)
            assert task is not None
            data["lead_agency_id"] = data["assignee_position_id"] = data["assignee_user_id"] = None
            support = (
                await s.exec(
                    select(TaskSupportingAgency.agency_id).where(TaskSupportingAgency.task_id == record_id)
                )
            ).all()
            deps = (
                await s.exec(select(TaskDependency.depends_on_id).where(TaskDependency.task_id == record_id))
            ).all()
            position = await s.get(Position, task.assignee_position_id) if task.assignee_position_id else None
            return {
                "lead_agency": self.code(task.lead_agency_id),
                "supporting_agencies": sorted(c for c in (self.code(a) for a in support) if c),
                "depends_on": sorted(str(d) for d in deps),
                "assignee": await self.login(task.assignee_user_id),
                "assignee_position": position.title if position else None,
            }
        return {}

    async def coordination(self, lines: list[HandoverLine]) -> None:
        accepted = [ln.subject_id for ln in lines if ln.disposition == Disposition.ACCEPTED and ln.subject_id]
        responsibilities = (
            await self.session.exec(select(Responsibility).where(col(Responsibility.id).in_(accepted)))
        ).all()
        positions = (await self.session.exec(select(Position).where(col(Position.id).in_(accepted)))).all()
        dump_json(
            self.root / "responsibilities.json",
            [
                jsonable(column_values(r))
                | {"agency": self.code(r.agency_id), "theatre": self.theatres.get(r.theatre_id)}
                for r in responsibilities
            ],
        )
        dump_json(
            self.root / "positions.json",
            [jsonable(column_values(p)) | {"agency": self.code(p.agency_id)} for p in positions],
        )

    async def handover_json(self, handover: Any, lines: list[HandoverLine], source: str) -> dict[str, Any]:
        logins = await user_logins(
            self.session, {u for ln in lines for u in (ln.decided_by_id, ln.consent_by_id) if u is not None}
        )
        return {
            "format": FORMAT,
            "source_installation": source,
            "exported_at": datetime.now(UTC).isoformat(),
            "handover": {
                "id": str(handover.id),
                "reference": handover.reference,
                "title": handover.title,
                "scope": handover.scope,
                "outgoing_agency": self.code(handover.outgoing_agency_id),
                "incoming_agency": self.code(handover.incoming_agency_id),
                "theatre": self.theatres.get(handover.theatre_id),
                "cut_off": handover.cut_off.isoformat(),
                "completed_at": handover.completed_at.isoformat() if handover.completed_at else None,
                "dropped_count": handover.dropped_count,
            },
            "lines": [
                {
                    "seq": ln.seq,
                    "kind": ln.kind,
                    "subject_id": str(ln.subject_id) if ln.subject_id else None,
                    "title": ln.title,
                    "disposition": ln.disposition,
                    "reason": ln.reason,
                    "decline_outcome": ln.decline_outcome,
                    "completion_evidence": ln.completion_evidence,
                    "decided_by": logins.get(ln.decided_by_id) if ln.decided_by_id else None,
                    "decided_at": ln.decided_at.isoformat() if ln.decided_at else None,
                    "consent_agency": self.code(ln.consent_agency_id),
                    "consent_status": ln.consent_status,
                    "consent_by": logins.get(ln.consent_by_id) if ln.consent_by_id else None,
                }
                for ln in lines
            ],
        }


# Used by the package reader to tell lines of records from other lines.
RECORD_LINE_KINDS = {LineKind(k) for k in RECORD_KINDS}

"""Import a verified handover package into this installation: all or nothing, once.

The package is verified first (fixity, completeness, no extra file); if anything is
wrong nothing is read further. Every record gets a new id here; the old-to-new map
is kept (``imported_record``) and makes a second import of the same package a no-op.
Records keep their markings (never widened: releases to agencies or people unknown
here are dropped, which only narrows), their originator and their provenance, plus a
line saying where they came from. The caller's transaction holds it all, so a failure
half-way leaves this database as it was.
"""

import uuid
from datetime import date, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.audit.service import record_event
from ocpo_coord.context import Actor
from ocpo_coord.directory.repository import theatre_by_code
from ocpo_coord.exceptions import Forbidden, InvalidInput
from ocpo_coord.handover.package import RECORD_KINDS, InvalidPackage, parse_uuid, read_json, verify_package
from ocpo_coord.models import (
    Agency,
    Case,
    CaseAgency,
    CaseCrimeType,
    CaseMember,
    CustodyEvent,
    Evidence,
    Handover,
    HandoverLine,
    ImportedRecord,
    IntelCase,
    IntelItem,
    Note,
    Record,
    RecordRelease,
    Task,
    TaskDependency,
    TaskSupportingAgency,
    User,
)
from ocpo_coord.models.enums import Classification, HandoverStatus, RecordKind, Role

_ORDER = ("case", "intel_item", "evidence", "note", "task")


class ImportSummary(BaseModel):
    handover_reference: str
    source_installation: str
    created: int
    already_imported: bool
    id_map: dict[str, str]


async def import_package(session: AsyncSession, *, actor: Actor, directory: Path) -> ImportSummary:
    check = verify_package(directory)
    if not check.ok:
        raise InvalidPackage("package failed verification: " + "; ".join(check.problems), field="package")
    root = directory / "data"
    manifest = read_json(root / "handover.json")
    source = str(manifest["source_installation"])
    header = manifest["handover"]
    source_handover = parse_uuid(header["id"], "handover.json")
    previous = (
        await session.exec(
            select(ImportedRecord).where(
                ImportedRecord.source_installation == source,
                ImportedRecord.source_handover_id == source_handover,
            )
        )
    ).all()
    if previous:
        return ImportSummary(
            handover_reference=header["reference"],
            source_installation=source,
            created=0,
            already_imported=True,
            id_map={str(r.source_id): str(r.target_id) for r in previous},
        )
    loader = _Loader(session, actor, source, source_handover, header)
    await loader.prepare()
    files: dict[str, list[Path]] = {
        kind: sorted((root / "records" / kind).glob("*.json")) for kind in RECORD_KINDS
    }
    payloads = {kind: [read_json(p) for p in files[kind]] for kind in _ORDER}
    # New ids first, so links between records (parent, case, dependency) resolve in any order.
    for kind in _ORDER:
        for payload in payloads[kind]:
            loader.id_map[parse_uuid(payload["id"], f"records/{kind}")] = uuid.uuid4()
    for kind in _ORDER:
        for payload in payloads[kind]:
            await loader.record(kind, payload)
    await loader.links(payloads)
    await loader.handover(manifest["lines"])
    await record_event(
        session,
        actor=actor,
        action="handover.import",
        record_kind="handover",
        record_id=loader.handover_id,
        after={"source": source, "source_handover_id": str(source_handover), "records": len(loader.id_map)},
        detail=f"imported {header['reference']}",
    )
    return ImportSummary(
        handover_reference=header["reference"],
        source_installation=source,
        created=len(loader.id_map),
        already_imported=False,
        id_map={str(k): str(v) for k, v in loader.id_map.items()},
    )


class _Loader:
    def __init__(
        self,
        session: AsyncSession,
        actor: Actor,
        source: str,
        source_handover: uuid.UUID,
        header: dict[str, Any],
    ) -> None:
        self.session = session
        self.actor = actor
        self.source = source
        self.source_handover = source_handover
        self.header = header
        self.id_map: dict[uuid.UUID, uuid.UUID] = {}
        self.agencies: dict[str, uuid.UUID] = {}
        self.users: dict[str, uuid.UUID] = {}
        self.theatre_id = uuid.UUID(int=0)
        self.handover_id = uuid.uuid4()

    async def prepare(self) -> None:
        principal = self.actor.principal
        rows = (await self.session.exec(select(Agency.code, Agency.id))).all()
        self.agencies = dict(rows)
        incoming = self.header["incoming_agency"]
        if self.agencies.get(incoming) is None:
            raise InvalidPackage(f"agency {incoming} does not exist in this installation", field="package")
        if principal.agency_id != self.agencies[incoming] or not principal.has_role(Role.AGENCY_ADMIN):
            raise Forbidden(
                f"only an administrator of the receiving agency ({incoming}) imports this handover"
            )
        if self.agencies.get(self.header["outgoing_agency"]) is None:
            raise InvalidPackage(
                f"agency {self.header['outgoing_agency']} does not exist in this installation",
                field="package",
            )
        theatre = await theatre_by_code(self.session, self.header["theatre"])
        if theatre is None:
            raise InvalidPackage(
                f"theatre {self.header['theatre']} does not exist in this installation", field="package"
            )
        self.theatre_id = theatre.id
        self.users = dict((await self.session.exec(select(User.login, User.id))).all())

    def agency(self, code: str | None, where: str) -> uuid.UUID:
        if code is None or code not in self.agencies:
            raise InvalidPackage(
                f"{where}: agency {code} does not exist in this installation", field="package"
            )
        return self.agencies[code]

    def mapped(self, value: str | None) -> uuid.UUID | None:
        return self.id_map.get(uuid.UUID(value)) if value else None

    async def record(self, kind: str, payload: dict[str, Any]) -> None:
        where = f"records/{kind}/{payload['id']}.json"
        old_id = uuid.UUID(payload["id"])
        new_id = self.id_map[old_id]
        markings = payload["markings"]
        try:
            classification = Classification[markings["classification"]]
        except KeyError as exc:
            raise InvalidPackage(f"{where}: unknown classification", field="package") from exc
        theatre = await theatre_by_code(self.session, payload["theatre"]) if payload.get("theatre") else None
        record = Record(
            id=new_id,
            kind=RecordKind(kind),
            originator_agency_id=self.agency(payload["originator_agency"], where),
            custodian_agency_id=self.agency(payload["custodian_agency"], where),
            owner_agency_id=self.agency(payload["owner_agency"], where),
            created_by_id=self.users.get(payload.get("created_by") or ""),
            theatre_id=theatre.id if theatre else self.theatre_id,
            parent_id=self.mapped(payload.get("parent_id")),
            restricted_case_id=self.mapped(payload.get("restricted_case_id")),
            classification=classification,
            tlp=markings["tlp"],
            orcon=bool(markings["orcon"]),
            nohost=bool(markings["nohost"]),
            provenance=(
                f"{payload.get('provenance', '')}; imported from installation {self.source} under handover "
                f"{self.header['reference']} on {self.actor.now.date().isoformat()} (source id {old_id})"
            ).lstrip("; "),
            created_at=datetime.fromisoformat(payload["created_at"]),
            updated_at=self.actor.now,
        )
        self.session.add(record)
        await self.session.flush()
        # Releases only to agencies and people that exist here: dropping one narrows.
        for code in markings.get("releasable_to", []):
            if code in self.agencies:
                self.session.add(RecordRelease(record_id=new_id, agency_id=self.agencies[code]))
        for login in markings.get("named_readers", []):
            if login in self.users:
                self.session.add(RecordRelease(record_id=new_id, user_id=self.users[login]))
        await self._domain(kind, new_id, payload, where)
        self.session.add(
            ImportedRecord(
                source_installation=self.source,
                source_handover_id=self.source_handover,
                source_id=old_id,
                target_id=new_id,
                kind=kind,
                imported_at=self.actor.now,
            )
        )
        await self.session.flush()
        await record_event(
            self.session,
            actor=self.actor,
            action="handover.import_record",
            record_kind=kind,
            record_id=new_id,
            after={"source_id": str(old_id), "source": self.source},
        )

    async def _domain(self, kind: str, new_id: uuid.UUID, payload: dict[str, Any], where: str) -> None:
        data = dict(payload["data"])
        links = payload.get("links", {})
        s = self.session
        if kind == "case":
            reference = data["reference"]
            if (await s.exec(select(Case.id).where(Case.reference == reference))).first() is not None:
                raise InvalidInput(
                    f"{where}: case reference {reference} already exists here", field="package"
                )
            data["lead_agency_id"] = self.agency(links["lead_agency"], where)
            s.add(Case.model_validate(data | {"id": new_id}))
            await s.flush()
            for crime in links.get("crime_types", []):
                s.add(CaseCrimeType(case_id=new_id, crime_type=crime))
            for link in links.get("agencies", []):
                if link["agency"] in self.agencies:
                    s.add(
                        CaseAgency(case_id=new_id, agency_id=self.agencies[link["agency"]], role=link["role"])
                    )
            for login in links.get("members", []):
                if login in self.users:
                    s.add(CaseMember(case_id=new_id, user_id=self.users[login]))
        elif kind == "intel_item":
            s.add(IntelItem.model_validate(data | {"id": new_id}))
        elif kind == "evidence":
            s.add(Evidence.model_validate(data | {"id": new_id}))
            await s.flush()
            for event in links.get("custody", []):
                s.add(
                    CustodyEvent(
                        evidence_id=new_id,
                        holder_agency_id=self.agency(event["holder_agency"], where),
                        holder_user_id=self.users.get(event.get("holder") or ""),
                        received_at=datetime.fromisoformat(event["received_at"]),
                        location=event["location"],
                        note=event["note"],
                    )
                )
        elif kind == "note":
            s.add(Note.model_validate(data | {"id": new_id}))
        elif kind == "task":
            data["lead_agency_id"] = self.agency(links["lead_agency"], where)
            data["assignee_user_id"] = self.users.get(links.get("assignee") or "")
            s.add(Task.model_validate(data | {"id": new_id}))
            await s.flush()
            for code in links.get("supporting_agencies", []):
                if code in self.agencies:
                    s.add(TaskSupportingAgency(task_id=new_id, agency_id=self.agencies[code]))

    async def links(self, payloads: dict[str, list[dict[str, Any]]]) -> None:
        """Links that point from one imported record to another."""
        for payload in payloads["intel_item"]:
            for case_id in payload.get("links", {}).get("case_ids", []):
                target = self.mapped(case_id)
                if target is not None:
                    self.session.add(
                        IntelCase(intel_id=self.id_map[uuid.UUID(payload["id"])], case_id=target)
                    )
        for payload in payloads["task"]:
            for dep in payload.get("links", {}).get("depends_on", []):
                target = self.mapped(dep)
                if target is not None:
                    self.session.add(
                        TaskDependency(task_id=self.id_map[uuid.UUID(payload["id"])], depends_on_id=target)
                    )
        await self.session.flush()

    async def handover(self, lines: list[dict[str, Any]]) -> None:
        """The handover itself, completed, with every line as the source recorded it."""
        h = self.header
        reference = h["reference"]
        taken = (await self.session.exec(select(Handover.id).where(Handover.reference == reference))).first()
        handover = Handover(
            id=self.handover_id,
            reference=reference
            if taken is None
            else f"{reference}-IMPORT-{self.handover_id.hex[:6].upper()}",
            title=h["title"],
            scope=h["scope"],
            outgoing_agency_id=self.agency(h["outgoing_agency"], "handover.json"),
            incoming_agency_id=self.agency(h["incoming_agency"], "handover.json"),
            theatre_id=self.theatre_id,
            cut_off=date.fromisoformat(h["cut_off"]),
            status=HandoverStatus.COMPLETED,
            created_by_id=self.actor.principal.user_id,
            created_at=self.actor.now,
            completed_at=datetime.fromisoformat(h["completed_at"])
            if h.get("completed_at")
            else self.actor.now,
            dropped_count=h.get("dropped_count"),
            source_installation=self.source,
            source_handover_id=self.source_handover,
        )
        self.session.add(handover)
        await self.session.flush()
        for ln in lines:
            subject = uuid.UUID(ln["subject_id"]) if ln.get("subject_id") else None
            self.session.add(
                HandoverLine(
                    handover_id=handover.id,
                    seq=ln["seq"],
                    kind=ln["kind"],
                    subject_id=self.id_map.get(subject, subject) if subject else None,
                    title=ln.get("title", ""),
                    disposition=ln["disposition"],
                    reason=ln["reason"],
                    decline_outcome=ln.get("decline_outcome"),
                    completion_evidence=ln.get("completion_evidence", ""),
                    decided_at=datetime.fromisoformat(ln["decided_at"]) if ln.get("decided_at") else None,
                    decided_by_id=self.users.get(ln.get("decided_by") or ""),
                    consent_agency_id=self.agencies.get(ln.get("consent_agency") or ""),
                    consent_status=ln["consent_status"],
                    consent_by_id=self.users.get(ln.get("consent_by") or ""),
                    created_at=self.actor.now,
                )
            )
        await self.session.flush()

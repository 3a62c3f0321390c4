"""Loads ``seed/demo.json`` through the same services the APIs use.

Records are created as their authors, so markings, membership and the audit trail
are exactly what a user would have produced. The whole load is one transaction, so
a failure leaves nothing behind, and a second run finds the demo and does nothing.
"""

import hashlib
import json
import uuid
from collections.abc import Callable
from datetime import date, datetime
from graphlib import TopologicalSorter
from pathlib import Path
from typing import Any

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.audit.registry import register_demo_witnesses
from ocpo_coord.auth.principal import load_principal
from ocpo_coord.case import service as case_service
from ocpo_coord.case.schemas import CaseCreate
from ocpo_coord.context import Actor
from ocpo_coord.db.engine import unit_of_work
from ocpo_coord.deconfliction import operations as operations_service
from ocpo_coord.deconfliction.schemas import PlannedOperationCreate
from ocpo_coord.entity import service as entity_service
from ocpo_coord.entity.schemas import EntityCreate
from ocpo_coord.evidence import service as evidence_service
from ocpo_coord.evidence.schemas import CustodyTransfer, EvidenceCreate, EvidenceUpdate
from ocpo_coord.evidence.store import FileStore
from ocpo_coord.intel import service as intel_service
from ocpo_coord.intel.schemas import IntelItemCreate
from ocpo_coord.models import (
    Agency,
    AgencyTheatre,
    Position,
    Responsibility,
    SharingAgreement,
    SharingGroup,
    SharingGroupMember,
    Theatre,
    Tour,
    User,
)
from ocpo_coord.models.enums import Classification
from ocpo_coord.note import service as note_service
from ocpo_coord.note.schemas import NoteCreate
from ocpo_coord.records.schemas import MarkingsInput
from ocpo_coord.task import service as task_service
from ocpo_coord.task.schemas import TaskCreate

DEMO_FILE = Path(__file__).resolve().parent.parent / "seed" / "demo.json"


class _Loader:
    def __init__(self, session: AsyncSession, data: dict[str, Any]) -> None:
        self.session = session
        self.data = data
        self.agencies: dict[str, uuid.UUID] = {}
        self.theatres: dict[str, uuid.UUID] = {}
        self.groups: dict[tuple[str, str], uuid.UUID] = {}
        self.positions: dict[str, uuid.UUID] = {}
        self.records: dict[str, uuid.UUID] = {}
        self.actors: dict[str, Actor] = {}

    async def actor(self, login: str) -> Actor:
        if login not in self.actors:
            self.actors[login] = Actor(principal=await load_principal(self.session, login))
        return self.actors[login]

    def markings(self, raw: dict[str, Any]) -> MarkingsInput:
        raw = dict(raw)
        groups = raw.pop("sharing_groups", [])
        return MarkingsInput.model_validate(
            {**raw, "sharing_group_ids": [self.groups[(g["owner"], g["name"])] for g in groups]}
        )

    async def directory(self) -> None:
        for t in self.data["theatres"]:
            theatre = Theatre(
                code=t["code"], name=t["name"], country=t["country"], regions=t.get("regions", [])
            )
            self.session.add(theatre)
            self.theatres[t["code"]] = theatre.id
        for a in self.data["agencies"]:
            agency = Agency(
                code=a["code"],
                name=a["name"],
                kind=a["kind"],
                parent_organisation=a.get("parent_organisation", "NONE"),
                host_nation=a.get("host_nation", False),
                mandate_start=_date(a.get("mandate_start")),
                mandate_end=_date(a.get("mandate_end")),
            )
            self.session.add(agency)
            self.agencies[a["code"]] = agency.id
        await self.session.flush()
        for a in self.data["agencies"]:
            if a.get("predecessor"):
                successor = await self.session.get(Agency, self.agencies[a["code"]])
                assert successor is not None
                successor.predecessor_id = self.agencies[a["predecessor"]]
            for code in a.get("theatres", []):
                self.session.add(
                    AgencyTheatre(agency_id=self.agencies[a["code"]], theatre_id=self.theatres[code])
                )
        for g in self.data.get("sharing_groups", []):
            group = SharingGroup(owner_agency_id=self.agencies[g["owner"]], name=g["name"])
            self.session.add(group)
            self.groups[(g["owner"], g["name"])] = group.id
            await self.session.flush()
            for member in g["members"]:
                self.session.add(
                    SharingGroupMember(sharing_group_id=group.id, agency_id=self.agencies[member])
                )
        for m in self.data.get("agreements", []):
            self.session.add(
                SharingAgreement(
                    title=m["title"],
                    grantor_agency_id=self.agencies[m["grantor"]],
                    grantee_agency_id=self.agencies[m["grantee"]],
                    valid_from=datetime.fromisoformat(m["valid_from"]),
                    valid_until=datetime.fromisoformat(m["valid_until"]),
                    max_classification=Classification[m.get("max_classification", "RESTRICTED")],
                )
            )
        for u in self.data["users"]:
            self.session.add(
                User(
                    login=u["login"],
                    display_name=u["display_name"],
                    agency_id=self.agencies[u["agency"]] if u.get("agency") else None,
                    roles=u["roles"],
                    clearance=Classification[u["clearance"]],
                )
            )
        await self.session.flush()
        logins = {u.login: u.id for u in (await self.session.exec(select(User))).all()}
        for p in self.data.get("positions", []):
            position = Position(
                agency_id=self.agencies[p["agency"]],
                theatre_id=self.theatres.get(p.get("theatre") or ""),
                title=p["title"],
                deconfliction_contact=p.get("deconfliction_contact", False),
            )
            self.session.add(position)
            self.positions[p["key"]] = position.id
            await self.session.flush()
            for tour in p.get("tours", []):
                self.session.add(
                    Tour(
                        position_id=position.id,
                        user_id=logins[tour["user"]],
                        start_date=date.fromisoformat(tour["start"]),
                        end_date=_date(tour.get("end")),
                    )
                )
        await self.session.flush()

    async def cases(self) -> None:
        for c in self.data["cases"]:
            payload = {k: v for k, v in c.items() if k not in ("key", "author", "markings", "reference")}
            data = CaseCreate.model_validate({**payload, "markings": self.markings(c.get("markings", {}))})
            created = await case_service.create_case(
                self.session, actor=await self.actor(c["author"]), data=data, reference=c["reference"]
            )
            self.records[f"case:{c['key']}"] = created.id

    async def intel(self) -> None:
        for i in self.data.get("intel_items", []):
            payload = {k: v for k, v in i.items() if k not in ("key", "author", "markings", "cases")}
            data = IntelItemCreate.model_validate(
                {
                    **payload,
                    "case_ids": [self.records[f"case:{k}"] for k in i.get("cases", [])],
                    "markings": self.markings(i.get("markings", {})),
                }
            )
            created = await intel_service.create_intel_item(
                self.session, actor=await self.actor(i["author"]), data=data
            )
            self.records[f"intel:{i['key']}"] = created.id

    async def entities(self) -> None:
        for e in self.data.get("entities", []):
            payload = {k: v for k, v in e.items() if k not in ("key", "author", "markings", "links")}
            links = [
                {"record_id": self.records[link["record"]], "role": link.get("role", "subject")}
                for link in e.get("links", [])
            ]
            data = EntityCreate.model_validate(
                {**payload, "links": links, "markings": self.markings(e.get("markings", {}))}
            )
            created = await entity_service.create_entity(
                self.session, actor=await self.actor(e["author"]), data=data
            )
            self.records[f"entity:{e['key']}"] = created.id

    async def evidence(self) -> None:
        for e in self.data.get("evidence", []):
            payload = {
                k: v
                for k, v in e.items()
                if k not in ("key", "author", "markings", "case", "custody", "content")
            }
            # A file item may come with its bytes: kept in the file store, as an upload would.
            content = e["content"].encode("utf-8") if "content" in e else None
            if content is not None:
                payload |= {"sha256": hashlib.sha256(content).hexdigest(), "size_bytes": len(content)}
            actor = await self.actor(e["author"])
            data = EvidenceCreate.model_validate(
                {
                    **payload,
                    "case_id": self.records[f"case:{e['case']}"],
                    "markings": self.markings(e.get("markings", {})),
                }
            )
            created = await evidence_service.create_evidence(self.session, actor=actor, data=data)
            if content is not None:
                await evidence_service.keep_file(
                    self.session,
                    actor=actor,
                    evidence_id=created.id,
                    stored=FileStore.configured().add_bytes(content),
                )
            for link in e.get("custody", []):
                transfer = CustodyTransfer(
                    holder_agency=link["holder_agency"],
                    holder_login=link.get("holder_user"),
                    received_at=datetime.fromisoformat(link["received_at"]),
                    location=link["location"],
                    note=link.get("note", ""),
                )
                await evidence_service.update_evidence(
                    self.session,
                    actor=actor,
                    evidence_id=created.id,
                    data=EvidenceUpdate(custody_transfer=transfer),
                )
            self.records[f"evidence:{e['key']}"] = created.id

    async def notes(self) -> None:
        for n in self.data.get("notes", []):
            data = NoteCreate(
                case_id=self.records[f"case:{n['case']}"],
                body=n["body"],
                markings=self.markings(n.get("markings", {})),
            )
            await note_service.create_note(self.session, actor=await self.actor(n["author"]), data=data)

    async def tasks(self) -> None:
        by_key = {t["key"]: t for t in self.data.get("tasks", [])}
        order = TopologicalSorter({k: t.get("depends_on", []) for k, t in by_key.items()}).static_order()
        for key in order:
            t = by_key[key]
            payload = {
                k: v
                for k, v in t.items()
                if k
                not in (
                    "key",
                    "author",
                    "markings",
                    "case",
                    "assignee_position",
                    "assignee_user",
                    "depends_on",
                )
            }
            data = TaskCreate.model_validate(
                {
                    **payload,
                    "case_id": self.records[f"case:{t['case']}"] if t.get("case") else None,
                    "assignee_position_id": self.positions.get(t.get("assignee_position") or ""),
                    "assignee_login": t.get("assignee_user"),
                    "depends_on": [self.records[f"task:{d}"] for d in t.get("depends_on", [])],
                    "markings": self.markings(t.get("markings", {})),
                }
            )
            created = await task_service.create_task(
                self.session, actor=await self.actor(t["author"]), data=data
            )
            self.records[f"task:{key}"] = created.id

    async def coordination(self) -> None:
        for r in self.data.get("responsibilities", []):
            self.session.add(
                Responsibility(
                    theatre_id=self.theatres[r["theatre"]],
                    region=r.get("region", ""),
                    activity_area=r["activity_area"],
                    agency_id=self.agencies[r["agency"]],
                    role=r["role"],
                    valid_from=date.fromisoformat(r["valid_from"]),
                    valid_until=_date(r.get("valid_until")),
                    mandate_basis=r.get("mandate_basis", ""),
                )
            )
        for o in self.data.get("operations", []):
            payload = {k: v for k, v in o.items() if k not in ("key", "author", "markings")}
            data = PlannedOperationCreate.model_validate(
                {**payload, "markings": self.markings(o.get("markings", {}))}
            )
            # Through the service, so that colliding operations raise their hits as planned.
            created = await operations_service.create_operation(
                self.session, actor=await self.actor(o["author"]), data=data
            )
            self.records[f"operation:{o['key']}"] = created.id
        await self.session.flush()

    async def handovers(self) -> None:
        """The handover in progress: opened and inventoried through the service."""
        from ocpo_coord.handover import service as handovers
        from ocpo_coord.handover.schemas import HandoverCreate

        for h in self.data.get("handovers", []):
            actor = await self.actor(h["author"])
            data = HandoverCreate.model_validate(
                {k: v for k, v in h.items() if k in HandoverCreate.model_fields}
            )
            created = await handovers.create_handover(self.session, actor=actor, data=data)
            if h.get("build_inventory"):
                await handovers.build_inventory(self.session, actor=actor, handover_id=created.id)


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


async def load_into(
    session: AsyncSession, data: dict[str, Any], *, on_step: Callable[[str], None] | None = None
) -> bool:
    """Load demo data into an open transaction; False if it is already there."""
    first_agency = data["agencies"][0]["code"]
    if (await session.exec(select(Agency).where(Agency.code == first_agency))).first() is not None:
        return False
    loader = _Loader(session, data)
    stages = (
        ("agencies, people and positions", loader.directory),
        ("cases", loader.cases),
        ("intelligence", loader.intel),
        ("entities", loader.entities),
        ("evidence", loader.evidence),
        ("notes", loader.notes),
        ("tasks", loader.tasks),
        ("operations and responsibilities", loader.coordination),
        ("handovers", loader.handovers),
    )
    for name, stage in stages:
        if on_step is not None:
            on_step(name)
        await stage()
    await register_demo_witnesses(session)
    return True


def directory_only(data: dict[str, Any]) -> dict[str, Any]:
    """Another installation of the same theatre: the agencies and people, no records."""
    keep = ("theatres", "agencies", "sharing_groups", "agreements", "users", "positions")
    return {key: (value if key in keep else []) for key, value in data.items()}


def read_demo(path: Path = DEMO_FILE) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


async def load_demo(data: dict[str, Any], *, on_step: Callable[[str], None] | None = None) -> bool:
    async with unit_of_work() as session:
        return await load_into(session, data, on_step=on_step)


async def user_exists(login: str) -> bool:
    async with unit_of_work() as session:
        return (await session.exec(select(User.id).where(User.login == login))).first() is not None

"""Import a verified handover package into this installation: all or nothing, once.

The package is verified first (fixity, completeness, no extra file, a format this
installation reads; signed by an installation whose key is registered here, its audit
checkpoint and inclusion proofs sound); if anything is wrong nothing is read further.
The checkpoint and the proofs are kept with the imported records. Every record gets a
new id here; the old-to-new map is kept (``imported_record``) and makes a second import
of the same package a no-op. Records keep their markings (never widened: releases to
agencies or people unknown here are dropped, which only narrows), their originator and
their provenance, plus a line saying where they came from. The caller's transaction
holds it all, so a failure half-way leaves this database as it was.

Records are read line by line and inserted a batch at a time with plain inserts, so
neither the queries nor the memory grow per record (only the id map does, which the
summary returns). Plain inserts bypass the session's flush hooks, so each batch also
refreshes its records' rows in the visibility index itself. A worker thread reads and
prepares each batch (records, lines, proofs) while the one before is written
(``_in_turn``), so the database inserts while Python builds rows.

The kept files of evidence items are copied into this installation's file store while
the records go in, and hashed again on the way (``import_files``).
"""

import asyncio
import base64
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import fields
from datetime import date, datetime
from itertools import islice
from pathlib import Path
from typing import Any, TypeVar

import anyio
from pydantic import BaseModel, ValidationError
from sqlalchemy import Connection
from sqlalchemy.orm import Session
from sqlmodel import SQLModel, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.audit.service import record_event
from ocpo_coord.auth.directory import theatre_by_code, theatre_codes
from ocpo_coord.context import Actor
from ocpo_coord.db import copy
from ocpo_coord.deconfliction import service as deconfliction
from ocpo_coord.evidence.store import FileStore, is_digest
from ocpo_coord.exceptions import Forbidden, InvalidInput
from ocpo_coord.handover import package_repository as bulk
from ocpo_coord.handover.authenticity import Authentic, verify_authentic
from ocpo_coord.handover.import_coordination import CoordinationImport
from ocpo_coord.handover.import_files import StagedFiles, check_files
from ocpo_coord.handover.package import (
    FILES,
    InvalidPackage,
    line_payloads,
    parse_uuid,
    read_json,
    record_payloads,
)
from ocpo_coord.handover.package_proof import EntryProof
from ocpo_coord.handover.package_proof import proofs as package_proofs
from ocpo_coord.handover.trust import trusted_verifiers
from ocpo_coord.models import (
    CaseAgency,
    CaseCrimeType,
    CaseMember,
    CustodyEvent,
    Handover,
    HandoverImportCheckpoint,
    HandoverImportProof,
    HandoverLine,
    ImportedRecord,
    IntelCase,
    Record,
    RecordEntity,
    RecordRelease,
    Selector,
    TaskDependency,
    TaskSupportingAgency,
    User,
)
from ocpo_coord.models.base import new_row, table_of, validated_row
from ocpo_coord.models.enums import Classification, HandoverStatus, RecordKind, Role, SelectorKind, Tlp
from ocpo_coord.visibility import reach
from ocpo_coord.visibility.repository import agency_codes
from ocpo_coord.visibility.rule import RecordFacts, RecordRow, ReleaseRow, ReleaseView

# Cases first: the other kinds point at them (parent, restricted case, intelligence links).
_ORDER = ("case", "intel_item", "evidence", "note", "task", "entity")
# Records per insert: large enough that round trips do not count, small enough that a
# batch of rows stays a few megabytes.
BATCH = 1000
_RECORD_ROW = [f.name for f in fields(RecordRow)]

Payloads = list[tuple[str, dict[str, Any]]]
Item = TypeVar("Item")
Prepared = TypeVar("Prepared")


class ImportSummary(BaseModel):
    handover_reference: str
    source_installation: str
    created: int
    already_imported: bool
    id_map: dict[str, str]


async def import_package(
    session: AsyncSession,
    *,
    actor: Actor,
    directory: Path,
    store: FileStore | None = None,
    dry_run: bool = False,
) -> ImportSummary:
    """Import the package in the caller's transaction. With ``dry_run`` the files are
    hashed in place instead of copied, and the caller rolls the transaction back: every
    check of the import, nothing written (``handover verify --as``)."""
    # Fixity, then who sent it, then every object and the audit proof, before any
    # record is read into the database.
    keys = await trusted_verifiers(session)
    check, authentic = verify_authentic(directory, lambda: keys)
    if not check.ok or authentic is None:
        raise InvalidPackage("package failed verification: " + "; ".join(check.problems), field="package")
    package_format = check.info["Ocpo-Format"]
    root = directory / "data"
    manifest = read_json(root / "handover.json")
    source = str(manifest["source_installation"])
    header = manifest["handover"]
    source_handover = parse_uuid(header["id"], "handover.json")
    # Who may import comes first: even the answer that it is already in names this
    # installation's ids of the records.
    agencies = await _receiving_administrator(session, actor, header["incoming_agency"])
    await bulk.hold_import_of(session, source, source_handover)
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
    files = None if dry_run else StagedFiles(root / FILES, store or FileStore.configured())
    try:
        if files is not None:
            files.start()
        loader = _Loader(session, actor, source, source_handover, header, agencies)
        await _load(loader, root, package_format, manifest, authentic)
        if files is None:
            await check_files(root / FILES, loader.files)
        else:
            await files.keep(session, loader.files)
    except BaseException:
        if files is not None:
            await files.abandon()
        raise
    await record_event(
        session,
        actor=actor,
        action="handover.import",
        record_kind="handover",
        record_id=loader.handover_id,
        after={
            "source": source,
            "source_handover_id": str(source_handover),
            "records": len(loader.id_map),
            "signed_by": authentic.signer.text(),
            "checkpoint_size": authentic.checkpoint.checkpoint.size if authentic.checkpoint else None,
            "proofs": authentic.proofs,
        },
        detail=f"imported {header['reference']}",
    )
    return ImportSummary(
        handover_reference=header["reference"],
        source_installation=source,
        created=len(loader.id_map),
        already_imported=False,
        id_map={str(k): str(v) for k, v in loader.id_map.items()},
    )


async def _receiving_administrator(
    session: AsyncSession, actor: Actor, incoming: str
) -> dict[str, uuid.UUID]:
    """This installation's agencies by code, once the actor is shown to be an
    administrator of the package's receiving agency: nobody else imports it."""
    agencies = {code: agency_id for agency_id, code in (await agency_codes(session)).items()}
    if agencies.get(incoming) is None:
        raise InvalidPackage(f"agency {incoming} does not exist in this installation", field="package")
    principal = actor.principal
    if principal.agency_id != agencies[incoming] or not principal.has_role(Role.AGENCY_ADMIN):
        raise Forbidden(f"only an administrator of the receiving agency ({incoming}) imports this handover")
    return agencies


async def _load(
    loader: "_Loader", root: Path, package_format: str, manifest: dict[str, Any], authentic: Authentic
) -> None:
    """Every record, line and proof of the package, in the loader's transaction."""
    await loader.prepare()
    # Positions first: tasks name theirs by title.
    await loader.coordination.run(root)
    # New ids first, so links between records (parent, case, dependency) resolve in any order.
    for kind in _ORDER:
        for where, payload in record_payloads(root, package_format, kind):
            loader.id_map[parse_uuid(_field(payload, "id", where), where)] = uuid.uuid4()
    await _in_turn(
        (
            (kind, batch)
            for kind in _ORDER
            for batch in _batches(record_payloads(root, package_format, kind), BATCH)
        ),
        lambda item: loader.prepared(*item),
        loader.write,
    )
    await loader.dependencies()
    await loader.deconflict()
    await loader.handover(line_payloads(root, package_format, manifest))
    await loader.proofs(root, authentic)


def _batches(items: Iterable[Item], size: int) -> Iterator[list[Item]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


async def _in_turn(
    items: Iterator[Item], prepare: Callable[[Item], Prepared], write: Callable[[Prepared], Awaitable[None]]
) -> None:
    """Write each prepared item while a worker thread reads and prepares the next: the
    Python of one batch runs while the database inserts the one before (the event loop
    waits on the socket without the GIL). ``items`` is read in the thread only, one call
    at a time, so reading and preparing stay in order."""

    def next_prepared() -> Prepared | None:
        item = next(items, None)
        return None if item is None else prepare(item)

    upcoming = asyncio.ensure_future(anyio.to_thread.run_sync(next_prepared))
    try:
        while (prepared := await upcoming) is not None:
            upcoming = asyncio.ensure_future(anyio.to_thread.run_sync(next_prepared))
            await write(prepared)
    finally:
        # A failed write: the item under way is finished (a thread is not stopped
        # half-way) and dropped, its error with it.
        await asyncio.gather(upcoming, return_exceptions=True)


def _field(payload: Any, name: str, where: str) -> Any:
    if not isinstance(payload, dict) or name not in payload:
        raise InvalidPackage(f"{where}: no {name}", field="package")
    return payload[name]


def _insert(session: Session, model: type[SQLModel], rows: list[dict[str, Any]]) -> None:
    copy.insert_rows(session.connection(), table_of(model), rows)


class _Batch:
    """The rows of a batch of records, table by table, in the order they are inserted."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.records: list[dict[str, Any]] = []
        self.domain: list[dict[str, Any]] = []
        self.links: dict[type[SQLModel], list[dict[str, Any]]] = {
            RecordRelease: [],
            CaseCrimeType: [],
            CaseAgency: [],
            CaseMember: [],
            CustodyEvent: [],
            TaskSupportingAgency: [],
            IntelCase: [],
            Selector: [],
            RecordEntity: [],
            ImportedRecord: [],
        }
        self.references: dict[str, str] = {}
        self.reach: list[dict[str, Any]] = []

    def add(self, model: type[SQLModel], **values: Any) -> None:
        self.links[model].append(new_row(model, **values))

    @property
    def ids(self) -> list[uuid.UUID]:
        return [row["id"] for row in self.records]


class _Loader:
    def __init__(
        self,
        session: AsyncSession,
        actor: Actor,
        source: str,
        source_handover: uuid.UUID,
        header: dict[str, Any],
        agencies: dict[str, uuid.UUID],
    ) -> None:
        self.session = session
        self.actor = actor
        self.source = source
        self.source_handover = source_handover
        self.header = header
        self.id_map: dict[uuid.UUID, uuid.UUID] = {}
        self.agencies = agencies
        self.users: dict[str, uuid.UUID] = {}
        self.theatres: dict[str, uuid.UUID] = {}
        self.theatre_id = uuid.UUID(int=0)
        self.handover_id = uuid.uuid4()
        # Task to task links wait until every task is in: either end may come later.
        self.pending_dependencies: list[dict[str, Any]] = []
        # The files the imported evidence keeps, by digest, and where each is named.
        self.files: dict[str, str] = {}
        self.coordination: CoordinationImport
        # Imported entities: their selectors are compared with this installation's.
        self.entities: list[uuid.UUID] = []
        self.incoming_id = uuid.UUID(int=0)
        # Members of the imported cases, for the index rows of what hangs off them.
        self.members: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)

    async def prepare(self) -> None:
        incoming = self.header["incoming_agency"]
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
        self.theatres = {code: theatre_id for theatre_id, code in (await theatre_codes(self.session)).items()}
        self.users = dict((await self.session.exec(select(User.login, User.id))).all())
        self.incoming_id = self.agencies[incoming]
        self.coordination = CoordinationImport(
            self.session,
            self.actor,
            agencies=self.agencies,
            theatres=self.theatres,
            theatre_id=self.theatre_id,
            outgoing_id=self.agency(self.header["outgoing_agency"], "handover.json"),
            incoming_id=self.agencies[incoming],
            cut_off=date.fromisoformat(self.header["cut_off"]),
            handover_id=self.handover_id,
        )

    def agency(self, code: str | None, where: str) -> uuid.UUID:
        if code is None or code not in self.agencies:
            raise InvalidPackage(
                f"{where}: agency {code} does not exist in this installation", field="package"
            )
        return self.agencies[code]

    def mapped(self, value: str | None) -> uuid.UUID | None:
        return self.id_map.get(uuid.UUID(value)) if value else None

    def restricted_case(self, value: str | None, where: str) -> uuid.UUID | None:
        """The imported restricted case a record belongs to. A record of a restricted case
        that did not come along is refused: imported without it, it would be open to
        anyone its other markings allow, not only the case's members."""
        target = self.mapped(value)
        if value and target is None:
            raise InvalidPackage(
                f"{where}: the record belongs to restricted case {value}, which is not in the "
                "package; importing it without the case would widen who may read it",
                field="package",
            )
        return target

    def prepared(self, kind: str, payloads: Payloads) -> _Batch:
        """One batch of records of one kind, as rows: the records' and their links', and
        their rows in the visibility index. Plain Python, no database."""
        batch = _Batch(kind)
        for where, payload in payloads:
            try:
                self._collect(batch, where, payload)
            except (KeyError, TypeError, ValueError, ValidationError) as exc:
                raise InvalidPackage(
                    f"{where}: not a valid {kind} record ({exc!r})", field="package"
                ) from exc
        # What the session's flush hook would have done for these records, from the
        # rows in hand: new records have no grants, and the members of their
        # restricted cases came with those cases, in this batch or an earlier one.
        batch.reach = reach.rows_from(self._facts(batch))
        return batch

    async def write(self, batch: _Batch) -> None:
        """A prepared batch inserted, indexed and audited."""
        kind = batch.kind
        await self.session.run_sync(lambda s: self._insert(s.connection(), batch))
        await record_event(
            self.session,
            actor=self.actor,
            action="handover.import_records",
            record_kind=kind,
            record_ids=batch.ids,
            after={"source": self.source, "source_handover_id": str(self.source_handover)},
            detail=f"imported from installation {self.source} under handover {self.header['reference']}",
        )

    def _insert(self, conn: Connection, batch: _Batch) -> None:
        taken = bulk.existing_case_references(conn, list(batch.references))
        if taken:
            reference = min(taken)
            raise InvalidInput(
                f"{batch.references[reference]}: case reference {reference} already exists here",
                field="package",
            )
        copy.insert_rows(conn, table_of(Record), batch.records)
        copy.insert_rows(conn, table_of(bulk.DOMAIN[batch.kind]), batch.domain)
        for model, rows in batch.links.items():
            copy.insert_rows(conn, table_of(model), rows)
        reach.file_rows(conn, batch.reach)

    def _facts(self, batch: _Batch) -> Iterator[RecordFacts]:
        releases: dict[uuid.UUID, list[ReleaseView]] = defaultdict(list)
        for release in batch.links[RecordRelease]:
            releases[release["record_id"]].append(
                ReleaseRow(release["agency_id"], release["sharing_group_id"], release["user_id"])
            )
        for values in batch.records:
            case = values["restricted_case_id"]
            yield RecordFacts(
                RecordRow(**{name: values[name] for name in _RECORD_ROW}),
                releases[values["id"]],
                restricted_members=set(self.members[case]) if case is not None else set(),
            )

    def _collect(self, batch: _Batch, where: str, payload: dict[str, Any]) -> None:
        old_id = uuid.UUID(payload["id"])
        new_id = self.id_map[old_id]
        markings = payload["markings"]
        try:
            classification = Classification[markings["classification"]]
        except KeyError as exc:
            raise InvalidPackage(f"{where}: unknown classification", field="package") from exc
        theatre = payload.get("theatre")
        batch.records.append(
            new_row(
                Record,
                id=new_id,
                kind=RecordKind(batch.kind),
                originator_agency_id=self.agency(payload["originator_agency"], where),
                # An entity comes with the receiver's records: the receiver holds this copy.
                custodian_agency_id=self.incoming_id
                if batch.kind == "entity"
                else self.agency(payload["custodian_agency"], where),
                owner_agency_id=self.incoming_id
                if batch.kind == "entity"
                else self.agency(payload["owner_agency"], where),
                created_by_id=self.users.get(payload.get("created_by") or ""),
                theatre_id=self.theatres.get(theatre.upper(), self.theatre_id)
                if theatre
                else self.theatre_id,
                parent_id=self.mapped(payload.get("parent_id")),
                restricted_case_id=self.restricted_case(payload.get("restricted_case_id"), where),
                classification=classification,
                tlp=Tlp(markings["tlp"]),
                orcon=bool(markings["orcon"]),
                nohost=bool(markings["nohost"]),
                provenance=(
                    f"{payload.get('provenance', '')}; imported from installation {self.source} under "
                    f"handover {self.header['reference']} on {self.actor.now.date().isoformat()} "
                    f"(source id {old_id})"
                ).lstrip("; "),
                created_at=datetime.fromisoformat(payload["created_at"]),
                updated_at=self.actor.now,
            )
        )
        # Releases only to agencies and people that exist here: dropping one narrows.
        # Each once: a package from an installation that held a release twice names
        # the agency twice, and a record is released to each target once.
        for code in dict.fromkeys(markings.get("releasable_to", [])):
            if code in self.agencies:
                batch.add(
                    RecordRelease, record_id=new_id, agency_id=self.agencies[code], created_at=self.actor.now
                )
        for login in dict.fromkeys(markings.get("named_readers", [])):
            if login in self.users:
                batch.add(
                    RecordRelease, record_id=new_id, user_id=self.users[login], created_at=self.actor.now
                )
        self._domain(batch, new_id, payload, where)
        batch.add(
            ImportedRecord,
            source_installation=self.source,
            source_handover_id=self.source_handover,
            source_id=old_id,
            target_id=new_id,
            kind=batch.kind,
            imported_at=self.actor.now,
        )

    def _domain(self, batch: _Batch, new_id: uuid.UUID, payload: dict[str, Any], where: str) -> None:
        data = dict(payload["data"])
        links = payload.get("links", {})
        kind = batch.kind
        if kind == "case":
            batch.references[data["reference"]] = where
            data["lead_agency_id"] = self.agency(links["lead_agency"], where)
            for crime in links.get("crime_types", []):
                batch.add(CaseCrimeType, case_id=new_id, crime_type=crime)
            for link in links.get("agencies", []):
                if link["agency"] in self.agencies:
                    batch.add(
                        CaseAgency, case_id=new_id, agency_id=self.agencies[link["agency"]], role=link["role"]
                    )
            for login in links.get("members", []):
                if login in self.users:
                    batch.add(CaseMember, case_id=new_id, user_id=self.users[login])
                    self.members[new_id].add(self.users[login])
        elif kind == "entity":
            for selector in links.get("selectors", []):
                batch.add(
                    Selector,
                    entity_id=new_id,
                    kind=SelectorKind(selector["kind"]),
                    value=selector["value"],
                    normalized=selector["normalized"],
                )
            for link in links.get("records", []):
                target = self.mapped(link["record_id"])
                if target is not None:
                    batch.add(RecordEntity, record_id=target, entity_id=new_id, role=link["role"])
            self.entities.append(new_id)
        elif kind == "intel_item":
            # Cases are imported before intelligence, so the linked case is already in.
            for case_id in links.get("case_ids", []):
                target = self.mapped(case_id)
                if target is not None:
                    batch.add(IntelCase, intel_id=new_id, case_id=target)
        elif kind == "evidence":
            if data.get("content_stored"):
                digest = data.get("sha256")
                # The digest names a file in the package: nothing but a digest may.
                if not is_digest(digest):
                    raise InvalidPackage(f"{where}: a kept file needs its SHA-256 digest", field="package")
                self.files.setdefault(str(digest), where)
            for event in links.get("custody", []):
                batch.add(
                    CustodyEvent,
                    evidence_id=new_id,
                    holder_agency_id=self.agency(event["holder_agency"], where),
                    holder_user_id=self.users.get(event.get("holder") or ""),
                    received_at=datetime.fromisoformat(event["received_at"]),
                    location=event["location"],
                    note=event["note"],
                )
        elif kind == "task":
            data["lead_agency_id"] = self.agency(links["lead_agency"], where)
            data["assignee_user_id"] = self.users.get(links.get("assignee") or "")
            data["assignee_position_id"] = self.coordination.assignee_position(
                links.get("assignee_position"), data["lead_agency_id"]
            )
            for code in links.get("supporting_agencies", []):
                if code in self.agencies:
                    batch.add(TaskSupportingAgency, task_id=new_id, agency_id=self.agencies[code])
            for dep in links.get("depends_on", []):
                target = self.mapped(dep)
                if target is not None:
                    self.pending_dependencies.append({"task_id": new_id, "depends_on_id": target})
        batch.domain.append(validated_row(bulk.DOMAIN[kind], data | {"id": new_id}))

    async def deconflict(self) -> None:
        """The imported entities' selectors against this installation's: hits are raised
        here as for an entity logged here."""
        await deconfliction.check_entities(self.session, actor=self.actor, entity_ids=self.entities)

    async def dependencies(self) -> None:
        """Links that point from one imported task to another, now that all are in."""
        await self.session.run_sync(_insert, TaskDependency, self.pending_dependencies)

    async def handover(self, lines: Iterable[tuple[str, Any]]) -> None:
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
        await _in_turn(
            _batches(lines, BATCH),
            lambda batch: [self._line(where, ln) for where, ln in batch],
            lambda rows: self.session.run_sync(_insert, HandoverLine, rows),
        )

    async def proofs(self, root: Path, authentic: Authentic) -> None:
        """The checkpoint and proofs the package carried, kept with the imported records:
        what a successor shows to prove what its predecessor recorded about them."""
        if authentic.checkpoint is None:
            return
        self.session.add(
            HandoverImportCheckpoint(
                handover_id=self.handover_id,
                signer_vkey=authentic.signer.text(),
                checkpoint=authentic.checkpoint.note,
                imported_at=self.actor.now,
            )
        )
        await self.session.flush()
        found = (proof for _, proof in package_proofs(root))
        await _in_turn(
            _batches(found, BATCH),
            self._proof_rows,
            lambda rows: self.session.run_sync(_insert, HandoverImportProof, rows),
        )

    def _proof_rows(self, batch: list[EntryProof]) -> list[dict[str, Any]]:
        return [
            new_row(
                HandoverImportProof,
                handover_id=self.handover_id,
                record_id=self.id_map[proof.record_id],
                source_record_id=proof.record_id,
                leaf_index=proof.index,
                entry=proof.entry,
                hashes="".join(base64.b64encode(h).decode() + "\n" for h in proof.hashes),
            )
            for proof in batch
        ]

    def _line(self, where: str, ln: dict[str, Any]) -> dict[str, Any]:
        try:
            subject = uuid.UUID(ln["subject_id"]) if ln.get("subject_id") else None
            return new_row(
                HandoverLine,
                handover_id=self.handover_id,
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
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InvalidPackage(f"{where}: not a valid handover line ({exc!r})", field="package") from exc

"""Export a completed handover as a BagIt package for the receiving installation.

Only what moved leaves: records on accepted lines, which after completion belong to
the receiver or were released to it with the originator's consent. Every one of them
must be readable by the person exporting (the sharing rule, in the database query);
if some are not, the export stops and says how many, rather than leave them behind.

Records are read a batch at a time (one query per batch, one per kind of link) and
written as JSON Lines, so neither the queries nor the memory grow per record.
"""

import shutil
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from sqlalchemy import RowMapping
from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.audit.canonical import jsonable
from ocpo_coord.audit.service import record_event
from ocpo_coord.context import Actor
from ocpo_coord.directory.repository import theatre_codes, user_logins
from ocpo_coord.exceptions import Conflict, InvalidInput
from ocpo_coord.handover import package_repository as bulk
from ocpo_coord.handover.package import (
    FORMAT,
    PART_BYTES,
    RECORD_KINDS,
    JsonLines,
    dump_json,
    installation_identity,
    long_lived_objects_frozen,
    make_bag,
    stage,
    target_is_empty,
    unstage,
)
from ocpo_coord.handover.service import visible
from ocpo_coord.models import Handover
from ocpo_coord.models.base import column_values
from ocpo_coord.models.enums import Classification, HandoverStatus, LineKind
from ocpo_coord.records.repository import agency_codes

# Records per query: large enough that round trips do not count, small enough that a
# batch of rows and links stays a few megabytes.
BATCH = 2000


class ExportSummary(BaseModel):
    directory: str
    handover_reference: str
    source_installation: str
    records: int
    counts: dict[str, int]


async def export_handover(
    session: AsyncSession,
    *,
    actor: Actor,
    handover_id: uuid.UUID,
    directory: Path,
    part_bytes: int = PART_BYTES,
) -> ExportSummary:
    handover = await visible(session, actor, handover_id)
    if handover.status != HandoverStatus.COMPLETED:
        raise Conflict(
            f"only a completed handover is exported; this one is {handover.status}", field="status"
        )
    if not target_is_empty(directory):
        raise InvalidInput(f"{directory} is not empty", field="directory")
    await bulk.without_jit(session)
    # The receiver's installation never learns of lines hidden from it (the queries
    # leave them out), and nothing leaves that the exporter may not read: records are
    # read through the sharing rule, and any left out stop the export.
    expected = await bulk.moving_counts(session, handover.id, RECORD_KINDS)
    source = await installation_identity(session)
    writer = _Writer(session, actor, directory / "payload-tmp", part_bytes)
    try:
        with long_lived_objects_frozen():
            counts = await writer.write(handover, source, expected)
    except BaseException:
        shutil.rmtree(writer.root, ignore_errors=True)
        raise
    unreadable = sum(expected.values()) - sum(counts.values())
    if unreadable:
        shutil.rmtree(writer.root, ignore_errors=True)
        raise Conflict(
            f"{unreadable} transferred records are not readable by you; export as a user of the "
            "receiving agency with enough clearance",
            field="actor",
        )
    unstage(writer.root, directory)
    codes = await agency_codes(session)
    records = sum(counts.values())
    make_bag(
        directory,
        {
            "Source-Organization": codes.get(handover.outgoing_agency_id, "?"),
            "External-Identifier": handover.reference,
            "External-Description": f"ocpo-coord handover {handover.reference}: {handover.title}"[:500],
            "Ocpo-Format": FORMAT,
            "Ocpo-Handover-Id": str(handover.id),
            "Ocpo-Source-Installation": source,
            "Ocpo-Record-Count": str(records),
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
        after={"records": records, "counts": counts, "source": source},
        detail=f"exported {handover.reference}",
    )
    return ExportSummary(
        directory=str(directory),
        handover_reference=handover.reference,
        source_installation=source,
        records=records,
        counts=counts,
    )


class _Writer:
    """Writes the payload of one package into a staging directory."""

    def __init__(self, session: AsyncSession, actor: Actor, root: Path, part_bytes: int) -> None:
        self.session = session
        self.actor = actor
        self.root = root
        self.part_bytes = part_bytes
        self.codes: dict[uuid.UUID, str] = {}
        self.theatres: dict[uuid.UUID, str] = {}

    def code(self, agency_id: uuid.UUID | None) -> str | None:
        return self.codes.get(agency_id) if agency_id else None

    async def write(self, handover: Handover, source: str, expected: dict[str, int]) -> dict[str, int]:
        """Every part of the payload; returns how many records of each kind it holds.
        Only the records the exporter may read are written."""
        stage(self.root)
        self.codes = await agency_codes(self.session)
        self.theatres = await theatre_codes(self.session)
        counts: dict[str, int] = {}
        for kind in (k for k in RECORD_KINDS if expected.get(k)):
            with JsonLines(self.root / "records" / kind, self.part_bytes) as out:
                batches = bulk.moving_records(
                    self.session, handover.id, kind, self.actor.principal, self.actor.now, batch=BATCH
                )
                async for batch in batches:
                    for payload in await self._payloads(kind, batch):
                        out.write(payload)
            if out.written:
                counts[kind] = out.written
        await self._lines(handover)
        await self._coordination(handover)
        dump_json(self.root / "handover.json", self._header(handover, source))
        return counts

    async def _payloads(self, kind: str, batch: bulk.RecordBatch) -> list[dict[str, Any]]:
        """The package form of a batch of records of one kind, links included."""
        rows = batch.rows
        names = bulk.domain_columns(kind)
        releases = await bulk.releases(self.session, batch.ids)
        links = _Links(self, kind)
        await links.load(batch.ids, rows)
        users = {row["created_by_id"] for row in rows} | links.user_ids
        users |= {r["user_id"] for found in releases.values() for r in found}
        logins = await user_logins(self.session, (u for u in users if u is not None))
        payloads = []
        for row in rows:
            found = releases.get(row["id"], [])
            data = _domain_data(row, names)
            payload: dict[str, Any] = {
                "id": str(row["id"]),
                "kind": kind,
                "markings": {
                    "classification": Classification(row["classification"]).name,
                    "tlp": row["tlp"],
                    "orcon": row["orcon"],
                    "nohost": row["nohost"],
                    "releasable_to": sorted(
                        self.codes[r["agency_id"]] for r in found if r["agency_id"] in self.codes
                    ),
                    "named_readers": sorted(logins[r["user_id"]] for r in found if r["user_id"] in logins),
                },
                "originator_agency": self.code(row["originator_agency_id"]),
                "owner_agency": self.code(row["owner_agency_id"]),
                "custodian_agency": self.code(row["custodian_agency_id"]),
                "theatre": self.theatres.get(row["theatre_id"]) if row["theatre_id"] else None,
                "parent_id": str(row["parent_id"]) if row["parent_id"] else None,
                "restricted_case_id": str(row["restricted_case_id"]) if row["restricted_case_id"] else None,
                "provenance": row["provenance"],
                "created_at": row["created_at"].isoformat(),
                "created_by": logins.get(row["created_by_id"]) if row["created_by_id"] else None,
                "data": data,
                "links": links.of(row["id"], data, logins),
            }
            payloads.append(payload)
        return payloads

    async def _lines(self, handover: Handover) -> None:
        with JsonLines(self.root / "lines", self.part_bytes) as out:
            async for rows in bulk.exported_lines(self.session, handover.id, batch=BATCH):
                users = {
                    u for ln in rows for u in (ln["decided_by_id"], ln["consent_by_id"]) if u is not None
                }
                logins = await user_logins(self.session, users)
                for ln in rows:
                    out.write(self._line(ln, logins))

    def _line(self, ln: RowMapping, logins: dict[uuid.UUID, str]) -> dict[str, Any]:
        return {
            "seq": ln["seq"],
            "kind": ln["kind"],
            "subject_id": str(ln["subject_id"]) if ln["subject_id"] else None,
            "title": ln["title"],
            "disposition": ln["disposition"],
            "reason": ln["reason"],
            "decline_outcome": ln["decline_outcome"],
            "completion_evidence": ln["completion_evidence"],
            "decided_by": logins.get(ln["decided_by_id"]) if ln["decided_by_id"] else None,
            "decided_at": ln["decided_at"].isoformat() if ln["decided_at"] else None,
            "consent_agency": self.code(ln["consent_agency_id"]),
            "consent_status": ln["consent_status"],
            "consent_by": logins.get(ln["consent_by_id"]) if ln["consent_by_id"] else None,
        }

    async def _coordination(self, handover: Handover) -> None:
        responsibilities = await bulk.accepted_responsibilities(self.session, handover.id)
        positions = await bulk.accepted_positions(self.session, handover.id)
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

    def _header(self, handover: Handover, source: str) -> dict[str, Any]:
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
        }


def _domain_data(row: RowMapping, names: list[str]) -> dict[str, Any]:
    """The domain row's columns but its id, as the package carries them. Dates and
    timestamps stay objects: the JSON writer renders them in ISO form."""
    prefix = bulk.DOMAIN_PREFIX
    return {name: row[prefix + name] for name in names}


class _Links:
    """A batch's links to other rows, by kind of record, read in one query per table.

    Agencies and people travel by code and login, never by this installation's ids;
    the receiving installation maps them to its own."""

    def __init__(self, writer: _Writer, kind: str) -> None:
        self.writer = writer
        self.kind = kind
        self.found: dict[str, dict[uuid.UUID, list[RowMapping]]] = {}
        self.positions: dict[uuid.UUID, str] = {}
        self.user_ids: set[uuid.UUID] = set()

    async def load(self, ids: bulk.Ids, rows: Sequence[RowMapping]) -> None:
        s = self.writer.session
        if self.kind == "case":
            self.found = {
                "crime": await bulk.case_crime_types(s, ids),
                "agencies": await bulk.case_agencies(s, ids),
                "members": await bulk.case_members(s, ids),
            }
            self.user_ids = {m["user_id"] for found in self.found["members"].values() for m in found}
        elif self.kind == "intel_item":
            self.found = {"cases": await bulk.intel_cases(s, ids)}
        elif self.kind == "evidence":
            self.found = {"custody": await bulk.custody_events(s, ids)}
            self.user_ids = {e["holder_user_id"] for found in self.found["custody"].values() for e in found}
        elif self.kind == "task":
            self.found = {
                "support": await bulk.task_supporting_agencies(s, ids),
                "deps": await bulk.task_dependencies(s, ids),
            }
            prefix = bulk.DOMAIN_PREFIX
            self.positions = await bulk.position_titles(
                s, (r[prefix + "assignee_position_id"] for r in rows if r[prefix + "assignee_position_id"])
            )
            self.user_ids = {r[prefix + "assignee_user_id"] for r in rows}
        self.user_ids.discard(None)

    def of(self, record_id: uuid.UUID, data: dict[str, Any], logins: dict[uuid.UUID, str]) -> dict[str, Any]:
        """One record's links; clears the ids in ``data`` that only mean something here."""
        code = self.writer.code

        def rows(name: str) -> list[RowMapping]:
            return self.found[name].get(record_id, [])

        if self.kind == "case":
            lead = data["lead_agency_id"]
            data["lead_agency_id"] = None
            return {
                "lead_agency": code(lead),
                "crime_types": sorted(str(r["crime_type"]) for r in rows("crime")),
                "agencies": [{"agency": code(r["agency_id"]), "role": r["role"]} for r in rows("agencies")],
                "members": sorted(logins[r["user_id"]] for r in rows("members") if r["user_id"] in logins),
            }
        if self.kind == "intel_item":
            return {"case_ids": sorted(str(r["case_id"]) for r in rows("cases"))}
        if self.kind == "evidence":
            return {
                "custody": [
                    {
                        "holder_agency": code(e["holder_agency_id"]),
                        "holder": logins.get(e["holder_user_id"]) if e["holder_user_id"] else None,
                        "received_at": e["received_at"].isoformat(),
                        "location": e["location"],
                        "note": e["note"],
                    }
                    for e in rows("custody")
                ]
            }
        if self.kind == "task":
            lead, user, position = (
                data["lead_agency_id"],
                data["assignee_user_id"],
                data["assignee_position_id"],
            )
            data["lead_agency_id"] = data["assignee_position_id"] = data["assignee_user_id"] = None
            return {
                "lead_agency": code(lead),
                "supporting_agencies": sorted(
                    c for c in (code(r["agency_id"]) for r in rows("support")) if c
                ),
                "depends_on": sorted(str(r["depends_on_id"]) for r in rows("deps")),
                "assignee": logins.get(user) if user else None,
                "assignee_position": self.positions.get(position) if position else None,
            }
        return {}


# Used by the package reader to tell lines of records from other lines.
RECORD_LINE_KINDS = {LineKind(k) for k in RECORD_KINDS}

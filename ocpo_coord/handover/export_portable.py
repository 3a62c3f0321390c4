"""The package's lines built in Python, a batch of rows at a time: the portable path.

Any database runs it (SQLite has no COPY). Each batch of records costs one select
through the sharing rule, one per kind of link and one for the logins it names; each
record becomes a dictionary written with orjson. On PostgreSQL the database builds the
same bytes itself (``package_sql``); a test checks that both paths agree.
"""

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import RowMapping
from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.auth.directory import user_logins
from ocpo_coord.context import Actor
from ocpo_coord.handover import package_repository as bulk
from ocpo_coord.handover.package import JsonLines
from ocpo_coord.models.enums import Classification

# Records per query: large enough that round trips do not count, small enough that a
# batch of rows and links stays a few megabytes.
BATCH = 2000


class PortableLines:
    """Writes the records and lines of one handover, built row by row in Python."""

    def __init__(
        self,
        session: AsyncSession,
        actor: Actor,
        codes: dict[uuid.UUID, str],
        theatres: dict[uuid.UUID, str],
    ) -> None:
        self.session = session
        self.actor = actor
        self.codes = codes
        self.theatres = theatres
        self.handover_id: uuid.UUID | None = None

    def code(self, agency_id: uuid.UUID | None) -> str | None:
        return self.codes.get(agency_id) if agency_id else None

    async def records(self, kind: str, handover_id: uuid.UUID, out: JsonLines) -> None:
        """The moving records of one kind that the exporter may read."""
        batches = bulk.moving_records(
            self.session, handover_id, kind, self.actor.principal, self.actor.now, batch=BATCH
        )
        async for batch in batches:
            for payload in await self._payloads(kind, batch):
                out.write(payload)

    async def entities(self, handover_id: uuid.UUID, out: JsonLines) -> None:
        """The entities linked to the moving records that the exporter may read."""
        self.handover_id = handover_id
        batches = bulk.moving_entities(
            self.session, handover_id, self.actor.principal, self.actor.now, batch=BATCH
        )
        async for batch in batches:
            for payload in await self._payloads("entity", batch):
                out.write(payload)

    async def lines(self, handover_id: uuid.UUID, out: JsonLines) -> None:
        async for rows in bulk.exported_lines(self.session, handover_id, batch=BATCH):
            users = {u for ln in rows for u in (ln["decided_by_id"], ln["consent_by_id"]) if u is not None}
            logins = await user_logins(self.session, users)
            for ln in rows:
                out.write(self._line(ln, logins))

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


def _domain_data(row: RowMapping, names: list[str]) -> dict[str, Any]:
    """The domain row's columns but its id, as the package carries them. Dates and
    timestamps stay objects: the JSON writer renders them in ISO form."""
    prefix = bulk.DOMAIN_PREFIX
    return {name: row[prefix + name] for name in names}


class _Links:
    """A batch's links to other rows, by kind of record, read in one query per table.

    Agencies and people travel by code and login, never by this installation's ids;
    the receiving installation maps them to its own."""

    def __init__(self, writer: PortableLines, kind: str) -> None:
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
        elif self.kind == "entity":
            assert self.writer.handover_id is not None
            self.found = {
                "selectors": await bulk.entity_selectors(s, ids),
                "records": await bulk.entity_records(s, ids, self.writer.handover_id),
            }
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
                "agencies": sorted(
                    ({"agency": code(r["agency_id"]), "role": r["role"]} for r in rows("agencies")),
                    key=lambda a: (a["agency"] or "", a["role"]),
                ),
                "members": sorted(logins[r["user_id"]] for r in rows("members") if r["user_id"] in logins),
            }
        if self.kind == "intel_item":
            return {"case_ids": sorted(str(r["case_id"]) for r in rows("cases"))}
        if self.kind == "entity":
            return {
                "selectors": sorted(
                    (
                        {"kind": r["kind"], "value": r["value"], "normalized": r["normalized"]}
                        for r in rows("selectors")
                    ),
                    key=lambda x: (x["kind"], x["normalized"], x["value"]),
                ),
                "records": sorted(
                    ({"record_id": str(r["record_id"]), "role": r["role"]} for r in rows("records")),
                    key=lambda x: (x["record_id"], x["role"]),
                ),
            }
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

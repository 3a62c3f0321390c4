"""Export a completed handover as a BagIt package for the receiving installation.

The package is signed by this installation's key and carries the audit log's
checkpoint and the inclusion proofs of the entries about every record in it
(``proof_export``, ``signature``).

Only what moved leaves: records on accepted lines, which after completion belong to
the receiver or were released to it with the originator's consent. Every one of them
must be readable by the person exporting (the sharing rule, in the database query);
if some are not, the export stops and says how many, rather than leave them behind.

Records and lines are streamed into JSON Lines parts and hashed as they are written,
so neither the queries nor the memory grow per record and the payload is read once.
On PostgreSQL the database builds each line's JSON and streams it out with COPY
(``package_sql``, ``streaming``), on two connections that read the same snapshot;
elsewhere Python builds it a batch at a time (``export_portable``). Both write the
same bytes. Then the kept files of the evidence that left are copied in, each checked
against its digest as it is copied.
"""

import shutil
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.audit.canonical import jsonable
from ocpo_coord.audit.keys import checkpoint_signer
from ocpo_coord.audit.note import Signer
from ocpo_coord.audit.service import record_event
from ocpo_coord.auth.directory import theatre_codes
from ocpo_coord.config import get_settings
from ocpo_coord.context import Actor
from ocpo_coord.evidence.store import FileStore
from ocpo_coord.exceptions import Conflict, InvalidInput
from ocpo_coord.handover import package_repository as bulk
from ocpo_coord.handover import package_sql, streaming
from ocpo_coord.handover.export_portable import PortableLines
from ocpo_coord.handover.package import (
    FILES,
    FORMAT,
    PACKAGE_KINDS,
    PART_BYTES,
    RECORD_KINDS,
    Fixity,
    JsonLines,
    dump_json,
    installation_identity,
    long_lived_objects_frozen,
    read_json_lines,
    stage,
    target_is_empty,
    write_bag,
)
from ocpo_coord.handover.package_proof import PROOF_COUNT, package_record_ids
from ocpo_coord.handover.proof_export import checkpoint_for_export, write_proofs
from ocpo_coord.handover.service import visible
from ocpo_coord.handover.signature import sign_package
from ocpo_coord.models import Handover
from ocpo_coord.models.base import column_values
from ocpo_coord.models.enums import HandoverStatus, LineKind
from ocpo_coord.visibility.repository import agency_codes


class ExportSummary(BaseModel):
    directory: str
    handover_reference: str
    source_installation: str
    records: int
    counts: dict[str, int]
    files: int
    file_bytes: int
    signed_by: str
    checkpoint_size: int
    proofs: int


async def export_handover(
    session: AsyncSession,
    *,
    actor: Actor,
    handover_id: uuid.UUID,
    directory: Path,
    part_bytes: int = PART_BYTES,
    store: FileStore | None = None,
    signer: Signer | None = None,
) -> ExportSummary:
    """``signer``: the key of this installation's audit log (by default the one the
    settings name), which signs the package and the checkpoint it carries."""
    signer = signer or checkpoint_signer(get_settings())
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
    codes = await agency_codes(session)
    payload = directory / "payload-tmp"
    stage(payload)
    fixity = Fixity(payload)
    try:
        writer = _Payload(session, actor, handover, payload, fixity, part_bytes, codes)
        with long_lived_objects_frozen():
            counts = await writer.write(expected)
        # Named once the records are read: at its first use the installation's identity
        # is a write, and a transaction that has written reads on its own connection
        # alone (``streaming.snapshot_readers``).
        source = await installation_identity(session)
        writer.write_header(source)
        unreadable = sum(expected.values()) - sum(counts.get(k, 0) for k in RECORD_KINDS)
        if unreadable:
            raise Conflict(
                f"{unreadable} transferred records are not readable by you; export as a user of the "
                "receiving agency with enough clearance",
                field="actor",
            )
        files, file_bytes = await writer.write_files(store or FileStore.configured())
        # Also after the records are read: integrating the log's queue is a write.
        checkpoint = await checkpoint_for_export(session, signer)
        proofs = await write_proofs(
            session,
            root=payload,
            fixity=fixity,
            checkpoint=checkpoint,
            record_ids=package_record_ids(payload, FORMAT),
            part_bytes=part_bytes,
        )
    except BaseException:
        shutil.rmtree(payload, ignore_errors=True)
        raise
    records = sum(counts.values())
    write_bag(
        directory,
        payload,
        {
            "Source-Organization": codes.get(handover.outgoing_agency_id, "?"),
            "External-Identifier": handover.reference,
            "External-Description": f"ocpo-coord handover {handover.reference}: {handover.title}"[:500],
            "Ocpo-Format": FORMAT,
            "Ocpo-Handover-Id": str(handover.id),
            "Ocpo-Source-Installation": source,
            "Ocpo-Record-Count": str(records),
            "Ocpo-Counts": " ".join(f"{k}={counts.get(k, 0)}" for k in PACKAGE_KINDS),
            "Ocpo-File-Count": str(files),
            PROOF_COUNT: str(proofs),
            "Ocpo-Audit-Checkpoint-Size": str(checkpoint.size),
            "Ocpo-Exported-At": actor.now.astimezone(UTC).isoformat(),
        },
        fixity,
    )
    key_id = sign_package(directory, signer, handover=handover.reference)
    await record_event(
        session,
        actor=actor,
        action="handover.export",
        record_kind="handover",
        record_id=handover.id,
        after={
            "records": records,
            "counts": counts,
            "files": files,
            "source": source,
            "signed_by": key_id,
            "checkpoint_size": checkpoint.size,
            "proofs": proofs,
        },
        detail=f"exported {handover.reference}",
    )
    return ExportSummary(
        directory=str(directory),
        handover_reference=handover.reference,
        source_installation=source,
        records=records,
        counts=counts,
        files=files,
        file_bytes=file_bytes,
        signed_by=f"{signer.name} (key {key_id})",
        checkpoint_size=checkpoint.size,
        proofs=proofs,
    )


def database_builds_lines(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


# Relative cost of a record's line and of a handover line, for sharing the work of the
# database between two connections: a record joins its links, a line does not.
_RECORD_WEIGHT = 3


class _Payload:
    """Writes the payload of one package into a staging directory."""

    def __init__(
        self,
        session: AsyncSession,
        actor: Actor,
        handover: Handover,
        root: Path,
        fixity: Fixity,
        part_bytes: int,
        codes: dict[uuid.UUID, str],
    ) -> None:
        self.session = session
        self.actor = actor
        self.handover = handover
        self.root = root
        self.fixity = fixity
        self.part_bytes = part_bytes
        self.codes = codes
        self.theatres: dict[uuid.UUID, str] = {}

    def code(self, agency_id: uuid.UUID | None) -> str | None:
        return self.codes.get(agency_id) if agency_id else None

    def parts(self, folder: Path) -> JsonLines:
        return JsonLines(folder, self.fixity, self.part_bytes)

    async def write(self, expected: dict[str, int]) -> dict[str, int]:
        """Every file of the payload but its header (``write_header``); returns how many
        records of each kind it holds. Only the records the exporter may read are written."""
        self.theatres = await theatre_codes(self.session)
        counts: dict[str, int] = {}
        kinds = [k for k in RECORD_KINDS if expected.get(k)]
        if database_builds_lines(self.session):
            jobs = [(_RECORD_WEIGHT * expected[k], self._copied_records(k, counts)) for k in kinds]
            jobs.append((sum(expected.values()), self._copied_lines()))
            await streaming.on_two_connections(self.session, jobs)
        else:
            portable = PortableLines(self.session, self.actor, self.codes, self.theatres)
            for kind in kinds:
                with self.parts(self.root / "records" / kind) as out:
                    await portable.records(kind, self.handover.id, out)
                counts[kind] = out.written
            with self.parts(self.root / "lines") as out:
                await portable.lines(self.handover.id, out)
        await self._coordination(self.handover)
        # Entities are few beside records, and carry JSON attributes: Python writes them
        # on every database.
        portable = PortableLines(self.session, self.actor, self.codes, self.theatres)
        with self.parts(self.root / "records" / "entity") as out:
            await portable.entities(self.handover.id, out)
        counts["entity"] = out.written
        return {k: counts[k] for k in PACKAGE_KINDS if counts.get(k)}

    async def write_files(self, store: FileStore) -> tuple[int, int]:
        """The kept files of the evidence in the payload; how many, and their bytes.

        Which files is read from the evidence lines just written, not asked of the
        database again: the package then names exactly the files it carries, whatever
        was uploaded since its records were read."""
        digests = sorted(
            {
                payload["data"]["sha256"]
                for _, payload in read_json_lines(self.root / "records" / "evidence", "records/evidence")
                if payload["data"].get("content_stored")
            }
        )
        if not digests:
            return 0, 0
        folder = self.root / FILES
        folder.mkdir()

        def copy() -> int:
            # Two at a time: one file is hashed while the kernel copies the next, and
            # the disk always has a read or a write to do. Both threads let go of the
            # GIL for the work.
            with ThreadPoolExecutor(max_workers=2) as pool:
                kept = list(pool.map(lambda digest: store.copy_out(digest, folder / digest), digests))
            for digest, stored in zip(digests, kept, strict=True):
                self.fixity.add(folder / digest, stored.sha256, stored.size)
            return sum(stored.size for stored in kept)

        # Copying is the file system's and the hash's work, gigabytes of it: off the loop.
        return len(digests), await anyio.to_thread.run_sync(copy)

    def write_header(self, source: str) -> None:
        dump_json(self.root / "handover.json", self._header(self.handover, source), self.fixity)

    def _copied_records(
        self, kind: str, counts: dict[str, int]
    ) -> Callable[[AsyncConnection], Awaitable[None]]:
        async def job(conn: AsyncConnection) -> None:
            statement = package_sql.record_lines(kind, self.handover.id, self.actor.principal, self.actor.now)
            with self.parts(self.root / "records" / kind) as out:
                async for line in streaming.copy_lines(conn, statement):
                    out.write_line(line)
            counts[kind] = out.written

        return job

    def _copied_lines(self) -> Callable[[AsyncConnection], Awaitable[None]]:
        async def job(conn: AsyncConnection) -> None:
            with self.parts(self.root / "lines") as out:
                async for line in streaming.copy_lines(conn, package_sql.handover_lines(self.handover.id)):
                    out.write_line(line)

        return job

    async def _coordination(self, handover: Handover) -> None:
        # The rows that ended at the cut-off and the receiver's rows that succeed them.
        responsibilities = await bulk.accepted_responsibilities(self.session, handover.id)
        responsibilities += await bulk.successor_responsibilities(self.session, handover)
        positions = await bulk.accepted_positions(self.session, handover.id)
        dump_json(
            self.root / "responsibilities.json",
            [
                jsonable(column_values(r))
                | {"agency": self.code(r.agency_id), "theatre": self.theatres.get(r.theatre_id)}
                for r in responsibilities
            ],
            self.fixity,
        )
        dump_json(
            self.root / "positions.json",
            [
                jsonable(column_values(p))
                | {
                    "agency": self.code(p.agency_id),
                    "theatre": self.theatres.get(p.theatre_id) if p.theatre_id else None,
                }
                for p in positions
            ],
            self.fixity,
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


# Used by the package reader to tell lines of records from other lines.
RECORD_LINE_KINDS = {LineKind(k) for k in RECORD_KINDS}

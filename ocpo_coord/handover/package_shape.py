"""What every object of a package must look like, checked without a database.

``handover verify`` and the import run the same checks: a package whose manifests were
recomputed over broken or malformed records fails verification, not half-way through an
import. What only the receiving installation can judge (do its agencies, theatres and
people exist; is a case reference free) is checked by ``handover verify --as``, which
runs the import itself and writes nothing.
"""

import uuid
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ocpo_coord.evidence.store import is_digest
from ocpo_coord.handover.import_coordination import check_coordination
from ocpo_coord.handover.package import (
    FILES,
    PACKAGE_KINDS,
    InvalidPackage,
    PackageCheck,
    line_payloads,
    read_json,
    record_payloads,
    verify_package,
)
from ocpo_coord.handover.package_repository import DOMAIN
from ocpo_coord.models.base import validated_row
from ocpo_coord.models.enums import ConsentStatus, DeclineOutcome, Disposition, LineKind, Tlp

# Domain columns that travel as codes in ``links``; a placeholder stands in for the check.
_LOCAL = {"case": ("lead_agency_id",), "task": ("lead_agency_id",)}
_PLACEHOLDER = uuid.UUID(int=0)
# At most this many problems are named: one broken part would otherwise name every line.
MAX_PROBLEMS = 20


class _Markings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    classification: Literal["UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL", "SECRET"]
    tlp: Tlp
    orcon: bool
    nohost: bool
    releasable_to: list[str] = Field(default_factory=list)
    named_readers: list[str] = Field(default_factory=list)


class _Record(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: uuid.UUID
    kind: str | None = None
    markings: _Markings
    originator_agency: str
    owner_agency: str
    custodian_agency: str
    theatre: str | None = None
    parent_id: uuid.UUID | None = None
    restricted_case_id: uuid.UUID | None = None
    provenance: str = ""
    created_at: datetime
    created_by: str | None = None
    data: dict[str, Any]
    links: dict[str, Any] = Field(default_factory=dict)


class _Line(BaseModel):
    model_config = ConfigDict(extra="ignore")

    seq: int = Field(ge=1)
    kind: LineKind
    subject_id: uuid.UUID | None = None
    disposition: Disposition
    reason: str
    decline_outcome: DeclineOutcome | None = None
    decided_at: datetime | None = None
    consent_status: ConsentStatus


class _Header(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: uuid.UUID
    reference: str = Field(min_length=1)
    title: str
    scope: str
    outgoing_agency: str
    incoming_agency: str
    theatre: str
    cut_off: date
    completed_at: datetime | None = None


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    place = ".".join(str(p) for p in error["loc"])
    return f"{place}: {error['msg']}" if place else str(error["msg"])


def check_record(kind: str, where: str, payload: Any) -> _Record:
    """One record as the import reads it: its fields, markings and domain row."""
    if not isinstance(payload, dict):
        raise InvalidPackage(f"{where}: not a JSON object", field="package")
    try:
        record = _Record.model_validate(payload)
    except ValidationError as exc:
        raise InvalidPackage(
            f"{where}: not a valid {kind} record ({_first_error(exc)})", field="package"
        ) from exc
    if record.kind is not None and record.kind != kind:
        raise InvalidPackage(f"{where}: a {record.kind} record among the {kind} records", field="package")
    links = record.links
    local = dict.fromkeys(_LOCAL.get(kind, ()), _PLACEHOLDER)
    if local and not isinstance(links.get("lead_agency"), str):
        raise InvalidPackage(
            f"{where}: not a valid {kind} record (links.lead_agency missing)", field="package"
        )
    try:
        validated_row(DOMAIN[kind], record.data | local | {"id": record.id})
    except ValidationError as exc:
        raise InvalidPackage(
            f"{where}: not a valid {kind} record (data.{_first_error(exc)})", field="package"
        ) from exc
    if kind == "evidence" and record.data.get("content_stored") and not is_digest(record.data.get("sha256")):
        raise InvalidPackage(f"{where}: a kept file needs its SHA-256 digest", field="package")
    return record


def check_line(where: str, payload: Any) -> None:
    if not isinstance(payload, dict):
        raise InvalidPackage(f"{where}: not a JSON object", field="package")
    try:
        _Line.model_validate(payload)
    except ValidationError as exc:
        raise InvalidPackage(
            f"{where}: not a valid handover line ({_first_error(exc)})", field="package"
        ) from exc


def check_header(manifest: Any) -> None:
    if not isinstance(manifest, dict) or not isinstance(manifest.get("handover"), dict):
        raise InvalidPackage("handover.json: no handover", field="package")
    if not isinstance(manifest.get("source_installation"), str):
        raise InvalidPackage("handover.json: no source_installation", field="package")
    try:
        _Header.model_validate(manifest["handover"])
    except ValidationError as exc:
        raise InvalidPackage(f"handover.json: handover.{_first_error(exc)}", field="package") from exc


def _problems(root: Path, package_format: str) -> Iterator[str]:
    try:
        manifest = read_json(root / "handover.json")
    except (OSError, ValueError) as exc:
        yield f"handover.json: not JSON ({exc})"
        return
    try:
        check_header(manifest)
    except InvalidPackage as exc:
        yield exc.message
    ids: set[uuid.UUID] = set()
    restricted: list[tuple[str, uuid.UUID]] = []
    for kind in PACKAGE_KINDS:
        try:
            for where, payload in record_payloads(root, package_format, kind):
                try:
                    record = check_record(kind, where, payload)
                except InvalidPackage as exc:
                    yield exc.message
                    continue
                ids.add(record.id)
                if record.restricted_case_id is not None:
                    restricted.append((where, record.restricted_case_id))
                digest = record.data.get("sha256")
                if (
                    kind == "evidence"
                    and record.data.get("content_stored")
                    and not (root / FILES / str(digest)).is_file()
                ):
                    yield f"{where}: its file {FILES}/{digest} is not in the package"
        except (InvalidPackage, OSError, ValueError) as exc:
            yield exc.message if isinstance(exc, InvalidPackage) else f"records/{kind}: {exc}"
    for where, case_id in restricted:
        if case_id not in ids:
            yield (
                f"{where}: the record belongs to restricted case {case_id}, which is not in the "
                "package; importing it without the case would widen who may read it"
            )
    try:
        for where, payload in line_payloads(
            root, package_format, manifest if isinstance(manifest, dict) else {}
        ):
            try:
                check_line(where, payload)
            except InvalidPackage as exc:
                yield exc.message
    except InvalidPackage as exc:
        yield exc.message
    try:
        check_coordination(root)
    except InvalidPackage as exc:
        yield exc.message


def payload_problems(root: Path, package_format: str) -> list[str]:
    """Every problem the import would find in the payload (``root`` is ``data/``) before
    it asks the database anything; the first ``MAX_PROBLEMS`` of them."""
    found = []
    for problem in _problems(root, package_format):
        found.append(problem)
        if len(found) >= MAX_PROBLEMS:
            found.append("(more problems not listed)")
            break
    return found


def verify(directory: Path) -> PackageCheck:
    """Fixity and completeness (``verify_package``), then every object of the payload."""
    check = verify_package(directory)
    if not check.ok:
        return check
    problems = payload_problems(directory / "data", check.info["Ocpo-Format"])
    return PackageCheck(not problems, problems, check.info, check.records)

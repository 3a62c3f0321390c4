"""BagIt packages (RFC 8493) that carry a completed handover between installations.

Layout of the payload (``data/``):

    handover.json                 the handover and every line it exported
    records/<kind>/<id>.json      one file per transferred record, markings included
    responsibilities.json         responsibilities that changed hands
    positions.json                positions that changed hands

Fixity is SHA-256 for every payload and tag file. ``verify`` runs bagit's own
validation (checksums and completeness) and also refuses files bagit tolerates but a
package of ours never has, so that any changed, missing or extra file is named.
"""

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bagit
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.config import get_settings
from ocpo_coord.exceptions import InvalidInput
from ocpo_coord.models import Installation

FORMAT = "ocpo-coord handover package 1"
TAG_FILES = {"bagit.txt", "bag-info.txt", "manifest-sha256.txt", "tagmanifest-sha256.txt"}
RECORD_KINDS = ("case", "evidence", "note", "intel_item", "task")


class InvalidPackage(InvalidInput):
    """The package failed verification; nothing from it may be imported."""


@dataclass
class PackageCheck:
    ok: bool
    problems: list[str] = field(default_factory=list)
    info: dict[str, str] = field(default_factory=dict)
    records: int = 0


async def installation_identity(session: AsyncSession) -> str:
    """This installation's stable identity: its name and a UUID fixed at first use."""
    row = (await session.exec(select(Installation))).first()
    if row is None:
        row = Installation(name=get_settings().installation_name)
        session.add(row)
        await session.flush()
    return f"{row.name}:{row.id}"


def dump_json(path: Path, payload: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        json.dump(payload, fh, ensure_ascii=False, sort_keys=True, indent=1, default=str)
        fh.write("\n")


def _problem(detail: object, root: Path) -> str:
    path = getattr(detail, "path", None)
    name = str(path) if path is not None else ""
    if name.startswith(str(root)):
        name = str(Path(name).relative_to(root))
    kind = type(detail).__name__
    if kind == "ChecksumMismatch":
        return f"{name}: changed (checksum does not match the manifest)"
    if kind == "FileMissing":
        return f"{name}: missing (listed in the manifest, not in the package)"
    if kind == "UnexpectedFile":
        return f"{name}: extra (in the package, not in the manifest)"
    return str(detail)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _diagnose(bag: bagit.Bag, root: Path) -> list[str]:
    """Name the files behind a failure bagit reports only in total (Payload-Oxum)."""
    listed = {name: hashes.get("sha256") for name, hashes in bag.payload_entries().items()}
    present = {str(p.relative_to(root)) for p in (root / "data").rglob("*") if p.is_file()}
    problems = [
        f"{name}: missing (listed in the manifest, not in the package)"
        for name in sorted(set(listed) - present)
    ]
    problems += [
        f"{name}: extra (in the package, not in the manifest)" for name in sorted(present - set(listed))
    ]
    problems += [
        f"{name}: changed (checksum does not match the manifest)"
        for name in sorted(present & set(listed))
        if _sha256(root / name) != listed[name]
    ]
    return problems


def verify_package(directory: Path) -> PackageCheck:
    """Fixity and completeness; never raises for a bad package, reports instead."""
    root = directory.resolve()
    if not root.is_dir():
        return PackageCheck(False, [f"{directory}: not a directory"])
    problems = [
        f"{p.name}: extra (not a tag file of this package)"
        for p in sorted(root.iterdir())
        if p.name != "data" and p.name not in TAG_FILES
    ]
    try:
        bag = bagit.Bag(str(root))
    except bagit.BagError as exc:
        return PackageCheck(False, [*problems, f"not a valid BagIt package: {exc}"])
    try:
        bag.validate(processes=1)
    except bagit.BagValidationError as exc:
        details = getattr(exc, "details", None) or []
        named = [_problem(d, root) for d in details] or _diagnose(bag, root) or [str(exc.message)]
        return PackageCheck(False, problems + named)
    except bagit.BagError as exc:
        return PackageCheck(False, [*problems, f"not a valid BagIt package: {exc}"])
    info = {k: v if isinstance(v, str) else ", ".join(v) for k, v in bag.info.items()}
    records = sum(1 for p in bag.payload_files() if Path(p).parts[1:2] == ("records",))
    if info.get("Ocpo-Format") != FORMAT:
        problems.append(f"bag-info.txt: Ocpo-Format is {info.get('Ocpo-Format')!r}, expected {FORMAT!r}")
    elif info.get("Ocpo-Record-Count") != str(records):
        problems.append(
            f"bag-info.txt: Ocpo-Record-Count says {info.get('Ocpo-Record-Count')}, the package holds {records}"
        )
    if not (root / "data" / "handover.json").is_file():
        problems.append("data/handover.json: missing")
    return PackageCheck(not problems, problems, info, records)


def target_is_empty(directory: Path) -> bool:
    return not directory.exists() or not any(directory.iterdir())


def stage(root: Path) -> None:
    root.mkdir(parents=True, exist_ok=False)


def unstage(root: Path, directory: Path) -> None:
    """Move the staged payload up into the bag directory. bagit's make_bag turns a
    directory's contents into data/, so an existing empty target becomes the bag."""
    directory.mkdir(parents=True, exist_ok=True)
    for child in root.iterdir():
        child.rename(directory / child.name)
    root.rmdir()


def make_bag(directory: Path, info: dict[str, str]) -> None:
    bagit.make_bag(str(directory), bag_info=info, processes=1, checksums=["sha256"])


def read_json(path: Path) -> Any:
    with path.open(encoding="utf-8") as fh:
        return json.load(fh)


def parse_uuid(value: object, where: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError as exc:
        raise InvalidPackage(f"{where}: {value!r} is not an id", field="package") from exc

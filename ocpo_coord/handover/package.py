"""BagIt packages (RFC 8493) that carry a completed handover between installations.

Layout of the payload (``data/``), format 5:

    handover.json                        the handover itself (no lines)
    lines/part-0001.jsonl                its exported lines, one JSON object a line, by seq
    records/<kind>/part-0001.jsonl       the transferred records of one kind, markings
                                         included, one JSON object a line; records/entity
                                         holds the entities linked to them, with their
                                         selectors and links
    files/<sha256>                       the kept file of each transferred evidence item
                                         whose ``content_stored`` is true, named by its
                                         digest (one copy for items that share one)
    responsibilities.json                responsibilities that changed hands
    positions.json                       positions that changed hands
    audit/                               the audit log's checkpoint and the inclusion
                                         proofs of the entries about each record
                                         (``package_proof``)

Beside the tag files, ``signature-ed25519.txt`` signs the tag manifest (``signature``).

Records and lines are JSON Lines in parts of bounded size (a new part starts once one
passes ``PART_BYTES``): a package costs a few files, not one per record, and neither
writing nor reading it holds more than one line in memory. Formats 4 (no audit proof),
3 (no entities), 2 (no files) and 1 (one JSON file per record, the lines inside
handover.json) are still read, when signed; an older installation refuses format 5 by
its name rather than import it unchecked.

Fixity is SHA-256 for every payload and tag file. ``verify`` runs bagit's own
validation (checksums and completeness) and also refuses files bagit tolerates but a
package of ours never has, so that any changed, missing or extra file is named.
"""

import gc
import hashlib
import json
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import bagit
import orjson
from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.config import get_settings
from ocpo_coord.exceptions import InvalidInput
from ocpo_coord.models import Installation

FORMAT_1 = "ocpo-coord handover package 1"
FORMAT_2 = "ocpo-coord handover package 2"
FORMAT_3 = "ocpo-coord handover package 3"
# Format 4 adds records/entity: an installation that reads only 3 refuses it by name
# rather than import the records without their entities.
FORMAT_4 = "ocpo-coord handover package 4"
# Format 5 adds audit/ (the audit log's checkpoint and proofs, ``package_proof``) and
# comes signed (``signature``); an older installation refuses it by name.
FORMAT = "ocpo-coord handover package 5"
READABLE_FORMATS = (FORMAT_1, FORMAT_2, FORMAT_3, FORMAT_4, FORMAT)
FILES = "files"
TAG_FILES = {"bagit.txt", "bag-info.txt", "manifest-sha256.txt", "tagmanifest-sha256.txt"}
# The signature over the tag manifest (``signature``): at the top, listed in no manifest.
SIGNATURE_FILE = "signature-ed25519.txt"
RECORD_KINDS = ("case", "evidence", "note", "intel_item", "task")
# What a package's records/ holds: the records of the lines, and the entities (persons,
# vehicles, phones...) linked to them, which travel with them, selectors included.
PACKAGE_KINDS = (*RECORD_KINDS, "entity")
# Big enough that a package has few files, small enough that any tool can open a part.
PART_BYTES = 16 * 1024 * 1024
_LINE_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE


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
        try:
            async with session.begin_nested():
                row = Installation(name=get_settings().installation_name)
                session.add(row)
        except IntegrityError:
            # Another first use made it meanwhile (the table holds one row at most):
            # its identity is this installation's.
            row = (await session.exec(select(Installation))).one()
    return f"{row.name}:{row.id}"


class Fixity:
    """The SHA-256 and size of every payload file, taken as the file is written: the
    bag's manifest then needs no second read of the payload."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.files: dict[str, tuple[str, int]] = {}

    def add(self, path: Path, digest: str, size: int) -> None:
        self.files[path.relative_to(self.root).as_posix()] = (digest, size)


def dump_json(path: Path, payload: Any, fixity: Fixity) -> None:
    text = json.dumps(payload, ensure_ascii=False, sort_keys=True, indent=1, default=str) + "\n"
    data = text.encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    fixity.add(path, hashlib.sha256(data).hexdigest(), len(data))


# Lines are gathered and written (and hashed) a block at a time: one call per line
# would cost more than the line.
_BLOCK = 1 << 20


class JsonLines:
    """Writes objects, or lines of JSON text, as JSON Lines into
    ``folder/part-NNNN.jsonl``, starting a new part once the current one passes
    ``part_bytes``; keys sorted, so the bytes of a record do not depend on the order its
    fields were read in. Each part's checksum goes to ``fixity`` when it is closed."""

    def __init__(self, folder: Path, fixity: Fixity, part_bytes: int = PART_BYTES) -> None:
        self.folder = folder
        self.fixity = fixity
        self.part_bytes = part_bytes
        self.parts = 0
        self.written = 0
        self._file: IO[bytes] | None = None
        self._path = folder
        self._size = 0
        self._block = bytearray()
        self._digest = hashlib.sha256()

    def write(self, payload: Any) -> None:
        self.write_line(orjson.dumps(payload, option=_LINE_OPTIONS))

    def write_line(self, line: bytes | bytearray | memoryview) -> None:
        """One line of JSON text, its newline included."""
        if self._file is None or self._size >= self.part_bytes:
            self._next_part()
        self._block += line
        self._size += len(line)
        self.written += 1
        if len(self._block) >= _BLOCK:
            self._flush()

    def _flush(self) -> None:
        assert self._file is not None
        self._file.write(self._block)
        self._digest.update(self._block)
        self._block.clear()

    def _next_part(self) -> None:
        self.close()
        self.parts += 1
        self.folder.mkdir(parents=True, exist_ok=True)
        self._path = self.folder / f"part-{self.parts:04d}.jsonl"
        self._file = self._path.open("wb")
        self._size = 0
        self._digest = hashlib.sha256()

    def close(self) -> None:
        if self._file is not None:
            self._flush()
            self._file.close()
            self._file = None
            self.fixity.add(self._path, self._digest.hexdigest(), self._size)

    def __enter__(self) -> "JsonLines":
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def read_json_lines(folder: Path, where: str) -> Iterator[tuple[str, Any]]:
    """Each object of ``folder``'s parts in order, with where it sits (for error messages)."""
    for part in sorted(folder.glob("part-*.jsonl")):
        with part.open("rb") as fh:
            for number, line in enumerate(fh, start=1):
                place = f"{where}/{part.name} line {number}"
                try:
                    yield place, orjson.loads(line)
                except orjson.JSONDecodeError as exc:
                    raise InvalidPackage(f"{place}: not JSON ({exc})", field="package") from exc


def record_payloads(root: Path, package_format: str, kind: str) -> Iterator[tuple[str, Any]]:
    """The records of one kind in a package's payload (``root`` is its ``data/``)."""
    folder = root / "records" / kind
    if package_format == FORMAT_1:
        for path in sorted(folder.glob("*.json")):
            yield f"records/{kind}/{path.name}", read_json(path)
        return
    yield from read_json_lines(folder, f"records/{kind}")


def line_payloads(root: Path, package_format: str, manifest: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """The handover's lines, from the parts of format 2 or inside handover.json (1)."""
    if package_format == FORMAT_1:
        for number, line in enumerate(manifest.get("lines", []), start=1):
            yield f"handover.json line {number}", line
        return
    yield from read_json_lines(root / "lines", "lines")


def _count_records(root: Path, package_format: str) -> int:
    records = root / "data" / "records"
    if package_format == FORMAT_1:
        return sum(1 for p in records.glob("*/*.json") if p.is_file())
    total = 0
    for part in records.glob("*/part-*.jsonl"):
        with part.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                total += chunk.count(b"\n")
    return total


@contextmanager
def long_lived_objects_frozen() -> Iterator[None]:
    """Keep the garbage collector off the objects that exist before a bulk job.

    Each batch keeps a few thousand rows alive long enough to reach the oldest
    generation, which sets off full collections; each one walks every object of the
    process (the ORM's mappings, the application), however little garbage there is.
    Frozen, those objects are skipped; the job's own garbage is still
    collected. A freeze made by someone else (a server before it forks) is left alone.
    """
    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


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


def unknown_format(package_format: str) -> str:
    readable = " or ".join(repr(f) for f in READABLE_FORMATS)
    return (
        f"bag-info.txt: Ocpo-Format is {package_format!r}, a package format this installation "
        f"does not read (it reads {readable})"
    )


def verify_package(directory: Path) -> PackageCheck:
    """Fixity and completeness; never raises for a bad package, reports instead."""
    root = directory.resolve()
    if not root.is_dir():
        return PackageCheck(False, [f"{directory}: not a directory"])
    problems = [
        f"{p.name}: extra (not a tag file of this package)"
        for p in sorted(root.iterdir())
        if p.name != "data" and p.name not in TAG_FILES and p.name != SIGNATURE_FILE
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
    package_format = info.get("Ocpo-Format", "")
    records = 0
    if package_format not in READABLE_FORMATS:
        problems.append(unknown_format(package_format))
    elif info.get("Ocpo-Record-Count") != str(records := _count_records(root, package_format)):
        problems.append(
            f"bag-info.txt: Ocpo-Record-Count says {info.get('Ocpo-Record-Count')}, the package holds {records}"
        )
    if package_format in (FORMAT_3, FORMAT_4, FORMAT) and info.get("Ocpo-File-Count") != str(
        files := sum(1 for p in (root / "data" / FILES).glob("*") if p.is_file())
    ):
        problems.append(
            f"bag-info.txt: Ocpo-File-Count says {info.get('Ocpo-File-Count')}, the package holds {files}"
        )
    if not (root / "data" / "handover.json").is_file():
        problems.append("data/handover.json: missing")
    return PackageCheck(not problems, problems, info, records)


def target_is_empty(directory: Path) -> bool:
    return not directory.exists() or not any(directory.iterdir())


def stage(root: Path) -> None:
    root.mkdir(parents=True, exist_ok=False)


_LINE_BREAK = re.compile(r"[\r\n]")
BAGIT_TXT = "BagIt-Version: 0.97\nTag-File-Character-Encoding: UTF-8\n"


def write_bag(directory: Path, payload: Path, info: dict[str, str], fixity: Fixity) -> None:
    """Make ``directory`` a bag of the staged ``payload``, whose files ``fixity`` has
    hashed as they were written.

    The tag files are those bagit's ``make_bag`` writes (same BagIt version, manifest
    and tag manifest lines, sorted bag-info fields, Payload-Oxum), so any BagIt tool,
    bagit's own validation among them, reads the package; only the payload is not read
    again to hash it.
    """
    payload.rename(directory / "data")
    manifest = "".join(f"{digest}  data/{name}\n" for name, (digest, _) in sorted(fixity.files.items()))
    fields = {
        "Bagging-Date": date.today().isoformat(),
        "Bag-Software-Agent": "ocpo-coord",
        **info,
        "Payload-Oxum": f"{sum(size for _, size in fixity.files.values())}.{len(fixity.files)}",
    }
    # Line breaks would end a field early; bagit drops them too.
    bag_info = "".join(f"{name}: {_LINE_BREAK.sub('', fields[name])}\n" for name in sorted(fields))
    tags = {"bagit.txt": BAGIT_TXT, "bag-info.txt": bag_info, "manifest-sha256.txt": manifest}
    for name, text in tags.items():
        (directory / name).write_text(text, encoding="utf-8", newline="\n")
    tag_manifest = "".join(
        f"{hashlib.sha256(text.encode('utf-8')).hexdigest()} {name}\n" for name, text in tags.items()
    )
    (directory / "tagmanifest-sha256.txt").write_text(tag_manifest, encoding="utf-8", newline="\n")


def read_json(path: Path) -> Any:
    with path.open(encoding="utf-8") as fh:
        return json.load(fh)


def parse_uuid(value: object, where: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError as exc:
        raise InvalidPackage(f"{where}: {value!r} is not an id", field="package") from exc

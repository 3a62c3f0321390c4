"""A fixity sweep of the file store: every kept file hashed again and held against the
database, so an operator learns of a file that is missing, altered or named by nothing.

The store names a file by its SHA-256 (``store.FileStore``); a file whose bytes no
longer hash to its name is altered, a digest the database says is kept but the store
lacks is missing, and a file no evidence item names (a write that never committed, a
copy left by an interrupted import, anything put there by hand) is orphaned.
"""

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.evidence.store import FileStore, is_digest
from ocpo_coord.models import Evidence


@dataclass
class Sweep:
    checked: int = 0
    missing: list[str] = field(default_factory=list)
    altered: list[tuple[str, str]] = field(default_factory=list)
    orphaned: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.altered or self.orphaned)


async def kept_digests(session: AsyncSession) -> set[str]:
    """The digests of every file the database says the store keeps."""
    statement = select(Evidence.sha256).where(col(Evidence.content_stored).is_(True)).distinct()
    return {digest for digest in (await session.exec(statement)).all() if digest}


def _sha256(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _files(root: Path) -> Iterable[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else []


def sweep(store: FileStore, kept: set[str]) -> Sweep:
    """Hash every file of the store; name what is missing, altered or orphaned."""
    result = Sweep()
    present: set[str] = set()
    for path in _files(store.root):
        relative = path.relative_to(store.root).as_posix()
        name = path.name
        if not is_digest(name) or store.path(name) != path:
            # Not where the store puts a file (a temporary name, a staged import copy).
            result.orphaned.append(relative)
            continue
        result.checked += 1
        actual = _sha256(path)
        if actual != name:
            result.altered.append((relative, actual))
        if name in kept:
            present.add(name)
        else:
            result.orphaned.append(relative)
    result.missing = sorted(kept - present)
    return result

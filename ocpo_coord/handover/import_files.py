"""The evidence files an import keeps: copied into the file store's staging folder
while the records go into the database, and moved into their places once the import
commits.

Copying is the kernel's work and inserting records the database's, so the two overlap:
the copies start as soon as the package is verified, in a thread, and the import waits
for them only after its last record. Each copy is hashed again on the way: the manifest
vouches for a file's bytes, the copy for the name (the digest) its evidence item knows
it by. A failed or rolled back import leaves nothing at a digest's place in the store.
"""

import asyncio
import hashlib
import shutil
import threading
from pathlib import Path

import anyio
from sqlalchemy import event
from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.evidence.store import DamagedFile, FileStore, is_digest
from ocpo_coord.handover.package import FILES, InvalidPackage


async def check_files(folder: Path, wanted: dict[str, str]) -> None:
    """What ``StagedFiles.keep`` checks, without copying: each file is there and is its
    digest. ``wanted`` maps a digest to where the first item naming it sits."""

    def check() -> None:
        for digest, where in wanted.items():
            path = folder / digest
            if not path.is_file():
                raise InvalidPackage(
                    f"{where}: its file {FILES}/{digest} is not in the package", field="package"
                )
            with path.open("rb") as fh:
                actual = hashlib.file_digest(fh, "sha256").hexdigest()
            if actual != digest:
                raise InvalidPackage(
                    f"{where}: {FILES}/{digest} is not its file (its bytes hash to {actual})", field="package"
                )

    await anyio.to_thread.run_sync(check)


class StagedFiles:
    """The package's files, copied into a staging folder of ``store`` from ``start`` on."""

    def __init__(self, folder: Path, store: FileStore) -> None:
        self.folder, self.store = folder, store
        self.staging: Path | None = None
        self.damaged: dict[str, str] = {}
        self._copying: asyncio.Future[None] | None = None
        self._stop = threading.Event()

    def start(self) -> None:
        names = (
            sorted(p.name for p in self.folder.iterdir() if is_digest(p.name)) if self.folder.is_dir() else []
        )
        if not names:
            return
        self.staging = self.store.staging()
        self._copying = asyncio.ensure_future(anyio.to_thread.run_sync(self._copy, names, self.staging))

    def _copy(self, names: list[str], staging: Path) -> None:
        for digest in names:
            if self._stop.is_set():
                return
            try:
                self.store.stage_copy(self.folder / digest, digest, staging)
            except DamagedFile as exc:
                self.damaged[digest] = str(exc)

    async def keep(self, session: AsyncSession, wanted: dict[str, str]) -> None:
        """Once the copies are done: every file ``wanted`` names (digest -> where the
        first item naming it sits) was copied whole, and the copies are kept when the
        session commits; raises ``InvalidPackage`` naming the first that was not."""
        if self._copying is not None:
            await self._copying
        staging = self.staging
        for digest, where in wanted.items():
            if digest in self.damaged:
                raise InvalidPackage(
                    f"{where}: {FILES}/{digest} is not its file ({self.damaged[digest]})", field="package"
                )
            if staging is None or not (staging / digest).is_file():
                raise InvalidPackage(
                    f"{where}: its file {FILES}/{digest} is not in the package", field="package"
                )
        if staging is None:
            return
        # A file no item names is not kept.
        for path in staging.iterdir():
            if path.name not in wanted:
                path.unlink()
        sync = session.sync_session
        event.listen(sync, "after_commit", lambda _: self.store.keep_staged(staging), once=True)
        event.listen(sync, "after_rollback", lambda _: shutil.rmtree(staging, ignore_errors=True), once=True)

    async def abandon(self) -> None:
        """The import failed: stop copying after the file under way, then remove the copies."""
        self._stop.set()
        if self._copying is not None:
            await asyncio.gather(self._copying, return_exceptions=True)
        if self.staging is not None:
            shutil.rmtree(self.staging, ignore_errors=True)

"""Evidence files, kept by their SHA-256: content-addressed and written once.

A file's name is its digest, so the same bytes uploaded twice are kept once, a kept
file never changes, and its fixity can be checked at any time by hashing it again.
The store is a directory and nothing about it is held in memory, so every service
process of an installation can share it as they share the database (on a shared volume
once there are several machines).

A file is written under a temporary name and renamed into place once it is complete
and hashed: nobody ever sees half a file. A file whose database row never commits (the
request failed after the upload) stays behind unnamed by any record; it is harmless,
and the same bytes uploaded again find it in place.
"""

import hashlib
import os
import re
import shutil
import uuid
from collections.abc import AsyncIterable
from dataclasses import dataclass
from pathlib import Path

from ocpo_coord.config import get_settings
from ocpo_coord.exceptions import Conflict, InvalidInput, TooLarge

# Lower-case hexadecimal SHA-256, as evidence records it and as the store names files.
DIGEST = "[0-9a-f]{64}"
_DIGEST = re.compile(DIGEST)


def is_digest(text: object) -> bool:
    """Lower-case hexadecimal SHA-256: the only names the store gives files."""
    return isinstance(text, str) and _DIGEST.fullmatch(text) is not None


def not_the_file(actual: str, recorded: str) -> InvalidInput:
    """Bytes sent for an item that are not its file."""
    return InvalidInput(f"the file's SHA-256 is {actual}; this evidence records {recorded}", field="file")


class DamagedFile(Conflict):
    """A kept file is missing, or its bytes no longer hash to its name."""


@dataclass(frozen=True, slots=True)
class Stored:
    sha256: str
    size: int


def copy_checked(source: Path, target: Path) -> Stored:
    """Copy ``source`` to ``target``, then hash the copy: what is checked is what the
    package or the store now holds.

    The kernel copies (``shutil.copyfile``: ``copy_file_range`` or ``sendfile``), so no
    byte passes through Python on the way, and the copy is hashed from the page cache
    it was just written to. Reading, hashing and writing each buffer in turn instead
    left the disk idle while Python hashed."""
    shutil.copyfile(source, target)
    with target.open("rb") as copied:
        digest = hashlib.file_digest(copied, "sha256")
        size = copied.tell()
    return Stored(digest.hexdigest(), size)


class FileStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def configured(cls) -> "FileStore":
        root = get_settings().file_store_dir
        assert root is not None  # filled in by the settings
        return cls(root)

    def path(self, sha256: str) -> Path:
        # A digest and nothing else names a file: no other text reaches the file system.
        if not is_digest(sha256):
            raise ValueError(f"not a SHA-256 digest: {sha256!r}")
        # Two levels keep directories small: 256 of them, each with 1/256 of the files.
        return self.root / sha256[:2] / sha256

    def holds(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def kept(self, sha256: str) -> Path:
        """The path of a file the database says is kept; that it is not is damage."""
        if not self.holds(sha256):
            raise DamagedFile(f"the file {sha256} is missing from the file store", field="file")
        return self.path(sha256)

    async def receive(self, chunks: AsyncIterable[bytes], *, expected: str, limit: int) -> Stored:
        """Keep the bytes of an upload, at most ``limit`` of them, if they hash to
        ``expected``; bytes that do not are not kept.

        The chunks are written as they come, without a thread: each is a few kilobytes
        into the page cache, far less than the network took to bring it."""
        temporary = self._temporary()
        digest = hashlib.sha256()
        size = 0
        try:
            with temporary.open("wb") as out:
                async for chunk in chunks:
                    size += len(chunk)
                    if size > limit:
                        raise TooLarge(f"the file is larger than {limit:,} bytes", field="file")
                    digest.update(chunk)
                    out.write(chunk)
            if digest.hexdigest() != expected:
                raise not_the_file(digest.hexdigest(), expected)
            return self._keep(temporary, Stored(expected, size))
        finally:
            temporary.unlink(missing_ok=True)

    def add_bytes(self, data: bytes) -> Stored:
        temporary = self._temporary()
        try:
            temporary.write_bytes(data)
            return self._keep(temporary, Stored(hashlib.sha256(data).hexdigest(), len(data)))
        finally:
            temporary.unlink(missing_ok=True)

    def staging(self) -> Path:
        """A new folder for copies that are kept only once their rows commit (an import):
        a failed or killed import leaves nothing at a digest's place in the store."""
        folder = self.root / "staging" / uuid.uuid4().hex
        folder.mkdir(parents=True)
        return folder

    def stage_copy(self, source: Path, sha256: str, staging: Path) -> Stored:
        """Copy ``source`` into ``staging`` under its digest, which its bytes must hash to."""
        target = staging / sha256
        stored = copy_checked(source, target)
        if stored.sha256 != sha256:
            target.unlink(missing_ok=True)
            raise DamagedFile(f"{source.name}: its bytes hash to {stored.sha256}", field="package")
        return stored

    def keep_staged(self, staging: Path) -> None:
        """Move every staged copy into its place (the same bytes already kept stay as
        they are), then remove the staging folder."""
        if not staging.is_dir():
            return
        for path in staging.iterdir():
            if is_digest(path.name):
                self._keep(path, Stored(path.name, path.stat().st_size))
        shutil.rmtree(staging, ignore_errors=True)

    def copy_out(self, sha256: str, target: Path) -> Stored:
        """Copy the kept file to ``target``, and check the copy's fixity."""
        stored = copy_checked(self.kept(sha256), target)
        if stored.sha256 != sha256:
            target.unlink(missing_ok=True)
            raise DamagedFile(
                f"the file {sha256} in the file store is damaged: its bytes hash to {stored.sha256}",
                field="file",
            )
        return stored

    def _temporary(self) -> Path:
        incoming = self.root / "incoming"
        incoming.mkdir(parents=True, exist_ok=True)
        return incoming / uuid.uuid4().hex

    def _keep(self, temporary: Path, stored: Stored) -> Stored:
        final = self.path(stored.sha256)
        if not final.is_file():
            final.parent.mkdir(parents=True, exist_ok=True)
            # Atomic on one file system: a reader sees no file or the whole file.
            os.replace(temporary, final)
        return stored

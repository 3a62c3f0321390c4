"""A package's signature: a C2SP signed note over its tag manifest, by the exporting
installation's key (the key that signs its audit log's checkpoints).

The tag manifest lists the SHA-256 of bag-info.txt and of the payload manifest, which
lists every payload file: signing its digest signs every byte of the package. The
signature lives in its own file at the top of the bag, ``SIGNATURE``, which no
manifest lists: the tag manifest cannot list a file that signs the tag manifest, and
BagIt validation only checks the tag files a tag manifest names, so the package stays
a valid bag for any BagIt tool. The note's text names the installation and the
handover; its signature line names the key (name and key ID).
"""

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ocpo_coord.audit.note import Note, NoteError, Signer, Verifier
from ocpo_coord.handover.package import SIGNATURE_FILE, InvalidPackage

SIGNATURE = SIGNATURE_FILE
TAG_MANIFEST = "tagmanifest-sha256.txt"
HEADER = "ocpo-coord handover package signature v1"


@dataclass(frozen=True)
class PackageSignature:
    """Who signed a package (the note's one signature line), not yet verified."""

    name: str
    key_id: str
    note: Note


def _digest(directory: Path) -> str:
    try:
        return hashlib.sha256((directory / TAG_MANIFEST).read_bytes()).hexdigest()
    except OSError:
        raise InvalidPackage(f"{TAG_MANIFEST}: missing", field="package") from None


def sign_package(directory: Path, signer: Signer, *, handover: str) -> str:
    """Write the signature of the bag at ``directory``; returns the signer's key ID (hex)."""
    body = f"{HEADER}\ninstallation {signer.name}\nhandover {handover}\n{TAG_MANIFEST} {_digest(directory)}\n"
    (directory / SIGNATURE).write_text(body + "\n" + signer.sign_line(body), encoding="utf-8", newline="\n")
    return signer.verifier().key_id.hex()


def read_signature(directory: Path) -> PackageSignature:
    """The signature as written, checked to cover this tag manifest; raises ``InvalidPackage``."""
    path = directory / SIGNATURE
    try:
        note = Note.parse(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidPackage(
            f"{SIGNATURE}: missing; the package is unsigned, and an unsigned package proves nothing "
            "about who sent it",
            field="package",
        ) from None
    except (OSError, UnicodeDecodeError, NoteError) as exc:
        raise InvalidPackage(f"{SIGNATURE}: not a signed note ({exc})", field="package") from None
    lines = note.text.splitlines()
    if len(lines) != 4 or lines[0] != HEADER or len(note.signatures) != 1:
        raise InvalidPackage(f"{SIGNATURE}: not a package signature of this format", field="package")
    signed = note.signatures[0]
    if lines[1] != f"installation {signed.name}":
        raise InvalidPackage(
            f"{SIGNATURE}: names installation {lines[1].removeprefix('installation ')!r} "
            f"but is signed by {signed.name!r}",
            field="package",
        )
    if lines[3] != f"{TAG_MANIFEST} {_digest(directory)}":
        raise InvalidPackage(
            f"{SIGNATURE}: signs another {TAG_MANIFEST} than this package's (the package was changed "
            "after it was signed)",
            field="package",
        )
    return PackageSignature(signed.name, signed.key_id.hex(), note)


def verify_signature(directory: Path, trusted: Iterable[Verifier]) -> Verifier:
    """The trusted key that signed the package; raises ``InvalidPackage`` naming the signer
    when none of ``trusted`` is its key or the signature does not verify."""
    signature = read_signature(directory)
    for verifier in trusted:
        if verifier.name == signature.name and verifier.key_id.hex() == signature.key_id:
            try:
                signature.note.signed_by(verifier)
            except NoteError:
                raise InvalidPackage(
                    f"{SIGNATURE}: the signature of {signature.name} (key {signature.key_id}) does not "
                    "verify: the package was changed after it was signed",
                    field="package",
                ) from None
            return verifier
    raise InvalidPackage(
        f"{SIGNATURE}: signed by {signature.name} (key {signature.key_id}), an installation whose key "
        "is not registered here (an installation administrator registers it with "
        "'ocpo-coord handover trust add')",
        field="package",
    )

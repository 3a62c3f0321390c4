"""The audit log's checkpoint signing key: a C2SP signer key in a file.

Production names the file (``OCPO_AUDIT_KEY_PATH``) and refuses to start without it;
development creates one in the state directory on first use. Creation is exclusive:
several processes starting at once all end up with the key the first one wrote.
"""

import contextlib
import os
import uuid
from pathlib import Path

from ocpo_coord.audit.note import ED25519, NoteError, Signer, Verifier
from ocpo_coord.config import Environment, Settings


class AuditKeyError(RuntimeError):
    """The checkpoint key is missing or unusable: the service does not start."""


def create_key_file(path: Path, name: str) -> Signer:
    """Write a new key to ``path`` unless one is there: whoever links first wins, and
    everyone reads back the winner's key. Written owner-only, never half-written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    signer = Signer.generate(name, ED25519)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(signer.text() + "\n")
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return read_key_file(path, name)


def read_key_file(path: Path, name: str) -> Signer:
    try:
        signer = Signer.parse(path.read_text(encoding="ascii"))
    except (OSError, UnicodeDecodeError) as exc:
        raise AuditKeyError(f"cannot read the audit log key {path}: {exc}") from None
    except NoteError as exc:
        raise AuditKeyError(f"audit log key {path}: {exc}") from None
    if signer.name != name or signer.kind != ED25519:
        raise AuditKeyError(
            f"audit log key {path} is the key of {signer.name!r}, not of this installation ({name!r})"
        )
    return signer


def checkpoint_signer(settings: Settings) -> Signer:
    if settings.audit_key_path is None:
        raise AuditKeyError(
            "OCPO_AUDIT_KEY_PATH must be set in production to the audit log's checkpoint signing key "
            "(create one with 'ocpo-coord audit log-key FILE')"
        )
    path = settings.audit_key_path
    if not path.exists() and settings.environment is not Environment.PRODUCTION:
        return create_key_file(path, settings.installation_name)
    return read_key_file(path, settings.installation_name)


def log_verifier(settings: Settings) -> Verifier:
    return checkpoint_signer(settings).verifier()

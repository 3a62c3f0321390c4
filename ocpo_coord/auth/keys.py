"""The local RSA signing key of the embedded default, created on first use."""

import contextlib
import os
import tempfile
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

LOCAL_KEY_ID = "ocpo-local-1"


def _load(path: Path) -> RSAPrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, RSAPrivateKey):
        raise ValueError(f"{path.name} is not an RSA private key")
    return key


def load_or_create_private_key(path: Path) -> RSAPrivateKey:
    """The key at ``path``, made there exactly once, by whoever asks first.

    Several processes may start at once on a fresh state directory (the service and a
    few ``ocpo-coord token``): each would make a key of its own, and tokens signed with
    a key that lost the race would then be refused. So the key is written whole to a
    file of its own and linked into place, which fails when ``path`` already exists:
    the first link wins, and everyone else loads the winner's key. A reader never sees
    half a key.
    """
    if path.exists():
        return _load(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    # mkstemp creates the file with owner-only permissions, under a name of its own.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            return _load(path)  # another process was first: its key is the key
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    return key

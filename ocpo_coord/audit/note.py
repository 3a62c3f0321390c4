"""C2SP signed notes, checkpoints and cosignatures, with Ed25519 keys.

- signed-note: text ending in a newline, a blank line, then lines
  ``— <key name> base64(key ID || signature)``; key ID = SHA-256(name || 0x0A ||
  type || public key)[:4]; type 0x01 signs the text with Ed25519.
- tlog-checkpoint: the text is ``<origin>\\n<size>\\n<base64 root>\\n``.
- tlog-cosignature: type 0x04, the signature is ``u64 timestamp || Ed25519`` over
  ``cosignature/v1\\ntime <timestamp>\\n`` followed by the checkpoint text.
- Keys as text: verifier ``<name>+<hex key ID>+base64(type || public key)``, signer
  ``PRIVATE+KEY+<name>+<hex key ID>+base64(type || private seed)``.
"""

import base64
import binascii
import hashlib
import re
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ED25519 = 0x01
COSIGNATURE_V1 = 0x04
DASH = "\u2014"
_MAX_SIGNATURES = 64
_DECIMAL = re.compile(r"(0|[1-9][0-9]{0,18})")


class NoteError(ValueError):
    """A key, note, checkpoint or cosignature that is malformed or does not verify."""


def _b64(data: str, what: str) -> bytes:
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise NoteError(f"{what} is not valid base64") from None


def _check_name(name: str) -> str:
    if not name or any(c.isspace() for c in name) or "+" in name:
        raise NoteError(f"key name {name!r} must be non-empty, without spaces or '+'")
    return name


def key_id(name: str, kind: int, public: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([kind]) + public).digest()[:4]


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


@dataclass(frozen=True)
class Verifier:
    name: str
    kind: int
    key_id: bytes
    public: Ed25519PublicKey

    @classmethod
    def parse(cls, vkey: str) -> "Verifier":
        parts = vkey.strip().split("+", 2)
        if len(parts) != 3 or not re.fullmatch(r"[0-9a-f]{8}", parts[1]):
            raise NoteError("verifier key must read <name>+<8 hex digits>+<base64 key>")
        name = _check_name(parts[0])
        raw = _b64(parts[2], "verifier key")
        if len(raw) != 33 or raw[0] not in (ED25519, COSIGNATURE_V1):
            raise NoteError("verifier key must be an Ed25519 key (type 0x01 or 0x04)")
        if key_id(name, raw[0], raw[1:]) != bytes.fromhex(parts[1]):
            raise NoteError("verifier key's ID does not match its name and key")
        return cls(name, raw[0], bytes.fromhex(parts[1]), Ed25519PublicKey.from_public_bytes(raw[1:]))

    def text(self) -> str:
        raw = bytes([self.kind]) + _raw_public(self.public)
        return f"{self.name}+{self.key_id.hex()}+{base64.b64encode(raw).decode()}"


@dataclass(frozen=True)
class Signer:
    name: str
    kind: int
    private: Ed25519PrivateKey

    @classmethod
    def generate(cls, name: str, kind: int = ED25519) -> "Signer":
        return cls(_check_name(name), kind, Ed25519PrivateKey.generate())

    @classmethod
    def parse(cls, skey: str) -> "Signer":
        parts = skey.strip().split("+", 4)
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"] or not re.fullmatch(r"[0-9a-f]{8}", parts[3]):
            raise NoteError("signer key must read PRIVATE+KEY+<name>+<8 hex digits>+<base64 key>")
        raw = _b64(parts[4], "signer key")
        if len(raw) != 33 or raw[0] not in (ED25519, COSIGNATURE_V1):
            raise NoteError("signer key must be an Ed25519 key (type 0x01 or 0x04)")
        signer = cls(_check_name(parts[2]), raw[0], Ed25519PrivateKey.from_private_bytes(raw[1:]))
        if signer.verifier().key_id != bytes.fromhex(parts[3]):
            raise NoteError("signer key's ID does not match its name and key")
        return signer

    def verifier(self) -> Verifier:
        public = self.private.public_key()
        return Verifier(self.name, self.kind, key_id(self.name, self.kind, _raw_public(public)), public)

    def text(self) -> str:
        seed = self.private.private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
        )
        raw = base64.b64encode(bytes([self.kind]) + seed).decode()
        return f"PRIVATE+KEY+{self.name}+{self.verifier().key_id.hex()}+{raw}"

    def sign_line(self, text: str) -> str:
        """The note signature line of ``text`` (type 0x01)."""
        signature = self.private.sign(text.encode())
        return f"{DASH} {self.name} {base64.b64encode(self.verifier().key_id + signature).decode()}\n"

    def cosign_line(self, checkpoint_text: str, timestamp: int) -> str:
        """The cosignature/v1 line of a checkpoint's text (type 0x04)."""
        signature = self.private.sign(_cosigned_message(checkpoint_text, timestamp))
        blob = self.verifier().key_id + struct.pack(">Q", timestamp) + signature
        return f"{DASH} {self.name} {base64.b64encode(blob).decode()}\n"


def _cosigned_message(checkpoint_text: str, timestamp: int) -> bytes:
    return f"cosignature/v1\ntime {timestamp}\n".encode() + checkpoint_text.encode()


@dataclass(frozen=True)
class NoteSignature:
    name: str
    key_id: bytes
    signature: bytes
    line: str


@dataclass(frozen=True)
class Note:
    text: str
    signatures: tuple[NoteSignature, ...]

    @classmethod
    def parse(cls, note: str) -> "Note":
        if any(ord(c) < 0x20 and c != "\n" for c in note):
            raise NoteError("note holds control characters")
        cut = note.rfind("\n\n")
        if cut < 0 or not note.endswith("\n"):
            raise NoteError("note must be text, a blank line, then signature lines")
        text, lines = note[: cut + 1], note[cut + 2 :].splitlines(keepends=True)
        if not lines or len(lines) > _MAX_SIGNATURES:
            raise NoteError(f"note must carry 1 to {_MAX_SIGNATURES} signature lines")
        signatures = []
        for line in lines:
            parts = line.rstrip("\n").split(" ")
            if len(parts) != 3 or parts[0] != DASH:
                raise NoteError("signature line must read '\u2014 <key name> <base64 signature>'")
            blob = _b64(parts[2], "signature")
            if len(blob) < 5:
                raise NoteError("signature is too short")
            signatures.append(NoteSignature(_check_name(parts[1]), blob[:4], blob[4:], line))
        return cls(text, tuple(signatures))

    def signed_by(self, verifier: Verifier) -> NoteSignature:
        """The signature of ``verifier`` (type 0x01), verified; raises ``NoteError``."""
        for sig in self.signatures:
            if sig.name == verifier.name and sig.key_id == verifier.key_id:
                try:
                    verifier.public.verify(sig.signature, self.text.encode())
                except InvalidSignature:
                    raise NoteError(f"the signature of {verifier.name} does not verify") from None
                return sig
        raise NoteError(f"the note is not signed by {verifier.name}")

    def cosigned_by(self, verifier: Verifier) -> tuple[NoteSignature, int] | None:
        """The cosignature of ``verifier`` (type 0x04) and its timestamp, verified; None
        when it has none; raises ``NoteError`` when it does not verify."""
        for sig in self.signatures:
            if sig.name == verifier.name and sig.key_id == verifier.key_id:
                return sig, verify_cosignature(verifier, self.text, sig.signature)
        return None


def verify_cosignature(verifier: Verifier, checkpoint_text: str, blob: bytes) -> int:
    if verifier.kind != COSIGNATURE_V1:
        raise NoteError(f"{verifier.name} is not a cosignature key (type 0x04)")
    if len(blob) != 72:
        raise NoteError(f"the cosignature of {verifier.name} has the wrong length")
    (timestamp,) = struct.unpack(">Q", blob[:8])
    try:
        verifier.public.verify(blob[8:], _cosigned_message(checkpoint_text, timestamp))
    except InvalidSignature:
        raise NoteError(f"the cosignature of {verifier.name} does not verify") from None
    return int(timestamp)


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def text(self) -> str:
        lines = [self.origin, str(self.size), base64.b64encode(self.root).decode(), *self.extensions]
        return "".join(line + "\n" for line in lines)

    @classmethod
    def parse(cls, text: str) -> "Checkpoint":
        lines = text.split("\n")
        if len(lines) < 4 or lines[-1] != "":
            raise NoteError("checkpoint must be origin, size and root hash, one per line")
        origin, size, root, *extensions = lines[:-1]
        if not origin:
            raise NoteError("checkpoint has no origin")
        if not _DECIMAL.fullmatch(size):
            raise NoteError("checkpoint size must be a decimal without leading zeros")
        digest = _b64(root, "checkpoint root hash")
        if len(digest) != 32:
            raise NoteError("checkpoint root hash must be 32 bytes")
        if any(not line for line in extensions):
            raise NoteError("checkpoint has an empty extension line")
        return cls(origin, int(size), digest, tuple(extensions))

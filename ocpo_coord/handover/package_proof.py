"""What a package proves about its records: the exporting installation's signed audit
checkpoint, and for each record it hands over the inclusion proofs of the audit
entries about that record (RFC 9162, checked with ``audit.merkle``).

In the payload, so that the manifests (and the signature over them) cover it:

    audit/checkpoint.txt                 the checkpoint at export, a C2SP signed note
                                         (with any witnesses' cosignatures)
    audit/proofs/part-0001.jsonl         one entry a line: the record's id in the
                                         package, the entry's leaf index, the entry's
                                         canonical bytes (as text) and the proof's
                                         hashes (base64), leaf's sibling first

The checkpoint must be signed by the key that signed the package, for a log of the
same name: a checkpoint from another installation, a proof that does not lead to its
root, an entry about another record, or a count that does not match is named.
"""

import base64
import binascii
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from ocpo_coord.audit import merkle
from ocpo_coord.audit.note import Checkpoint, Note, NoteError, Verifier
from ocpo_coord.handover.package import PACKAGE_KINDS, InvalidPackage, read_json_lines, record_payloads

AUDIT = "audit"
CHECKPOINT = f"{AUDIT}/checkpoint.txt"
PROOFS = f"{AUDIT}/proofs"
PROOF_COUNT = "Ocpo-Proof-Count"


@dataclass(frozen=True)
class EntryProof:
    """One audit entry about a record of the package, and where it sits in the log."""

    record_id: uuid.UUID
    index: int
    entry: str
    hashes: list[bytes]

    def line(self) -> dict[str, Any]:
        return {
            "record_id": str(self.record_id),
            "index": self.index,
            "entry": self.entry,
            "hashes": [base64.b64encode(h).decode() for h in self.hashes],
        }


@dataclass(frozen=True)
class ProvenCheckpoint:
    note: str
    checkpoint: Checkpoint


def _bad(where: str, problem: str) -> InvalidPackage:
    return InvalidPackage(f"{where}: {problem}", field="package")


def read_checkpoint(root: Path, signer: Verifier) -> ProvenCheckpoint:
    """The package's checkpoint, signed by ``signer`` for its own log (``root`` is ``data/``)."""
    try:
        text = (root / CHECKPOINT).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise _bad(CHECKPOINT, "missing; the package carries no audit checkpoint") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise _bad(CHECKPOINT, f"unreadable ({exc})") from None
    try:
        note = Note.parse(text)
        checkpoint = Checkpoint.parse(note.text)
    except NoteError as exc:
        raise _bad(CHECKPOINT, f"not a signed checkpoint ({exc})") from None
    if checkpoint.origin != signer.name:
        raise _bad(
            CHECKPOINT,
            f"a checkpoint of {checkpoint.origin!r}'s log, not of {signer.name!r}, which signed the package",
        )
    try:
        note.signed_by(signer)
    except NoteError as exc:
        raise _bad(CHECKPOINT, f"not signed by the key that signed the package ({exc})") from None
    return ProvenCheckpoint(text, checkpoint)


def _hashes(value: Any, where: str) -> list[bytes]:
    if not isinstance(value, list) or not all(isinstance(h, str) for h in value):
        raise _bad(where, "hashes must be a list of base64 hashes")
    try:
        hashes = [base64.b64decode(h, validate=True) for h in value]
    except (binascii.Error, ValueError):
        raise _bad(where, "a hash is not valid base64") from None
    if any(len(h) != 32 for h in hashes):
        raise _bad(where, "a hash is not 32 bytes")
    return hashes


def _proof(where: str, payload: Any) -> EntryProof:
    if not isinstance(payload, dict):
        raise _bad(where, "not a JSON object")
    try:
        record_id = uuid.UUID(str(payload["record_id"]))
        index, entry = payload["index"], payload["entry"]
    except (KeyError, ValueError):
        raise _bad(where, "a proof needs record_id, index, entry and hashes") from None
    if not isinstance(index, int) or isinstance(index, bool) or index < 0 or not isinstance(entry, str):
        raise _bad(where, "index must be a leaf index and entry the entry's text")
    return EntryProof(record_id, index, entry, _hashes(payload.get("hashes"), where))


def proofs(root: Path) -> Iterator[tuple[str, EntryProof]]:
    """Each proof of the payload and where it sits; malformed ones raise ``InvalidPackage``."""
    for where, payload in read_json_lines(root / PROOFS, PROOFS):
        yield where, _proof(where, payload)


def package_record_ids(root: Path, package_format: str) -> set[uuid.UUID]:
    ids: set[uuid.UUID] = set()
    for kind in PACKAGE_KINDS:
        for _, payload in record_payloads(root, package_format, kind):
            if isinstance(payload, dict):
                try:
                    ids.add(uuid.UUID(str(payload.get("id"))))
                except ValueError:
                    continue
    return ids


def check_proof(where: str, proof: EntryProof, checkpoint: Checkpoint, records: set[uuid.UUID]) -> None:
    if proof.record_id not in records:
        raise _bad(where, f"a proof about record {proof.record_id}, which is not in the package")
    try:
        entry = orjson.loads(proof.entry)
    except orjson.JSONDecodeError:
        raise _bad(where, "the entry is not JSON") from None
    if not isinstance(entry, dict) or entry.get("record_id") != str(proof.record_id):
        raise _bad(where, f"the entry is not about record {proof.record_id}")
    try:
        merkle.verify_inclusion(
            merkle.leaf_hash(proof.entry.encode("utf-8")),
            proof.index,
            checkpoint.size,
            proof.hashes,
            checkpoint.root,
        )
    except merkle.ProofError as exc:
        raise _bad(where, f"{exc} of the checkpoint of size {checkpoint.size}") from None


def verify_proofs(
    root: Path, package_format: str, signer: Verifier, expected: str | None
) -> tuple[ProvenCheckpoint, int]:
    """The checkpoint and how many proofs lead to it; raises ``InvalidPackage`` at the
    first that does not. ``expected`` is the count bag-info.txt states."""
    proven = read_checkpoint(root, signer)
    records = package_record_ids(root, package_format)
    count = 0
    for where, proof in proofs(root):
        check_proof(where, proof, proven.checkpoint, records)
        count += 1
    if expected != str(count):
        raise InvalidPackage(
            f"bag-info.txt: {PROOF_COUNT} says {expected}, the package holds {count} proofs", field="package"
        )
    return proven, count

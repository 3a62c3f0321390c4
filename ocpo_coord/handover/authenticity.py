"""Who sent a package, and what it proves: checked offline, before anything is read
into the database.

The signature must be by a trusted key (``signature``); from format 5 on, the audit
checkpoint must be signed by that same key and every inclusion proof must lead to its
root (``package_proof``). The first failure is raised as ``InvalidPackage``.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ocpo_coord.audit.note import Verifier
from ocpo_coord.handover.package import FORMAT
from ocpo_coord.handover.package_proof import PROOF_COUNT, ProvenCheckpoint, verify_proofs
from ocpo_coord.handover.signature import verify_signature


@dataclass(frozen=True)
class Authentic:
    signer: Verifier
    # None for a package of a format before proofs (signed all the same).
    checkpoint: ProvenCheckpoint | None
    proofs: int

    def describe(self) -> str:
        said = f"signed by {self.signer.name} (key {self.signer.key_id.hex()})"
        if self.checkpoint is None:
            return said + ", carrying no audit proof (an older format)"
        return (
            f"{said}, audit checkpoint of size {self.checkpoint.checkpoint.size}, "
            f"{self.proofs} inclusion proof(s) checked"
        )


def check_authenticity(directory: Path, info: dict[str, str], trusted: Iterable[Verifier]) -> Authentic:
    """``info`` is the verified bag-info.txt (``verify_package``)."""
    signer = verify_signature(directory, trusted)
    package_format = info.get("Ocpo-Format", "")
    if package_format != FORMAT:
        return Authentic(signer, None, 0)
    proven, count = verify_proofs(directory / "data", package_format, signer, info.get(PROOF_COUNT))
    return Authentic(signer, proven, count)

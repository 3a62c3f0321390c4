"""Who sent a package, and what it proves: checked offline, before anything is read
into the database.

Fixity first (bagit), then the signature, which must be by a trusted key
(``signature``): nothing of a package nobody trusted vouches for is parsed further.
Then every object of the payload (``package_shape``) and, from format 5 on, the audit
checkpoint, which must be signed by that same key, and every inclusion proof, which
must lead to its root (``package_proof``).
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from ocpo_coord.audit.note import Verifier
from ocpo_coord.handover.package import FORMAT, InvalidPackage, PackageCheck, verify_package
from ocpo_coord.handover.package_proof import PROOF_COUNT, ProvenCheckpoint, verify_proofs
from ocpo_coord.handover.package_shape import payload_problems
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


def verify_authentic(
    directory: Path, trusted: Callable[[], Iterable[Verifier]]
) -> tuple[PackageCheck, Authentic | None]:
    """Every check, in the order above; the problems found (the first failing step's),
    and on success who signed and what the package proves. Never raises for a bad package.
    ``trusted`` gives the trusted keys, asked only once fixity holds."""
    check = verify_package(directory)
    if not check.ok:
        return check, None

    def failed(problems: list[str]) -> tuple[PackageCheck, None]:
        return PackageCheck(False, problems, check.info, check.records), None

    try:
        signer = verify_signature(directory, trusted())
    except InvalidPackage as exc:
        return failed([exc.message])
    problems = payload_problems(directory / "data", check.info["Ocpo-Format"])
    if problems:
        return failed(problems)
    try:
        if check.info["Ocpo-Format"] != FORMAT:
            return check, Authentic(signer, None, 0)
        proven, count = verify_proofs(directory / "data", FORMAT, signer, check.info.get(PROOF_COUNT))
    except InvalidPackage as exc:
        return failed([exc.message])
    return check, Authentic(signer, proven, count)

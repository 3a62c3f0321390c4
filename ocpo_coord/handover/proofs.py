"""What a predecessor recorded about an imported record, with its proof: the audit
entries the package carried, their inclusion proofs and the signed checkpoint they
lead to. Shown to those who may read the record; anyone else is told it does not exist.
"""

import uuid

from pydantic import BaseModel
from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.audit.service import record_event
from ocpo_coord.context import Actor
from ocpo_coord.exceptions import NotFound
from ocpo_coord.handover import trust_repository as repository


class EntryProofPublic(BaseModel):
    leaf_index: int
    entry: str
    hashes: list[str]


class ImportedProofsPublic(BaseModel):
    handover_id: uuid.UUID
    source_record_id: uuid.UUID
    signed_by: str
    checkpoint: str
    entries: list[EntryProofPublic]


async def record_proofs(
    session: AsyncSession, *, actor: Actor, record_id: uuid.UUID
) -> list[ImportedProofsPublic]:
    """One item per import that brought the record, each entry with its proof."""
    if not await repository.record_is_readable(session, actor.principal, actor.now, record_id):
        raise NotFound("record")
    found: dict[uuid.UUID, ImportedProofsPublic] = {}
    for proof, checkpoint in await repository.readable_proofs(session, actor.principal, actor.now, record_id):
        item = found.setdefault(
            proof.handover_id,
            ImportedProofsPublic(
                handover_id=proof.handover_id,
                source_record_id=proof.source_record_id,
                signed_by=checkpoint.signer_vkey,
                checkpoint=checkpoint.checkpoint,
                entries=[],
            ),
        )
        item.entries.append(
            EntryProofPublic(leaf_index=proof.leaf_index, entry=proof.entry, hashes=proof.hashes.split())
        )
    await record_event(
        session,
        actor=actor,
        action="handover.read_proofs",
        record_id=record_id,
        detail="read the predecessor's audit proof of the record",
    )
    return list(found.values())

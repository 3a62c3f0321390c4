"""The audit log as others check it: checkpoints, proofs, witnesses' cosignatures.

A checkpoint or a consistency proof tells any signed-in user a size and hashes,
nothing else. An inclusion proof is about one entry: it is for those who may read
that entry, and anyone else is told it does not exist.
"""

import base64
import uuid

from sqlalchemy import insert, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.audit import merkle, repository, tree
from ocpo_coord.audit.keys import log_verifier
from ocpo_coord.audit.note import Checkpoint, Note, NoteError, Verifier
from ocpo_coord.audit.schemas_log import CheckpointPublic, CosignaturesAccepted, CosigningPublic
from ocpo_coord.audit.service import record_event
from ocpo_coord.config import get_settings
from ocpo_coord.context import Actor
from ocpo_coord.exceptions import Conflict, InvalidInput, NotFound
from ocpo_coord.models import AuditCheckpoint
from ocpo_coord.visibility.policy import may_audit

PROOF_HEADER = "c2sp.org/tlog-proof@v1"


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


async def _with_cosignatures(session: AsyncSession, checkpoint: AuditCheckpoint) -> str:
    return checkpoint.note + "".join(await tree.cosignature_lines(session, checkpoint.size))


async def _latest(session: AsyncSession) -> AuditCheckpoint:
    checkpoint = await tree.latest_checkpoint(session)
    if checkpoint is None:
        raise Conflict("the audit log has no checkpoint yet; try again in a moment")
    return checkpoint


async def latest_checkpoint(session: AsyncSession) -> CheckpointPublic:
    checkpoint = await _latest(session)
    note = await _with_cosignatures(session, checkpoint)
    witnesses = set(await tree.registered_witnesses(session))
    names = sorted({sig.name for sig in Note.parse(note).signatures} & witnesses)
    return CheckpointPublic(
        size=checkpoint.size, root_hash=_b64(checkpoint.root_hash), note=note, cosigned_by=names
    )


async def inclusion_proof(
    session: AsyncSession, *, actor: Actor, entry_id: uuid.UUID, size: int | None
) -> str:
    """The entry's tlog-proof: its index, its path, the checkpoint it leads to."""
    if may_audit(actor.principal) is not True:
        raise NotFound("audit entry")
    event = await repository.visible_entry(session, actor.principal, actor.now, entry_id)
    if event is None:
        raise NotFound("audit entry")
    idx = (
        await session.exec(select(tree.entries.c.idx).where(tree.entries.c.event_seq == event.seq))  # type: ignore[call-overload]
    ).scalar()
    if idx is None:
        raise Conflict("the entry is not in the log yet; try again in a moment")
    if size is None:
        checkpoint = await _latest(session)
    else:
        found = await tree.checkpoint_at(session, size)
        if found is None:
            raise InvalidInput("is not the size of a checkpoint of this log", field="size")
        checkpoint = found
    if idx >= checkpoint.size:
        raise Conflict("the entry is not in a checkpoint yet; try again in a moment")
    path: list[bytes] = await tree.prove(
        session, lambda get: merkle.inclusion_proof(idx, checkpoint.size, get)
    )
    lines = [PROOF_HEADER, f"index {idx}", *map(_b64, path)]
    return "\n".join(lines) + "\n\n" + await _with_cosignatures(session, checkpoint)


async def consistency_proof(session: AsyncSession, *, first: int, second: int | None) -> str:
    """The hashes proving the tree of ``second`` extends the tree of ``first``, one
    base64 hash per line (RFC 9162 section 2.1.4)."""
    latest = await _latest(session)
    second = latest.size if second is None else second
    if first < 0:
        raise InvalidInput("must be 0 or more", field="first")
    if second > latest.size:
        raise InvalidInput(f"must be at most {latest.size}, the latest checkpoint's size", field="second")
    if first > second:
        raise InvalidInput("must not exceed the second size", field="first")
    path: list[bytes] = await tree.prove(session, lambda get: merkle.consistency_proof(first, second, get))
    return "".join(_b64(h) + "\n" for h in path)


async def add_cosignatures(session: AsyncSession, *, actor: Actor, note: str) -> CosignaturesAccepted:
    """Keep the cosignatures of registered witnesses on a checkpoint this log issued."""
    try:
        parsed = Note.parse(note)
        checkpoint = Checkpoint.parse(parsed.text)
    except NoteError as exc:
        raise InvalidInput(str(exc), field="note") from None
    origin = get_settings().installation_name
    if checkpoint.origin != origin:
        raise InvalidInput(
            f"is a checkpoint of {checkpoint.origin!r}, not of this log ({origin!r})", field="note"
        )
    issued = await tree.checkpoint_at(session, checkpoint.size)
    if (
        issued is None
        or issued.root_hash != checkpoint.root
        or not issued.note.startswith(parsed.text + "\n")
    ):
        raise InvalidInput(f"is not the checkpoint this log issued for size {checkpoint.size}", field="note")
    registered = await tree.registered_witnesses(session)
    accepted: list[str] = []
    for sig in parsed.signatures:
        if sig.name == origin:
            continue
        if sig.name not in registered:
            raise InvalidInput(f"carries a cosignature by an unknown key ({sig.name})", field="note")
        verifier = Verifier.parse(registered[sig.name])
        if sig.key_id != verifier.key_id:
            raise InvalidInput(f"carries a cosignature by an unknown key of {sig.name}", field="note")
        try:
            parsed.cosigned_by(verifier)
        except NoteError as exc:
            raise InvalidInput(str(exc), field="note") from None
        if not await tree.has_cosignature(session, sig.name, checkpoint.size):
            await session.exec(
                insert(tree.cosignatures).values(
                    witness_name=sig.name, size=checkpoint.size, signature_line=sig.line
                )
            )
        accepted.append(sig.name)
    if not accepted:
        raise InvalidInput("carries no witness cosignature", field="note")
    await record_event(
        session,
        actor=actor,
        action="audit.cosign",
        detail=f"checkpoint of size {checkpoint.size} cosigned by {', '.join(accepted)}",
    )
    return CosignaturesAccepted(size=checkpoint.size, witnesses=accepted)


async def list_cosignings(session: AsyncSession, *, limit: int) -> list[CosigningPublic]:
    return [
        CosigningPublic(witness=name, size=size, at=at)
        for name, size, at in await tree.cosignings(session, limit)
    ]


def log_key() -> str:
    """The log's verifier key (vkey), for witnesses and verifiers."""
    return log_verifier(get_settings()).text()

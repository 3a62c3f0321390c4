"""The trusted installations: whose signed handover packages this one imports.

An installation administrator registers another installation's verifier key (the key
that signs its packages and its audit log's checkpoints, as ``ocpo-coord handover key``
prints it there), lists them and revokes one. A package is imported only when a key in
force here signed it. Every change and every listing is audited.
"""

from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field
from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.audit.keys import log_verifier
from ocpo_coord.audit.note import NoteError, Verifier
from ocpo_coord.audit.service import record_event
from ocpo_coord.config import get_settings
from ocpo_coord.context import Actor
from ocpo_coord.exceptions import Conflict, InvalidInput, NotFound
from ocpo_coord.handover import trust_repository as repository
from ocpo_coord.handover.policy import may_manage_trust
from ocpo_coord.handover.signature import verify_signature
from ocpo_coord.models import TrustedInstallation
from ocpo_coord.visibility.policy import enforce


class TrustedInstallationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    verifier_key: str = Field(
        min_length=1,
        max_length=400,
        description="The installation's verifier key, <name>+<key ID>+<base64 key>, as "
        "'ocpo-coord handover key' prints it there.",
    )


class TrustedInstallationPublic(BaseModel):
    name: str
    key_id: str
    verifier_key: str
    registered_by: str
    registered_at: datetime
    revoked_at: datetime | None


class InstallationKey(BaseModel):
    name: str
    key_id: str
    verifier_key: str


def _public(row: TrustedInstallation) -> TrustedInstallationPublic:
    return TrustedInstallationPublic(
        name=row.name,
        key_id=row.vkey.split("+")[1],
        verifier_key=row.vkey,
        registered_by=row.registered_by_name,
        registered_at=row.registered_at,
        revoked_at=row.revoked_at,
    )


def own_key() -> InstallationKey:
    """This installation's verifier key, for the other side to register."""
    verifier = log_verifier(get_settings())
    return InstallationKey(name=verifier.name, key_id=verifier.key_id.hex(), verifier_key=verifier.text())


def parse_key(vkey: str) -> Verifier:
    try:
        verifier = Verifier.parse(vkey)
    except NoteError as exc:
        raise InvalidInput(str(exc), field="verifier_key") from None
    if verifier.kind != 0x01:
        raise InvalidInput("must be a signing key (type 0x01), not a cosignature key", field="verifier_key")
    return verifier


async def add(
    session: AsyncSession, *, actor: Actor, data: TrustedInstallationCreate
) -> TrustedInstallationPublic:
    enforce(may_manage_trust(actor.principal))
    verifier = parse_key(data.verifier_key)
    vkey = verifier.text()
    if await repository.by_vkey(session, vkey) is not None:
        raise Conflict("this key is registered already (a revoked key stays revoked)", field="verifier_key")
    if await repository.in_force_named(session, verifier.name) is not None:
        raise Conflict(
            f"installation {verifier.name} has a key in force; revoke it first", field="verifier_key"
        )
    row = TrustedInstallation(
        name=verifier.name,
        vkey=vkey,
        registered_by_id=actor.principal.user_id,
        registered_by_name=actor.principal.display_name,
        registered_at=actor.now,
    )
    session.add(row)
    await session.flush()
    await record_event(
        session,
        actor=actor,
        action="handover.trust_add",
        after={"name": row.name, "verifier_key": vkey},
        detail=f"trusts packages signed by {row.name} (key {verifier.key_id.hex()})",
    )
    return _public(row)


async def register_at_setup(session: AsyncSession, *, verifier: Verifier, registered_by: str) -> None:
    """Trust ``verifier`` while an installation is set up (its demo directory, a bench's
    receiving installation), before anyone can sign in; a key registered already stays."""
    if await repository.by_vkey(session, verifier.text()) is None:
        session.add(
            TrustedInstallation(name=verifier.name, vkey=verifier.text(), registered_by_name=registered_by)
        )
        await session.flush()


async def list_trusted(session: AsyncSession, *, actor: Actor) -> list[TrustedInstallationPublic]:
    enforce(may_manage_trust(actor.principal))
    rows = await repository.every_key(session)
    await record_event(
        session, actor=actor, action="handover.trust_list", detail="listed trusted installations"
    )
    return [_public(row) for row in rows]


async def revoke(session: AsyncSession, *, actor: Actor, name: str) -> TrustedInstallationPublic:
    enforce(may_manage_trust(actor.principal))
    row = await repository.in_force_named(session, name)
    if row is None:
        raise NotFound("trusted installation")
    row.revoked_at = actor.now
    session.add(row)
    await session.flush()
    await record_event(
        session,
        actor=actor,
        action="handover.trust_revoke",
        before={"name": row.name, "verifier_key": row.vkey},
        detail=f"no longer trusts packages signed by {row.name}",
    )
    return _public(row)


async def trusted_verifiers(session: AsyncSession) -> list[Verifier]:
    """The keys in force here: the only ones whose packages are imported."""
    return [Verifier.parse(row.vkey) for row in await repository.in_force(session)]


async def trusted_signer(session: AsyncSession, directory: Path) -> Verifier:
    """The registered key in force that signed the package; raises ``InvalidPackage``."""
    return verify_signature(directory, await trusted_verifiers(session))

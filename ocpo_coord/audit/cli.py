"""``ocpo-coord audit ...``: verify, sequence, witness, and the keys and roles they need."""

import asyncio
import base64
import signal
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import Engine

from ocpo_coord.audit.keys import AuditKeyError, checkpoint_signer, create_key_file, log_verifier
from ocpo_coord.audit.note import COSIGNATURE_V1, Checkpoint, Note, NoteError, Signer, Verifier
from ocpo_coord.config import get_settings
from ocpo_coord.progress import working

app = typer.Typer(no_args_is_help=True, help="The tamper-evident audit log.")


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(code)


def _reference(engine: Engine, verifier: Verifier, against: Path | None) -> tuple[Checkpoint | None, str]:
    """The checkpoint to hold the log to, its signature checked, and its name: the file
    given, else the latest one a registered witness cosigned, else none."""
    from ocpo_coord.audit.verify import latest_cosigned

    if against is not None:
        try:
            note = Note.parse(against.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise _fail(f"cannot read {against}: {exc}") from None
        named = f"the checkpoint in {against}"
    else:
        with engine.connect() as conn:
            found = latest_cosigned(conn)
        if found is None:
            return None, ""
        note = Note.parse(found[0])
        cosigners = [name for name, vkey in found[1].items() if note.cosigned_by(Verifier.parse(vkey))]
        if not cosigners:
            return None, ""
        named = f"the checkpoint cosigned by {', '.join(sorted(cosigners))}"
    checkpoint = Checkpoint.parse(note.text)
    if checkpoint.origin != verifier.name:
        raise _fail(f"{named} is of {checkpoint.origin!r}, not of this installation ({verifier.name!r})")
    note.signed_by(verifier)
    return checkpoint, named


@app.command("verify")
def verify(
    against: Annotated[
        Path | None,
        typer.Option(help="A checkpoint (signed note) kept outside the installation, e.g. by a witness."),
    ] = None,
    log_key: Annotated[
        str | None,
        typer.Option(help="The log's verifier key; by default that of the installation's key file."),
    ] = None,
) -> None:
    """Recompute the Merkle tree; name the first entry changed, deleted, inserted or
    reordered, and a log cut short or recomputed since a checkpoint kept elsewhere (or,
    without --against, the latest one a witness cosigned)."""
    from ocpo_coord.audit.verify import verify_database
    from ocpo_coord.db.engine import make_sync_engine

    settings = get_settings()
    engine = make_sync_engine(settings.database_url)
    try:
        try:
            verifier = Verifier.parse(log_key) if log_key else log_verifier(settings)
            reference, named = _reference(engine, verifier, against)
        except (NoteError, AuditKeyError) as exc:
            raise _fail(f"checkpoint: {exc}") from None
        with working("audit verify"):
            report = verify_database(engine, against=reference)
    finally:
        engine.dispose()
    if not report.ok:
        raise _fail(f"audit log BROKEN after {report.checked} entries: {report.problem}", 1)
    held = (
        f"; matches {named} (size {reference.size})"
        if reference
        else "; no checkpoint kept elsewhere to hold it to"
    )
    typer.echo(
        f"audit log intact: {report.checked} entries, root {base64.b64encode(report.root).decode()}, "
        f"{report.pending} waiting for the sequencer{held}"
    )


@app.command("sequence")
def sequence(
    once: Annotated[bool, typer.Option("--once", help="Integrate what is queued now, then stop.")] = False,
) -> None:
    """Run the sequencer: give committed entries their place in the log and sign
    checkpoints (one process leads; others wait to take over)."""
    from ocpo_coord.audit import sequencer
    from ocpo_coord.db.engine import make_async_engine

    settings = get_settings()
    try:
        signer = checkpoint_signer(settings)
    except AuditKeyError as exc:
        raise _fail(str(exc)) from None

    async def main() -> int:
        engine = make_async_engine(settings.database_url)
        try:
            if once:
                return await sequencer.integrate_pending(engine, signer)
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            await sequencer.run(engine, signer, interval=settings.audit_integration_seconds, stop=stop)
            return 0
        finally:
            await engine.dispose()

    done = asyncio.run(main())
    if once:
        typer.echo(f"{done} entries integrated")


@app.command("witness")
def witness(
    url: Annotated[str, typer.Argument(help="The installation's base URL, e.g. https://coord.example.org")],
    state: Annotated[Path, typer.Option(help="This witness's state file (created on first run).")],
    key: Annotated[Path, typer.Option(help="This witness's cosigning key (see 'audit witness-key').")],
    token: Annotated[
        str, typer.Option(envvar="OCPO_TOKEN", help="A bearer token of the auditor running it.")
    ],
    log_key: Annotated[
        str | None, typer.Option(help="The log's verifier key; on first run, by default, the one it serves.")
    ] = None,
) -> None:
    """Check that the log only grew since the last run, cosign its latest checkpoint and
    post the cosignature back. Refuses (exit 1) when the log is not an extension."""
    import httpx

    from ocpo_coord.audit.witness import WitnessError, WitnessRefusal
    from ocpo_coord.audit.witness import witness as run_witness

    try:
        signer = Signer.parse(key.read_text(encoding="ascii"))
    except (OSError, UnicodeDecodeError, NoteError) as exc:
        raise _fail(f"witness key {key}: {exc}") from None
    if signer.kind != COSIGNATURE_V1:
        raise _fail(f"witness key {key} is not a cosignature key (type 0x04)")

    async def main() -> str:
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as client:
            return await run_witness(client, state_path=state, signer=signer, log_key=log_key)

    try:
        typer.echo(asyncio.run(main()))
    except WitnessRefusal as exc:
        raise _fail(f"REFUSED: {exc}", 1) from None
    except WitnessError as exc:
        raise _fail(str(exc)) from None


@app.command("witness-key")
def witness_key(
    name: Annotated[str, typer.Argument(help="The witness's name, e.g. eulex.example/witness")],
    out: Annotated[Path, typer.Argument(help="Where to write the private key (refused if it exists).")],
) -> None:
    """Create a witness's cosigning key; print its verifier key for the installation to register."""
    try:
        signer = Signer.generate(name, COSIGNATURE_V1)
    except NoteError as exc:
        raise _fail(str(exc)) from None
    try:
        with out.open("x", encoding="ascii") as handle:
            handle.write(signer.text() + "\n")
    except OSError as exc:
        raise _fail(f"cannot write {out}: {exc}") from None
    out.chmod(0o600)
    typer.echo(signer.verifier().text())


@app.command("add-witness")
def add_witness(
    vkey: Annotated[str, typer.Argument(help="The witness's verifier key (from 'audit witness-key').")],
) -> None:
    """Register a witness whose cosignatures the installation accepts."""
    from ocpo_coord.audit.registry import register_witness
    from ocpo_coord.db.engine import make_sync_engine

    try:
        verifier = Verifier.parse(vkey)
    except NoteError as exc:
        raise _fail(f"witness key: {exc}") from None
    if verifier.kind != COSIGNATURE_V1:
        raise _fail("witness key: not a cosignature key (type 0x04)")
    engine = make_sync_engine(get_settings().database_url)
    try:
        with engine.begin() as conn:
            added = register_witness(conn, verifier)
    finally:
        engine.dispose()
    typer.echo(
        f"witness {verifier.name} registered" if added else f"witness {verifier.name} was already registered"
    )


@app.command("log-key")
def log_key(
    out: Annotated[Path, typer.Argument(help="Where to write the key (OCPO_AUDIT_KEY_PATH).")],
) -> None:
    """Create the log's checkpoint signing key, named after the installation."""
    if out.exists():
        raise _fail(f"{out} exists; the log keeps the key it has")
    try:
        signer = create_key_file(out, get_settings().installation_name)
    except (OSError, AuditKeyError, NoteError) as exc:
        raise _fail(str(exc)) from None
    typer.echo(signer.verifier().text())


@app.command("grant")
def grant(role: Annotated[str, typer.Argument(help="The PostgreSQL role the service runs as.")]) -> None:
    """Run as the owning role after 'migrate': grant the service's role what it needs,
    and on the audit tables only SELECT and INSERT."""
    from ocpo_coord.audit.roles import grant_service_role
    from ocpo_coord.db.engine import make_sync_engine

    engine = make_sync_engine(get_settings().database_url)
    try:
        with engine.begin() as conn:
            grant_service_role(conn, role)
    except ValueError as exc:
        raise _fail(str(exc)) from None
    finally:
        engine.dispose()
    typer.echo(f"role {role} may read and append to the audit log, and change nothing in it")

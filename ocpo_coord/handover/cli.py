"""``ocpo-coord handover ...``: the whole lifecycle, and packages between installations.

Each command acts as the user named by ``--as`` through the same services as the APIs,
in one transaction, audited alike. Answers are printed as JSON.
"""

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from pydantic import BaseModel

from ocpo_coord.exceptions import OcpoError
from ocpo_coord.models.enums import DeclineOutcome, Disposition, LineKind
from ocpo_coord.progress import working

app = typer.Typer(no_args_is_help=True, help="Mission-to-mission handovers.")
T = TypeVar("T")

AsLogin = Annotated[
    str, typer.Option("--as", metavar="LOGIN", help="Login of the user acting, e.g. unmik.chief.")
]
HandoverId = Annotated[uuid.UUID, typer.Argument(help="The handover's id, as `handover list` shows it.")]

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

    from ocpo_coord.audit.note import Verifier
    from ocpo_coord.context import Actor


def _run(login: str, work: "Callable[[AsyncSession, Actor], Awaitable[T]]") -> T:
    from ocpo_coord.auth.principal import load_principal
    from ocpo_coord.context import Actor
    from ocpo_coord.db.engine import unit_of_work

    async def go() -> T:
        async with unit_of_work() as session:
            actor = Actor(
                principal=await load_principal(session, login), request_id=f"cli-{uuid.uuid4().hex}"
            )
            return await work(session, actor)

    try:
        return asyncio.run(go())
    except OcpoError as exc:
        where = f" ({exc.field})" if exc.field else ""
        typer.echo(f"refused{where}: {exc.message}", err=True)
        raise typer.Exit(1) from None


def _print(value: Any) -> None:
    if isinstance(value, BaseModel):
        typer.echo(value.model_dump_json(indent=2))
    elif isinstance(value, list):
        typer.echo(json.dumps([v.model_dump(mode="json") for v in value], indent=2))
    else:
        typer.echo(json.dumps(value, indent=2, default=str))


@app.command()
def create(
    login: AsLogin,
    incoming: Annotated[str, typer.Option(help="Code of the receiving agency, e.g. EULEX.")],
    theatre: Annotated[str, typer.Option(help="Code of the theatre handed over, e.g. KOS.")],
    cut_off: Annotated[
        datetime,
        typer.Option(
            formats=["%Y-%m-%d"],
            metavar="YYYY-MM-DD",
            help="The day responsibilities, positions and tours pass to the receiver.",
        ),
    ],
    title: Annotated[str, typer.Option(help="A title both sides recognise (3 to 300 characters).")],
    scope: Annotated[str, typer.Option(help="What the handover covers, in words.")] = "",
) -> None:
    """Open a handover from the acting user's agency to another."""
    from ocpo_coord.handover import service
    from ocpo_coord.handover.schemas import HandoverCreate

    data = HandoverCreate(
        title=title,
        incoming_agency=incoming,
        theatre=theatre,
        scope=scope,
        cut_off=cut_off.date(),
    )
    _print(_run(login, lambda s, a: service.create_handover(s, actor=a, data=data)))


@app.command("list")
def list_(login: AsLogin) -> None:
    """Handovers the acting user's agency gives or receives."""
    from ocpo_coord.handover import service

    _print(_run(login, lambda s, a: service.list_handovers(s, actor=a, status=None)))


@app.command()
def show(handover_id: HandoverId, login: AsLogin) -> None:
    """One handover: its sides, status, counts of lines by disposition and sign-offs."""
    from ocpo_coord.handover import service

    _print(_run(login, lambda s, a: service.get_handover(s, actor=a, handover_id=handover_id)))


@app.command()
def build(handover_id: HandoverId, login: AsLogin) -> None:
    """Build (or complete) the inventory: a line for everything in scope."""
    from ocpo_coord.handover import service

    _print(_run(login, lambda s, a: service.build_inventory(s, actor=a, handover_id=handover_id)))


@app.command()
def lines(
    handover_id: HandoverId,
    login: AsLogin,
    disposition: Annotated[Disposition | None, typer.Option(help="Only lines in this disposition.")] = None,
    kind: Annotated[LineKind | None, typer.Option(help="Only lines of this kind.")] = None,
) -> None:
    """The inventory, as the acting user may see it."""
    from ocpo_coord.handover import lines as lines_service
    from ocpo_coord.handover.schemas import LineFilter

    filters = LineFilter.model_validate({"disposition": disposition, "kind": kind})
    _print(
        _run(
            login,
            lambda s, a: lines_service.list_lines(
                s, actor=a, handover_id=handover_id, filters=filters, limit=100000
            ),
        )
    )


@app.command()
def decide(
    handover_id: HandoverId,
    login: AsLogin,
    disposition: Annotated[Disposition, typer.Option(help="The disposition to record on each line.")],
    only: Annotated[
        Disposition, typer.Option(help="Decide only lines now in this disposition.")
    ] = Disposition.OPEN,
    kind: Annotated[LineKind | None, typer.Option(help="Decide only lines of this kind.")] = None,
    reason: Annotated[str, typer.Option(help="Why; required to decline or withhold.")] = "",
    outcome: Annotated[
        DeclineOutcome | None, typer.Option(help="What happens instead to a declined line.")
    ] = None,
    evidence: Annotated[
        str, typer.Option(help="What shows a checklist line done (a briefing's date, a receipt).")
    ] = "",
) -> None:
    """Decide every line the filter selects, in bulk; prints what was skipped and why."""
    from ocpo_coord.handover import service
    from ocpo_coord.handover.schemas import BulkDecision

    data = BulkDecision.model_validate(
        {
            "filter": {"disposition": only, "kind": kind},
            "decision": {
                "disposition": disposition,
                "reason": reason,
                "decline_outcome": outcome,
                "completion_evidence": evidence,
            },
        }
    )
    _print(_run(login, lambda s, a: service.decide_lines(s, actor=a, handover_id=handover_id, data=data)))


@app.command()
def consents(login: AsLogin) -> None:
    """Consent requests waiting for the acting user's agency."""
    from ocpo_coord.handover import consent
    from ocpo_coord.models.enums import ConsentStatus

    _print(_run(login, lambda s, a: consent.list_requests(s, actor=a, status=ConsentStatus.PENDING)))


@app.command()
def consent(
    line_id: Annotated[
        uuid.UUID, typer.Argument(help="The inventory line of the request, as `handover consents` shows it.")
    ],
    login: AsLogin,
    grant: Annotated[
        bool, typer.Option("--grant/--refuse", help="Consent to the transfer, or refuse it (a stub stays).")
    ],
    note: Annotated[str, typer.Option(help="A note both sides see.")] = "",
) -> None:
    """Answer a consent request as the originating agency."""
    from ocpo_coord.handover import consent as consent_service
    from ocpo_coord.handover.schemas import ConsentAnswer

    data = ConsentAnswer(grant=grant, note=note)
    _print(_run(login, lambda s, a: consent_service.answer(s, actor=a, line_id=line_id, data=data)))


@app.command()
def submit(handover_id: HandoverId, login: AsLogin) -> None:
    """Submit the decided inventory for review by the receiving agency."""
    from ocpo_coord.handover import service

    _print(_run(login, lambda s, a: service.submit(s, actor=a, handover_id=handover_id)))


@app.command()
def review(
    handover_id: HandoverId,
    login: AsLogin,
    approve: Annotated[
        bool, typer.Option("--approve/--return", help="Approve the inventory, or return it for more work.")
    ],
    note: Annotated[str, typer.Option(help="Why it goes back; required to return.")] = "",
) -> None:
    """Review a submitted inventory as the receiving agency."""
    from ocpo_coord.handover import service
    from ocpo_coord.handover.schemas import ReviewInput

    data = ReviewInput(approve=approve, note=note)
    _print(_run(login, lambda s, a: service.review(s, actor=a, handover_id=handover_id, data=data)))


@app.command("sign-off")
def sign_off(handover_id: HandoverId, login: AsLogin) -> None:
    """Sign off for the acting user's side; completion needs both sides' sign-off."""
    from ocpo_coord.handover import service

    _print(_run(login, lambda s, a: service.sign_off(s, actor=a, handover_id=handover_id)))


@app.command()
def complete(handover_id: HandoverId, login: AsLogin) -> None:
    """Complete: refused while any line is open or a sign-off is missing."""
    from ocpo_coord.handover import completion

    _print(_run(login, lambda s, a: completion.complete(s, actor=a, handover_id=handover_id)))


@app.command()
def cancel(
    handover_id: HandoverId,
    login: AsLogin,
    reason: Annotated[str, typer.Option(help="Why the handover is cancelled; both sides see it.")],
) -> None:
    """Cancel a handover that has not completed; nothing changes owner."""
    from ocpo_coord.handover import service
    from ocpo_coord.handover.schemas import CancelInput

    data = CancelInput(reason=reason)
    _print(_run(login, lambda s, a: service.cancel(s, actor=a, handover_id=handover_id, data=data)))


@app.command()
def report(
    handover_id: HandoverId,
    login: AsLogin,
    html: Annotated[Path | None, typer.Option(help="Also write the printable page to this file.")] = None,
) -> None:
    """The report: every line, the completeness figure and the dropped-record count."""
    from ocpo_coord.handover import report as report_service

    built = _run(login, lambda s, a: report_service.build_report(s, actor=a, handover_id=handover_id))
    if html is not None:
        html.write_text(report_service.render_html(built), encoding="utf-8")
    _print(built)


@app.command("export")
def export_(
    handover_id: HandoverId,
    directory: Annotated[
        Path, typer.Argument(help="Where to write the BagIt package: a new or empty directory.")
    ],
    login: AsLogin,
) -> None:
    """Write a completed handover as a BagIt package (SHA-256) for another installation."""
    from ocpo_coord.handover.export import export_handover

    with working("handover export"):
        written = _run(
            login, lambda s, a: export_handover(s, actor=a, handover_id=handover_id, directory=directory)
        )
    _print(written)


@app.command()
def verify(
    directory: Annotated[Path, typer.Argument(help="The directory of a handover package.")],
    login: Annotated[
        str | None,
        typer.Option(
            "--as",
            help="Also run the whole import as this user (an administrator of the receiving "
            "agency) and roll it back: what only this installation can judge.",
        ),
    ] = None,
    key: Annotated[
        str | None,
        typer.Option(
            "--key",
            metavar="VERIFIER_KEY",
            help="Check the signature against this verifier key (name+keyid+base64) instead of "
            "the installations this one trusts.",
        ),
    ] = None,
) -> None:
    """Check fixity, completeness, every record and line, the signature, the audit
    checkpoint and every inclusion proof; name the first thing wrong."""
    from ocpo_coord.handover.authenticity import verify_authentic

    registry = _TrustedKeys(key)
    with working("handover verify"):
        check, authentic = verify_authentic(directory, registry.keys)
    if not check.ok or authentic is None:
        for problem in check.problems:
            typer.echo(f"invalid: {problem}", err=True)
        if registry.unread:
            typer.echo(
                f"(the trusted installations could not be read: {registry.unread}; give --key)", err=True
            )
        raise typer.Exit(1)
    if login is not None:
        from ocpo_coord.handover.importer import import_package

        async def rehearse(session: "AsyncSession", actor: "Actor") -> None:
            await import_package(session, actor=actor, directory=directory, dry_run=True)
            await session.rollback()

        _run(login, rehearse)
    typer.echo(
        f"valid: {check.records} records, {check.info.get('Ocpo-File-Count', '0')} evidence file(s), "
        f"handover {check.info.get('External-Identifier')} "
        f"from {check.info.get('Ocpo-Source-Installation')}, {authentic.describe()}"
        + (f"; imports here as {login} (nothing written)" if login else "")
    )


class _TrustedKeys:
    """The key given, or the keys in force in this installation's registry, read when
    asked; ``unread`` says why none could be read (the other checks still run)."""

    def __init__(self, key: str | None) -> None:
        from ocpo_coord.handover import trust

        self.given = None
        self.unread = ""
        if key is not None:
            try:
                self.given = [trust.parse_key(key)]
            except OcpoError as exc:
                typer.echo(f"invalid: --key: {exc.message}", err=True)
                raise typer.Exit(2) from None

    def keys(self) -> "list[Verifier]":
        if self.given is not None:
            return self.given
        from ocpo_coord.db.engine import unit_of_work
        from ocpo_coord.handover import trust

        async def registry() -> "list[Verifier]":
            async with unit_of_work() as session:
                return await trust.trusted_verifiers(session)

        reading = registry()
        try:
            return asyncio.run(reading)
        except Exception as exc:  # an unreachable or unmigrated database: said, no traceback
            reading.close()
            self.unread = type(exc).__name__
            return []


@app.command("import")
def import_(
    directory: Annotated[Path, typer.Argument(help="The directory of a handover package.")],
    login: AsLogin,
) -> None:
    """Import a package all-or-nothing; a second import of the same package creates nothing."""
    from ocpo_coord.handover.importer import import_package

    with working("handover import"):
        summary = _run(login, lambda s, a: import_package(s, actor=a, directory=directory))
    typer.echo(summary.model_dump_json(indent=2))


@app.command("tour-report")
def tour_report(
    login_of: Annotated[str, typer.Argument(metavar="LOGIN", help="Login of the person leaving.")],
    login: AsLogin,
) -> None:
    """What a person leaves behind at the end of a tour: open tasks, cases, positions."""
    from ocpo_coord.handover import rotation

    _print(_run(login, lambda s, a: rotation.tour_end_report(s, actor=a, login=login_of)))


@app.command("create-rotation")
def create_rotation(
    login: AsLogin,
    outgoing: Annotated[str, typer.Option(metavar="LOGIN", help="Login of the person leaving.")],
    incoming: Annotated[str, typer.Option(metavar="LOGIN", help="Login of the successor.")],
    theatre: Annotated[str, typer.Option(help="Code of the theatre, e.g. KOS.")],
    cut_off: Annotated[
        datetime,
        typer.Option(formats=["%Y-%m-%d"], metavar="YYYY-MM-DD", help="The last day of the outgoing tour."),
    ],
) -> None:
    """Open a position-to-position handover; then build, decide, submit... as for any handover."""
    from ocpo_coord.handover import rotation
    from ocpo_coord.handover.schemas import RotationCreate

    data = RotationCreate(
        outgoing_user=outgoing, incoming_user=incoming, theatre=theatre, cut_off=cut_off.date()
    )
    _print(_run(login, lambda s, a: rotation.create_rotation(s, actor=a, data=data)))


trust_app = typer.Typer(
    no_args_is_help=True, help="The installations whose signed packages this one imports."
)
app.add_typer(trust_app, name="trust")


@trust_app.command("add")
def trust_add(
    verifier_key: Annotated[
        str, typer.Argument(metavar="VERIFIER_KEY", help="As 'ocpo-coord handover key' prints it there.")
    ],
    login: AsLogin,
) -> None:
    """Trust the packages signed by this key (an installation administrator)."""
    from pydantic import ValidationError

    from ocpo_coord.handover import trust

    try:
        data = trust.TrustedInstallationCreate(verifier_key=verifier_key)
    except ValidationError as exc:
        typer.echo(f"refused (verifier_key): {exc.errors()[0]['msg']}", err=True)
        raise typer.Exit(1) from None
    _print(_run(login, lambda s, a: trust.add(s, actor=a, data=data)))


@trust_app.command("list")
def trust_list(login: AsLogin) -> None:
    """Every registered key, revoked ones included."""
    from ocpo_coord.handover import trust

    _print(_run(login, lambda s, a: trust.list_trusted(s, actor=a)))


@trust_app.command("revoke")
def trust_revoke(
    name: Annotated[str, typer.Argument(help="The installation's name.")],
    login: AsLogin,
) -> None:
    """Stop trusting the key in force of this installation: its packages are refused."""
    from ocpo_coord.handover import trust

    _print(_run(login, lambda s, a: trust.revoke(s, actor=a, name=name)))


@app.command()
def key() -> None:
    """This installation's verifier key, for the receiving installation to register."""
    from ocpo_coord.audit.keys import AuditKeyError
    from ocpo_coord.handover import trust

    try:
        typer.echo(trust.own_key().verifier_key)
    except AuditKeyError as exc:
        typer.echo(f"refused: {exc}", err=True)
        raise typer.Exit(1) from None

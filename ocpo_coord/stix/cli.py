"""``ocpo-coord stix import``: a STIX 2.1 bundle from a file, as one user, all or nothing.

The command acts as the user named by ``--as`` through the same service as the REST
import, in one transaction: a bad object refuses the whole file, named by its index and
id, and nothing is written. Progress goes to stderr; stdout gets one line of summary.
"""

import asyncio
import json
import uuid
from pathlib import Path
from typing import Annotated, Any

import typer

from ocpo_coord.cli_runtime import CliError
from ocpo_coord.progress import Step, working

app = typer.Typer(no_args_is_help=True, help="STIX 2.1 exchange.")


def _read(file: Path) -> Any:
    try:
        text = file.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise CliError(f"cannot read {file}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise CliError(f"{file} is not UTF-8 text (byte {exc.start})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise CliError(f"{file} is not JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None


@app.command("import")
def import_file(
    file: Annotated[Path, typer.Argument(help="A STIX 2.1 bundle (JSON).", dir_okay=False)],
    login: Annotated[str, typer.Option("--as", metavar="LOGIN", help="Login of the user importing.")],
    theatre: Annotated[
        str | None, typer.Option("--theatre", help="Theatre code for objects that name none known here.")
    ] = None,
    source: Annotated[
        str | None, typer.Option("--source", help="The sending system, for provenance.")
    ] = None,
) -> None:
    """Import the bundle's reports and notes, with the entities they refer to, as
    intelligence owned by the user's agency; markings are never widened. Importing the
    same bundle again creates nothing."""
    from ocpo_coord.auth.principal import load_principal
    from ocpo_coord.context import Actor
    from ocpo_coord.db.engine import unit_of_work
    from ocpo_coord.stix.importer import import_bundle
    from ocpo_coord.stix.schemas import StixImportResult

    async def go(step: Step) -> StixImportResult:
        async with unit_of_work() as session:
            actor = Actor(
                principal=await load_principal(session, login), request_id=f"cli-{uuid.uuid4().hex}"
            )
            result = await import_bundle(
                session, actor=actor, bundle=bundle, theatre=theatre, source=source, step=step
            )
            step("commit")
            return result

    with working(f"import {file.name}") as step:
        step("read the file")
        bundle = _read(file)
        result = asyncio.run(go(step))
    count = len(bundle["objects"])
    typer.echo(
        f"{count} objects from {result.source}: {len(result.created)} items created, "
        f"{len(result.updated)} updated, {len(result.already_imported)} already imported"
    )

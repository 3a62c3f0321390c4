"""``ocpo-coord entity add-selectors``: a list of selectors from a file onto one entity.

The command acts as the user named by ``--as`` through the same service as the bulk
REST endpoint and GraphQL mutation, in one transaction: all of the file or none of it.
"""

import asyncio
import uuid
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from ocpo_coord.exceptions import OcpoError
from ocpo_coord.models.enums import SelectorKind
from ocpo_coord.progress import working

app = typer.Typer(no_args_is_help=True, help="Entities and their selectors.")


def _line_of(field: str | None, lines: list[int]) -> str:
    """`` (line N)`` for a ``selectors.I...`` field: the file's line, not the list's index."""
    parts = (field or "").split(".")
    if len(parts) > 1 and parts[0] == "selectors" and parts[1].isdigit() and int(parts[1]) < len(lines):
        return f" (line {lines[int(parts[1])]})"
    return ""


@app.command("add-selectors")
def add_selectors(
    entity_id: Annotated[uuid.UUID, typer.Argument(help="The entity's id.")],
    file: Annotated[
        Path,
        typer.Option("--file", exists=True, dir_okay=False, readable=True, help="One selector value a line."),
    ],
    kind: Annotated[SelectorKind, typer.Option("--kind", help="What every line of the file is.")],
    login: Annotated[str, typer.Option("--as", metavar="LOGIN", help="Login of the user acting.")],
) -> None:
    """Attach every selector of FILE to the entity (blank lines are skipped): all or none,
    and those it already holds are not added again. Prints what was added as JSON."""
    from ocpo_coord.auth.principal import load_principal
    from ocpo_coord.context import Actor
    from ocpo_coord.db.engine import unit_of_work
    from ocpo_coord.entity.bulk import add_selectors as attach
    from ocpo_coord.entity.schemas import SelectorBulkCreate

    values: list[str] = []
    lines: list[int] = []
    for number, line in enumerate(file.read_text(encoding="utf-8-sig").splitlines(), start=1):
        if line.strip():
            values.append(line.strip())
            lines.append(number)
    try:
        data = SelectorBulkCreate.model_validate({"selectors": [{"kind": kind, "value": v} for v in values]})
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        typer.echo(f"refused ({field}){_line_of(field, lines)}: {first['msg']}", err=True)
        raise typer.Exit(1) from None

    async def go() -> str:
        async with unit_of_work() as session:
            actor = Actor(
                principal=await load_principal(session, login), request_id=f"cli-{uuid.uuid4().hex}"
            )
            return (await attach(session, actor=actor, entity_id=entity_id, data=data)).model_dump_json(
                indent=2
            )

    try:
        with working(f"add {len(values)} selectors") as step:
            step("normalise, match and write")
            answer = asyncio.run(go())
    except OcpoError as exc:
        where = f" ({exc.field})" if exc.field else ""
        typer.echo(f"refused{where}{_line_of(exc.field, lines)}: {exc.message}", err=True)
        raise typer.Exit(1) from None
    typer.echo(answer)

"""``ocpo-coord files ...``: the evidence file store, seen by its operator."""

import asyncio

import typer

app = typer.Typer(no_args_is_help=True, help="The evidence file store.")


@app.command()
def check() -> None:
    """Hash every kept file again; name missing, altered and orphaned files (exit 1 if any)."""
    from ocpo_coord.db.engine import unit_of_work
    from ocpo_coord.evidence.fixity import kept_digests, sweep
    from ocpo_coord.evidence.store import FileStore

    async def kept() -> set[str]:
        async with unit_of_work() as session:
            return await kept_digests(session)

    store = FileStore.configured()
    result = sweep(store, asyncio.run(kept()))
    for digest in result.missing:
        typer.echo(f"missing: {digest} (kept by the database, absent from {store.root})")
    for name, actual in result.altered:
        typer.echo(f"altered: {name} (its bytes hash to {actual})")
    for name in result.orphaned:
        typer.echo(f"orphaned: {name} (no evidence item names it)")
    typer.echo(
        f"{result.checked} files checked: {len(result.missing)} missing, {len(result.altered)} altered, "
        f"{len(result.orphaned)} orphaned"
    )
    if not result.ok:
        raise typer.Exit(1)

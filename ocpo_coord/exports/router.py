"""REST: CSV downloads of the task board and the responsibility matrix."""

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from ocpo_coord.api.deps import ActorDep, SessionDep
from ocpo_coord.coordination.schemas import MatrixFilter
from ocpo_coord.exports import csv_tables
from ocpo_coord.task.schemas import TaskFilter

router = APIRouter(tags=["exports"])
_CSV: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {}}, "description": "A CSV file (RFC 4180), UTF-8 with a byte-order mark."}
}
# Spreadsheet programs read a CSV file without a byte-order mark in the system's legacy
# code page, which turns Cyrillic and Albanian letters into mojibake; with it, as UTF-8.
_BOM = "\ufeff"


class _Bom(BaseModel):
    bom: bool = Field(
        default=True,
        description="Start with a UTF-8 byte-order mark, as spreadsheets need (default); "
        "false for tools that do not want it.",
    )


class TaskCsvQuery(TaskFilter, _Bom):
    pass


class MatrixCsvQuery(MatrixFilter, _Bom):
    pass


def _download(body: str, name: str, *, bom: bool) -> Response:
    return Response(
        content=(_BOM if bom else "") + body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/tasks.csv", response_class=Response, responses=_CSV)
async def task_board_csv(
    session: SessionDep, actor: ActorDep, query: Annotated[TaskCsvQuery, Query()]
) -> Response:
    """The task board as CSV: every task you may read that matches the filters."""
    filters = TaskFilter.model_validate(query.model_dump(exclude={"bom"}, exclude_unset=True))
    body = await csv_tables.task_board_csv(session, actor=actor, filters=filters)
    return _download(body, "task-board.csv", bom=query.bom)


@router.get("/responsibilities/matrix.csv", response_class=Response, responses=_CSV)
async def matrix_csv(
    session: SessionDep, actor: ActorDep, query: Annotated[MatrixCsvQuery, Query()]
) -> Response:
    """The responsibility matrix as CSV, with overlap and gap flags per activity area."""
    filters = MatrixFilter.model_validate(query.model_dump(exclude={"bom"}, exclude_unset=True))
    body = await csv_tables.matrix_csv(session, actor=actor, filters=filters)
    return _download(body, f"responsibility-matrix-{filters.theatre.lower()}.csv", bom=query.bom)

"""CSV exports people ask for: the task board and the responsibility matrix.

Both are built from the same service calls as the JSON answers, so the sharing rule
applies unchanged; nothing here reads a table. Cells that a spreadsheet would take for
a formula are defused with a leading apostrophe (OWASP "CSV injection").
"""

import csv
import io
from collections.abc import Iterable, Sequence

from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.audit.service import record_event
from ocpo_coord.context import Actor
from ocpo_coord.coordination.schemas import MatrixFilter
from ocpo_coord.coordination.service import responsibility_matrix
from ocpo_coord.exceptions import InvalidInput
from ocpo_coord.task.schemas import TaskFilter, TaskPublic
from ocpo_coord.task.service import list_tasks

MAX_ROWS = 10_000
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

TASK_COLUMNS = [
    "id",
    "title",
    "status",
    "priority",
    "activity_area",
    "crime_axis",
    "action_axis",
    "theatre",
    "lead_agency",
    "supporting_agencies",
    "assignee",
    "assignee_position",
    "due_date",
    "overdue",
    "blocked",
    "case_id",
    "depends_on",
    "classification",
    "tlp",
]


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _csv(header: list[str], rows: Iterable[Sequence[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    return out.getvalue()


def _task_row(t: TaskPublic) -> list[object]:
    return [
        t.id,
        t.title,
        t.status,
        t.priority,
        t.activity_area,
        t.crime_axis,
        t.action_axis,
        t.theatre,
        t.lead_agency,
        ";".join(t.supporting_agencies),
        t.assignee,
        t.assignee_position,
        t.due_date,
        "yes" if t.overdue else "no",
        "yes" if t.blocked else "no",
        t.case_id,
        ";".join(str(d) for d in t.depends_on),
        t.markings.classification.name,
        t.markings.tlp,
    ]


async def task_board_csv(session: AsyncSession, *, actor: Actor, filters: TaskFilter) -> str:
    """Every task the reader may read that matches, page by page along the keyset."""
    tasks: list[TaskPublic] = []
    after: str | None = None
    while True:
        # The whole list is read, so its count would only be a walk for nothing.
        page = await list_tasks(session, actor=actor, filters=filters, first=100, after=after, count=False)
        tasks += page.items
        if len(tasks) > MAX_ROWS:
            raise InvalidInput(f"more than {MAX_ROWS} tasks match; narrow the filter", field="filter")
        if not page.has_next_page or not page.end_cursors:
            break
        after = page.end_cursors[-1]
    await record_event(
        session,
        actor=actor,
        action="task.export",
        record_kind="task",
        # No count: an auditor is shown only the ids they may read, and a count would
        # say how many others there were.
        record_ids=[t.id for t in tasks],
        after={"format": "csv", "ids": [str(t.id) for t in tasks]},
        detail="task board CSV",
    )
    return _csv(TASK_COLUMNS, (_task_row(t) for t in tasks))


async def matrix_csv(session: AsyncSession, *, actor: Actor, filters: MatrixFilter) -> str:
    """One row per activity area, one column per agency, and the overlap and gap flags."""
    matrix = await responsibility_matrix(session, actor=actor, filters=filters)
    overlapping = {o.activity_area for o in matrix.overlaps}
    gaps = {g.activity_area for g in matrix.gaps}
    areas = list(
        dict.fromkeys([r.activity_area for r in matrix.rows] + [g.activity_area for g in matrix.gaps])
    )
    cells = {(r.activity_area, c.agency): "+".join(c.roles) for r in matrix.rows for c in r.cells}
    axes = {r.activity_area: (r.crime_axis, r.action_axis) for r in matrix.rows}
    axes.update({g.activity_area: (g.crime_axis, g.action_axis) for g in matrix.gaps})
    header = ["activity_area", "crime_axis", "action_axis", *matrix.agencies, "overlap", "gap"]
    rows = [
        [
            area,
            axes[area][0],
            axes[area][1],
            *(cells.get((area, agency), "") for agency in matrix.agencies),
            "yes" if area in overlapping else "no",
            "yes" if area in gaps else "no",
        ]
        for area in areas
    ]
    await record_event(
        session,
        actor=actor,
        action="responsibility_matrix.export",
        detail=f"responsibility matrix CSV for {matrix.theatre} on {matrix.on.isoformat()}",
    )
    return _csv(header, rows)

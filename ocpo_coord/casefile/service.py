"""The printable case file: a case and everything hanging off it that the reader may read.

Every section is read through the same services as the APIs (so through ``readable``);
intelligence linked to the case appears only where the reader may read it. The page's
banner carries the highest classification, the narrowest TLP and every caveat of what
it shows, as a printed document's overall marking does. The export is audited per
record, so each audit entry inherits the markings of the record it names.
"""

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

from jinja2 import Environment, PackageLoader, select_autoescape
from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.api.printable import Marking, banner, style_only_csp
from ocpo_coord.audit.service import record_event
from ocpo_coord.case.schemas import CasePublic
from ocpo_coord.config import get_settings
from ocpo_coord.context import Actor
from ocpo_coord.models.enums import Classification, RecordKind, Tlp
from ocpo_coord.records.kinds import kind_spec
from ocpo_coord.records.schemas import MarkingsPublic
from ocpo_coord.visibility.pagination import Page

T = TypeVar("T")

# More than this per section is not a printable document; the page says it was cut.
SECTION_LIMIT = 1000

_env = Environment(
    loader=PackageLoader("ocpo_coord.casefile", "templates"),
    autoescape=select_autoescape(["html"], default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)

STYLE = (_env.loader.get_source(_env, "case_file.css")[0] if _env.loader else "").strip()
# The page's one stylesheet is inline; the CSP admits exactly it and nothing else.
CSP = style_only_csp(STYLE)


def marking(markings: MarkingsPublic) -> Marking:
    return Marking(
        Classification(markings.classification),
        Tlp(markings.tlp),
        markings.orcon,
        markings.nohost,
        markings.restricted,
    )


def portion(markings: MarkingsPublic) -> str:
    return marking(markings).portion


_env.filters["portion"] = portion


async def _all(fetch: Callable[[str | None], Awaitable[Page[T]]]) -> tuple[list[T], bool]:
    """Every readable item of a section, page by page, up to SECTION_LIMIT."""
    items: list[T] = []
    after: str | None = None
    while True:
        page = await fetch(after)
        items += page.items
        if not page.has_next_page or not page.end_cursors:
            return items[:SECTION_LIMIT], False
        if len(items) >= SECTION_LIMIT:
            return items[:SECTION_LIMIT], True
        after = page.end_cursors[-1]


async def case_file(session: AsyncSession, *, actor: Actor, case_id: uuid.UUID) -> str:
    """The rendered HTML page; an unreadable case is the same NotFound as a missing one."""
    case: CasePublic = await kind_spec(RecordKind.CASE).get(session, actor, case_id)
    size = get_settings().max_page_size

    async def section(kind: RecordKind) -> tuple[list[Any], bool]:
        spec = kind_spec(kind)
        return await _all(lambda after: spec.children(session, actor, case_id, first=size, after=after))

    note_items, notes_cut = await section(RecordKind.NOTE)
    evidence_items, evidence_cut = await section(RecordKind.EVIDENCE)
    task_items, tasks_cut = await section(RecordKind.TASK)
    intel_items, intel_cut = await section(RecordKind.INTEL_ITEM)
    shown: list[tuple[RecordKind, uuid.UUID, MarkingsPublic]] = [
        (RecordKind.CASE, case.id, case.markings),
        *((RecordKind.NOTE, n.id, n.markings) for n in note_items),
        *((RecordKind.EVIDENCE, e.id, e.markings) for e in evidence_items),
        *((RecordKind.TASK, t.id, t.markings) for t in task_items),
        *((RecordKind.INTEL_ITEM, i.id, i.markings) for i in intel_items),
    ]
    for kind, record_id, _ in shown:
        await record_event(
            session,
            actor=actor,
            action=f"{kind.value}.export",
            record_kind=kind,
            record_id=record_id,
            detail="case file (HTML)",
        )
    return _env.get_template("case_file.html").render(
        style=STYLE,
        case=case,
        banner=banner(marking(m) for _, _, m in shown),
        notes=sorted(note_items, key=lambda n: (n.created_at, str(n.id))),
        evidence=evidence_items,
        tasks=sorted(task_items, key=lambda t: (t.due_date is None, t.due_date, t.title)),
        intel=sorted(intel_items, key=lambda i: (i.information_date, i.title)),
        cut=[
            name
            for name, c in (
                ("notes", notes_cut),
                ("evidence", evidence_cut),
                ("tasks", tasks_cut),
                ("intelligence", intel_cut),
            )
            if c
        ],
        produced_at=actor.now.strftime("%Y-%m-%d %H:%M UTC"),
        produced_by=f"{actor.principal.display_name} ({actor.principal.login}, {actor.principal.agency_code})",
        limit=SECTION_LIMIT,
        fmt=_when,
    )


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else ""

"""The handover report: every line accounted for, and the count of dropped records.

The same figures serve the JSON answer and the printable page. A receiver sees the
lines it may see (a host-nation receiver never sees NOHOST lines, not even counted);
titles follow the sharing rule for the person reading.
"""

import uuid
from collections import Counter, defaultdict

from jinja2 import Environment, PackageLoader, select_autoescape
from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.api.printable import banner, style_only_csp
from ocpo_coord.audit.service import record_event
from ocpo_coord.context import Actor
from ocpo_coord.handover import repository
from ocpo_coord.handover.completion import dropped_records
from ocpo_coord.handover.policy import Side, side_of
from ocpo_coord.handover.schemas import HandoverReport, ReportLine
from ocpo_coord.handover.service import to_public, visible
from ocpo_coord.handover.views import LineViews
from ocpo_coord.models.enums import Disposition, HandoverStatus

_TEMPLATES = Environment(
    loader=PackageLoader("ocpo_coord.handover", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
)


async def build_report(session: AsyncSession, *, actor: Actor, handover_id: uuid.UUID) -> HandoverReport:
    handover = await visible(session, actor, handover_id)
    side = side_of(actor.principal, handover)
    statement = repository.lines_statement(handover.id, include_hidden=side is Side.OUTGOING)
    lines = await repository.lines(session, statement)
    views = await LineViews(session, actor).load(lines)
    shown = [views.public(line) for line in lines]
    markings = [views.marking(line) for line in lines]
    by_disposition = Counter(str(line.disposition) for line in lines)
    by_kind: dict[str, Counter[str]] = defaultdict(Counter)
    for public in shown:
        # A stub's kind is not the reader's to know: it is counted as unreadable.
        by_kind[str(public.kind) if public.kind else "unreadable"][str(public.disposition)] += 1
    decided = len(lines) - by_disposition.get(Disposition.OPEN.value, 0)
    if handover.status == HandoverStatus.COMPLETED and handover.dropped_count is not None:
        dropped = handover.dropped_count
    else:
        dropped = await dropped_records(session, handover)
    report = HandoverReport(
        handover=await to_public(session, handover, side=side),
        total_lines=len(lines),
        decided_lines=decided,
        completeness=round(decided / len(lines), 4) if lines else 1.0,
        dropped_records=dropped,
        by_disposition={d.value: by_disposition.get(d.value, 0) for d in Disposition},
        by_kind={kind: dict(counts) for kind, counts in sorted(by_kind.items())},
        lines=[
            ReportLine(
                seq=public.seq,
                kind=public.kind,
                subject_id=public.subject_id,
                label=public.label,
                disposition=public.disposition,
                reason=public.reason,
                decline_outcome=public.decline_outcome,
                decided_by=public.decided_by,
                decided_at=public.decided_at,
                consent_agency=public.consent_agency,
                consent_status=public.consent_status,
                consent_by=public.consent_by,
                ask=public.ask,
                marking=marking.portion if marking else None,
            )
            for public, marking in zip(shown, markings, strict=True)
        ],
        banner=banner(m for m in markings if m is not None).text,
        generated_at=actor.now,
    )
    await record_event(
        session,
        actor=actor,
        action="handover.report",
        record_kind="handover",
        record_id=handover.id,
        detail=f"{report.total_lines} lines, {dropped} dropped",
    )
    return report


STYLE = (_TEMPLATES.loader.get_source(_TEMPLATES, "report.css")[0] if _TEMPLATES.loader else "").strip()
CSP = style_only_csp(STYLE)


def render_html(report: HandoverReport) -> str:
    return _TEMPLATES.get_template("report.html").render(report=report, Disposition=Disposition, style=STYLE)

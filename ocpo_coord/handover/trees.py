"""A record's tree in a handover: the case, what hangs off it, its restricted membership.

A case's evidence and notes are part of its file, and whatever belongs to a restricted
case is read by that case's members only. Accepting such a record while its case stays
behind hands the receiver something it owns but cannot read, and a package it cannot
import (the record's restricted case is not in it). Such decisions are refused, naming
both lines; the receiver accepts both or neither.
"""

import uuid
from collections import defaultdict

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.models import HandoverLine, Record
from ocpo_coord.models.enums import Disposition, LineKind

# A case line with one of these dispositions stays with the giver.
STAYS = (Disposition.DECLINED, Disposition.WITHHELD, Disposition.CLOSED)
_CHILDREN = (LineKind.EVIDENCE, LineKind.NOTE)
_RECORD_LINES = (LineKind.CASE, LineKind.EVIDENCE, LineKind.NOTE, LineKind.INTEL_ITEM, LineKind.TASK)


class Tree:
    """Which record lines of one handover hang off which case line."""

    def __init__(self, rows: list[tuple[HandoverLine, uuid.UUID | None, uuid.UUID | None]]) -> None:
        cases = {ln.subject_id: ln for ln, _, _ in rows if ln.kind == LineKind.CASE}
        self.anchors: dict[uuid.UUID, list[tuple[HandoverLine, str]]] = defaultdict(list)
        self.children: dict[uuid.UUID, list[tuple[HandoverLine, str]]] = defaultdict(list)
        for line, parent, restricted in rows:
            links: list[tuple[HandoverLine, str]] = []
            if restricted is not None and restricted != line.subject_id and restricted in cases:
                links.append((cases[restricted], "belongs to the restricted case on"))
            if line.kind in _CHILDREN and parent in cases and (not links or links[0][0].subject_id != parent):
                links.append((cases[parent], "hangs off the case on"))
            for anchor, how in links:
                self.anchors[line.id].append((anchor, how))
                self.children[anchor.id].append((line, how))

    def problem(self, line: HandoverLine, disposition: Disposition, *, receiver: bool) -> str | None:
        """Why deciding ``line`` so would split its tree, or None."""

        def name(other: HandoverLine) -> str:
            # A receiver is never told of a line hidden from it, not even its number.
            if receiver and other.hidden_from_incoming:
                return "a line not shown to you"
            return f"line {other.seq}"

        if disposition is Disposition.ACCEPTED:
            for anchor, how in self.anchors.get(line.id, []):
                if anchor.disposition in STAYS:
                    return (
                        f"line {line.seq} ({line.kind}) {how} {name(anchor)}, which is "
                        f"{anchor.disposition}: accept both, or decline line {line.seq}"
                    )
        elif line.kind == LineKind.CASE and disposition in STAYS:
            for child, how in self.children.get(line.id, []):
                if child.disposition == Disposition.ACCEPTED:
                    return (
                        f"{name(child)} ({child.kind}), accepted, {how} line {line.seq}: a case "
                        f"{disposition} keeps what hangs off it; decline {name(child)} first, "
                        "or accept both"
                    )
        return None


async def load_tree(session: AsyncSession, handover_id: uuid.UUID) -> Tree:
    """Every record line of the handover with its record's parent and restricted case; the
    lines are the session's own objects, so decisions made meanwhile are seen."""
    statement = (
        select(HandoverLine, Record.parent_id, Record.restricted_case_id)
        .join(Record, col(Record.id) == col(HandoverLine.subject_id))
        .where(
            HandoverLine.handover_id == handover_id,
            col(HandoverLine.kind).in_([k.value for k in _RECORD_LINES]),
        )
    )
    return Tree(
        [(line, parent, restricted) for line, parent, restricted in (await session.exec(statement)).all()]
    )

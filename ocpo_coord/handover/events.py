"""Who hears about a handover: each side's coordinators at every step, and the
originator of third-party material when its consent is asked.

The text names the handover, the agencies and counts, never a record's content, so it
stays safe to show whatever happens to the records later.
"""

import uuid
from collections import Counter
from collections.abc import Iterable

from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.context import Actor
from ocpo_coord.metrics import HANDOVER_EVENTS
from ocpo_coord.models import Handover, HandoverLine
from ocpo_coord.models.enums import HandoverKind, NotificationKind
from ocpo_coord.notification.service import agency_recipients, designated_position, notify
from ocpo_coord.visibility.repository import agency_codes

# Which side hears about each step: the one that has to act next, or both at the end.
_TOLD = {
    "create": ("incoming",),
    "build_inventory": ("incoming",),
    "submit": ("incoming",),
    "review": ("outgoing",),
    "return": ("outgoing",),
    "sign_off.outgoing": ("incoming",),
    "sign_off.incoming": ("outgoing",),
    "complete": ("outgoing", "incoming"),
    "cancel": ("outgoing", "incoming"),
    "reopen": ("outgoing", "incoming"),
}
_WHAT = {
    "create": "opened",
    "build_inventory": "has its inventory built",
    "submit": "was submitted for your review",
    "review": "was approved by the receiver",
    "return": "was returned for more work",
    "sign_off.outgoing": "was signed off by the outgoing side",
    "sign_off.incoming": "was signed off by the incoming side",
    "complete": "is complete",
    "cancel": "was cancelled",
    "reopen": "was reopened: records entered its scope; review and sign-offs are due again",
}


async def _side_recipients(
    session: AsyncSession, handover: Handover, side: str, actor: Actor
) -> list[uuid.UUID]:
    if handover.kind == HandoverKind.ROTATION:
        person = handover.outgoing_user_id if side == "outgoing" else handover.incoming_user_id
        people = [person] if person else []
        if side == "outgoing":
            people += await agency_recipients(session, handover.outgoing_agency_id, None, actor.now)
        return people
    agency = handover.outgoing_agency_id if side == "outgoing" else handover.incoming_agency_id
    return await agency_recipients(session, agency, None, actor.now)


async def handover_step(session: AsyncSession, actor: Actor, handover: Handover, action: str) -> None:
    HANDOVER_EVENTS.labels(event=action).inc()
    sides = _TOLD.get(action)
    if not sides:
        return
    codes = await agency_codes(session)
    recipients: list[uuid.UUID] = []
    for side in sides:
        recipients += await _side_recipients(session, handover, side, actor)
    out, inc = codes.get(handover.outgoing_agency_id, "?"), codes.get(handover.incoming_agency_id, "?")
    await notify(
        session,
        recipients=[r for r in recipients if r != actor.principal.user_id],
        kind=NotificationKind.HANDOVER_EVENT,
        subject_id=handover.id,
        title=f"Handover {handover.reference} ({out} → {inc}) {_WHAT[action]}",
        body=f"by {actor.principal.display_name}; status {handover.status}",
        now=actor.now,
    )


async def consent_requested(
    session: AsyncSession, actor: Actor, handover: Handover, lines: Iterable[HandoverLine]
) -> None:
    """Tell each originator how many of its items wait for its consent, and where."""
    waiting = Counter(line.consent_agency_id for line in lines if line.consent_agency_id is not None)
    if not waiting:
        return
    codes = await agency_codes(session)
    out, inc = codes.get(handover.outgoing_agency_id, "?"), codes.get(handover.incoming_agency_id, "?")
    for agency_id, count in waiting.items():
        position = await designated_position(session, agency_id, handover.theatre_id)
        await notify(
            session,
            recipients=await agency_recipients(session, agency_id, position, actor.now),
            kind=NotificationKind.CONSENT_REQUEST,
            subject_id=handover.id,
            title=f"Consent requested: {count} items your agency originated, in handover {handover.reference}",
            body=f"{out} hands over to {inc}; nothing of yours moves without your answer.",
            now=actor.now,
        )

"""GraphQL: handovers, their lines and consent requests, and every lifecycle step."""

import uuid
from datetime import date
from typing import Annotated

import strawberry
import strawberry.experimental.pydantic as spy

from ocpo_coord.context import Actor
from ocpo_coord.exceptions import InvalidInput, NotFound
from ocpo_coord.gql.common import (
    Connection,
    Edge,
    ErrorTypes,
    PageInfo,
    connection,
    described_field,
    from_model,
    input_model,
)
from ocpo_coord.gql.context import GraphQLInfo, mutate
from ocpo_coord.gql.ids import parse_id
from ocpo_coord.handover import completion, consent, lines, rotation, service
from ocpo_coord.handover.schemas import (
    BulkDecision,
    BulkResult,
    CancelInput,
    ConsentAnswer,
    ConsentRequestPublic,
    HandoverCreate,
    HandoverPublic,
    LineDecision,
    LineFilter,
    LinePublic,
    MemberCasePublic,
    OpenTaskPublic,
    ReviewInput,
    RotationCreate,
    TourEndReport,
    TourPublic,
)
from ocpo_coord.models.enums import (
    ConsentStatus,
    DeclineOutcome,
    Disposition,
    HandoverKind,
    HandoverStatus,
    LineKind,
)


@strawberry.type
class LineCount:
    disposition: Disposition
    count: int


@strawberry.type(name="Handover")
class HandoverType:
    id: strawberry.ID
    reference: str
    kind: HandoverKind
    title: str
    scope: str
    outgoing_agency: str
    incoming_agency: str
    theatre: str
    cut_off: date
    status: HandoverStatus
    created_by: str | None
    reviewed_by: str | None
    review_note: str
    outgoing_signed_by: str | None
    incoming_signed_by: str | None
    cancelled_reason: str
    source_installation: str | None
    version: int
    line_counts: list[LineCount]

    @classmethod
    def of(cls, h: HandoverPublic) -> "HandoverType":
        return cls(
            id=strawberry.ID(str(h.id)),
            reference=h.reference,
            kind=h.kind,
            title=h.title,
            scope=h.scope,
            outgoing_agency=h.outgoing_agency,
            incoming_agency=h.incoming_agency,
            theatre=h.theatre,
            cut_off=h.cut_off,
            status=h.status,
            created_by=h.created_by,
            reviewed_by=h.reviewed_by,
            review_note=h.review_note,
            outgoing_signed_by=h.outgoing_signed_by,
            incoming_signed_by=h.incoming_signed_by,
            cancelled_reason=h.cancelled_reason,
            source_installation=h.source_installation,
            version=h.version,
            line_counts=[LineCount(disposition=Disposition(d), count=n) for d, n in h.line_counts.items()],
        )


@spy.type(model=LinePublic, all_fields=True, name="HandoverLine")
class HandoverLineType:
    id: strawberry.ID


@strawberry.type(description="A handover's lines in inventory order.")
class HandoverLineConnection(Connection[HandoverLineType]):
    pass


def _seq_cursor(after: str | None) -> int | None:
    """Line cursors are line numbers: stable, and they reveal nothing a reader lacks."""
    if after is None:
        return None
    if not after.isdigit() or len(after) > 9:
        raise InvalidInput("is not a cursor of this list", field="after")
    return int(after)


@spy.type(model=ConsentRequestPublic, all_fields=True, name="ConsentRequest")
class ConsentRequestType:
    pass


@spy.type(model=TourPublic, all_fields=True, name="Tour")
class TourType:
    pass


@spy.type(model=OpenTaskPublic, all_fields=True, name="OpenTask")
class OpenTaskType:
    pass


@spy.type(model=MemberCasePublic, all_fields=True, name="MemberCase")
class MemberCaseType:
    pass


@spy.type(model=TourEndReport, all_fields=True, name="TourEndReport")
class TourEndReportType:
    pass


@spy.input(model=RotationCreate, all_fields=True, name="CreateRotationInput")
class CreateRotationInput:
    pass


@spy.input(model=HandoverCreate, all_fields=True, name="CreateHandoverInput")
class CreateHandoverInput:
    pass


@strawberry.input
class HandoverLineFilter:
    kind: LineKind | None = None
    disposition: Disposition | None = None
    consent_status: ConsentStatus | None = None
    case_id: strawberry.ID | None = None


@strawberry.input
class DecideHandoverLinesInput:
    handover_id: strawberry.ID
    filter: HandoverLineFilter | None = None
    line_ids: list[strawberry.ID] | None = None
    disposition: Disposition
    reason: str = ""
    decline_outcome: DeclineOutcome | None = None
    completion_evidence: str = ""


@strawberry.type
class SkippedLines:
    reason: str
    count: int


@strawberry.type
class DecideHandoverLinesPayload:
    decided: int
    skipped: list[SkippedLines]


@strawberry.type
class HandoverPayload:
    handover: HandoverType


@strawberry.type
class ConsentRequestPayload:
    consent_request: ConsentRequestType


HandoverResult = Annotated[HandoverPayload | ErrorTypes, strawberry.union("HandoverResult")]
DecideResult = Annotated[
    DecideHandoverLinesPayload | ErrorTypes, strawberry.union("DecideHandoverLinesResult")
]
ConsentResult = Annotated[ConsentRequestPayload | ErrorTypes, strawberry.union("ConsentRequestResult")]


def _line_filter(given: HandoverLineFilter | None, line_ids: list[strawberry.ID] | None) -> LineFilter:
    f = given or HandoverLineFilter()
    return LineFilter(
        kind=f.kind,
        disposition=f.disposition,
        consent_status=f.consent_status,
        case_id=parse_id(f.case_id, "case") if f.case_id else None,
        line_ids=[parse_id(i, "line") for i in line_ids] if line_ids is not None else None,
    )


def _id(value: strawberry.ID) -> uuid.UUID:
    return parse_id(value, "handover")


@strawberry.type
class HandoverQuery:
    @described_field("Handovers you take part in, giving or receiving, newest first.")
    async def handovers(
        self,
        info: GraphQLInfo,
        first: int = 50,
        after: str | None = None,
        status: HandoverStatus | None = None,
    ) -> Connection[HandoverType]:
        page = await service.page_handovers(
            info.context.session,
            actor=info.context.require_actor(),
            status=status,
            first=first,
            after=after,
        )
        return connection(page, HandoverType.of)

    @described_field("One handover; null if it is not your agency's.")
    async def handover(self, info: GraphQLInfo, id: strawberry.ID) -> HandoverType | None:
        try:
            public = await service.get_handover(
                info.context.session, actor=info.context.require_actor(), handover_id=_id(id)
            )
        except NotFound:
            return None
        return HandoverType.of(public)

    @described_field("A handover's inventory in order; titles only where you may read.")
    async def handover_lines(
        self,
        info: GraphQLInfo,
        handover_id: strawberry.ID,
        filter: HandoverLineFilter | None = None,
        first: int = 100,
        after: str | None = None,
    ) -> HandoverLineConnection:
        found, has_next, total = await lines.page_lines(
            info.context.session,
            actor=info.context.require_actor(),
            handover_id=_id(handover_id),
            filters=_line_filter(filter, None),
            after=_seq_cursor(after),
            first=first,
        )
        edges = [Edge(cursor=str(line.seq), node=HandoverLineType.from_pydantic(line)) for line in found]
        return HandoverLineConnection(
            edges=edges,
            page_info=PageInfo.of([e.cursor for e in edges], has_next_page=has_next),
            count=(total, False),
        )

    @described_field("What a person leaves behind at the end of a tour: open tasks, cases, positions.")
    async def tour_end_report(self, info: GraphQLInfo, login: str) -> TourEndReportType | None:
        try:
            found = await rotation.tour_end_report(
                info.context.session, actor=info.context.require_actor(), login=login
            )
        except NotFound:
            return None
        return TourEndReportType.from_pydantic(found)

    @described_field("Requests for your agency's consent to move material it originated, oldest first.")
    async def consent_requests(
        self,
        info: GraphQLInfo,
        first: int = 50,
        after: str | None = None,
        status: ConsentStatus | None = None,
    ) -> Connection[ConsentRequestType]:
        page = await consent.page_requests(
            info.context.session,
            actor=info.context.require_actor(),
            status=status,
            first=first,
            after=after,
        )
        return connection(page, from_model(ConsentRequestType))


def _payload(public: HandoverPublic) -> HandoverPayload:
    return HandoverPayload(handover=HandoverType.of(public))


def _decided(result: BulkResult) -> DecideHandoverLinesPayload:
    return DecideHandoverLinesPayload(
        decided=result.decided,
        skipped=[SkippedLines(reason=r, count=n) for r, n in sorted(result.skipped.items())],
    )


@strawberry.type
class HandoverMutation:
    @strawberry.mutation
    async def create_handover(self, info: GraphQLInfo, input: CreateHandoverInput) -> HandoverResult:
        async def run(actor: Actor) -> HandoverPayload:
            data = input_model(info, input, HandoverCreate)
            return _payload(await service.create_handover(info.context.session, actor=actor, data=data))

        return await mutate(info, run)

    @strawberry.mutation
    async def build_handover_inventory(self, info: GraphQLInfo, id: strawberry.ID) -> HandoverResult:
        async def run(actor: Actor) -> HandoverPayload:
            return _payload(
                await service.build_inventory(info.context.session, actor=actor, handover_id=_id(id))
            )

        return await mutate(info, run)

    # Decides every selected line that can take the decision; the rest are counted.
    @strawberry.mutation
    async def decide_handover_lines(self, info: GraphQLInfo, input: DecideHandoverLinesInput) -> DecideResult:
        async def run(actor: Actor) -> DecideHandoverLinesPayload:
            data = BulkDecision(
                filter=_line_filter(input.filter, input.line_ids),
                decision=LineDecision(
                    disposition=input.disposition,
                    reason=input.reason,
                    decline_outcome=input.decline_outcome,
                    completion_evidence=input.completion_evidence,
                ),
            )
            result = await service.decide_lines(
                info.context.session, actor=actor, handover_id=_id(input.handover_id), data=data
            )
            return _decided(result)

        return await mutate(info, run)

    @strawberry.mutation
    async def answer_consent_request(
        self, info: GraphQLInfo, line_id: strawberry.ID, grant: bool, note: str = ""
    ) -> ConsentResult:
        async def run(actor: Actor) -> ConsentRequestPayload:
            public = await consent.answer(
                info.context.session,
                actor=actor,
                line_id=parse_id(line_id, "consent request"),
                data=ConsentAnswer(grant=grant, note=note),
            )
            return ConsentRequestPayload(consent_request=ConsentRequestType.from_pydantic(public))

        return await mutate(info, run)

    @strawberry.mutation
    async def create_rotation_handover(self, info: GraphQLInfo, input: CreateRotationInput) -> HandoverResult:
        async def run(actor: Actor) -> HandoverPayload:
            data = input_model(info, input, RotationCreate)
            return _payload(await rotation.create_rotation(info.context.session, actor=actor, data=data))

        return await mutate(info, run)

    @strawberry.mutation
    async def submit_handover(self, info: GraphQLInfo, id: strawberry.ID) -> HandoverResult:
        async def run(actor: Actor) -> HandoverPayload:
            return _payload(await service.submit(info.context.session, actor=actor, handover_id=_id(id)))

        return await mutate(info, run)

    @strawberry.mutation
    async def review_handover(
        self, info: GraphQLInfo, id: strawberry.ID, approve: bool, note: str = ""
    ) -> HandoverResult:
        async def run(actor: Actor) -> HandoverPayload:
            data = ReviewInput(approve=approve, note=note)
            return _payload(
                await service.review(info.context.session, actor=actor, handover_id=_id(id), data=data)
            )

        return await mutate(info, run)

    @strawberry.mutation
    async def sign_off_handover(self, info: GraphQLInfo, id: strawberry.ID) -> HandoverResult:
        async def run(actor: Actor) -> HandoverPayload:
            return _payload(await service.sign_off(info.context.session, actor=actor, handover_id=_id(id)))

        return await mutate(info, run)

    @strawberry.mutation
    async def complete_handover(self, info: GraphQLInfo, id: strawberry.ID) -> HandoverResult:
        async def run(actor: Actor) -> HandoverPayload:
            return _payload(await completion.complete(info.context.session, actor=actor, handover_id=_id(id)))

        return await mutate(info, run)

    @strawberry.mutation
    async def cancel_handover(self, info: GraphQLInfo, id: strawberry.ID, reason: str) -> HandoverResult:
        async def run(actor: Actor) -> HandoverPayload:
            data = CancelInput(reason=reason)
            return _payload(
                await service.cancel(info.context.session, actor=actor, handover_id=_id(id), data=data)
            )

        return await mutate(info, run)

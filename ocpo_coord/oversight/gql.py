"""GraphQL: the audit log, for auditors."""

import strawberry
import strawberry.experimental.pydantic as spy
from strawberry.scalars import JSON

from ocpo_coord.audit import proofs
from ocpo_coord.audit.schemas_log import CheckpointPublic
from ocpo_coord.gql.common import Connection, connection, described_field, from_model, input_model
from ocpo_coord.gql.context import GraphQLInfo
from ocpo_coord.oversight import query
from ocpo_coord.oversight.schemas import AuditEventPublic, AuditFilter


@spy.type(model=AuditEventPublic, all_fields=True, name="AuditEvent")
class AuditEvent:
    before: JSON | None
    after: JSON | None


@spy.type(model=CheckpointPublic, all_fields=True, name="AuditCheckpoint")
class AuditCheckpoint:
    pass


@spy.input(model=AuditFilter, all_fields=True, name="AuditFilter")
class AuditFilterInput:
    pass


@strawberry.type
class AuditQuery:
    @described_field("Audit entries, newest first, as far as you may read what they describe.")
    async def audit_events(
        self,
        info: GraphQLInfo,
        first: int = 50,
        after: str | None = None,
        filter: AuditFilterInput | None = None,
    ) -> Connection[AuditEvent]:
        filters = input_model(info, filter, AuditFilter) if filter else AuditFilter()
        page = await query.page_events(
            info.context.session,
            actor=info.context.require_actor(),
            filters=filters,
            first=first,
            after=after,
        )
        return connection(page, from_model(AuditEvent))

    @described_field(
        "The audit log's latest signed checkpoint (C2SP tlog-checkpoint in a signed note), with the "
        "witnesses' cosignatures: a size and a hash, for any signed-in user."
    )
    async def audit_checkpoint(self, info: GraphQLInfo) -> AuditCheckpoint:
        info.context.require_actor()
        return AuditCheckpoint.from_pydantic(await proofs.latest_checkpoint(info.context.session))

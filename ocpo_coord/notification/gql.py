"""GraphQL: the notification feed."""

import uuid
from typing import Annotated

import strawberry
import strawberry.experimental.pydantic as spy

from ocpo_coord.context import Actor
from ocpo_coord.gql.common import Connection, Edge, ErrorTypes, PageInfo, described_field
from ocpo_coord.gql.context import GraphQLInfo, mutate
from ocpo_coord.models.enums import NotificationKind
from ocpo_coord.notification import service
from ocpo_coord.notification.schemas import MarkReadResult, NotificationFilter, NotificationPublic
from ocpo_coord.visibility.pagination import Cursor


@spy.type(model=NotificationPublic, all_fields=True, name="Notification")
class NotificationType:
    id: strawberry.ID


@strawberry.type
class NotificationConnection(Connection[NotificationType]):
    unread_count: int


@strawberry.type
class NotificationQuery:
    @described_field("What concerns you, newest first: hits for your positions, assignments, requests.")
    async def notifications(
        self,
        info: GraphQLInfo,
        first: int = 20,
        after: str | None = None,
        unread: bool | None = None,
        kind: NotificationKind | None = None,
    ) -> NotificationConnection:
        page = await service.feed(
            info.context.session,
            actor=info.context.require_actor(),
            filters=NotificationFilter(unread=unread, kind=kind),
            first=first,
            after=after,
        )
        edges = [
            Edge(cursor=Cursor(n.created_at, n.id).encode(), node=NotificationType.from_pydantic(n))
            for n in page.items
        ]
        return NotificationConnection(
            edges=edges,
            page_info=PageInfo.of([e.cursor for e in edges], has_next_page=page.next_cursor is not None),
            count=(page.total_count, False),
            unread_count=page.unread_count,
        )


@spy.type(model=MarkReadResult, all_fields=True, name="MarkReadPayload")
class MarkReadPayload:
    pass


MarkReadResultType = Annotated[MarkReadPayload | ErrorTypes, strawberry.union("MarkReadResult")]


@strawberry.type
class NotificationMutation:
    @strawberry.mutation
    async def mark_notifications_read(
        self, info: GraphQLInfo, ids: list[strawberry.ID] | None = None
    ) -> MarkReadResultType:
        """Mark your notifications read (all of them when no ids are given)."""

        async def run(actor: Actor) -> MarkReadPayload:
            parsed = []
            for value in ids or []:
                try:
                    parsed.append(uuid.UUID(str(value)))
                except ValueError:
                    continue
            result = await service.mark_read(info.context.session, actor=actor, ids=parsed)
            return MarkReadPayload.from_pydantic(result)

        return await mutate(info, run)

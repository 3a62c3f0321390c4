"""GraphQL: me, agencies, theatres."""

from collections.abc import Sequence

import strawberry
import strawberry.experimental.pydantic as spy
from sqlmodel.ext.asyncio.session import AsyncSession
from strawberry.dataloader import DataLoader

from ocpo_coord.directory import service
from ocpo_coord.directory.schemas import AgencyPublic, MePublic, TheatrePublic
from ocpo_coord.gql.common import described_field
from ocpo_coord.gql.context import GraphQLInfo
from ocpo_coord.gql.loaders import LoaderKey


@spy.type(model=AgencyPublic, all_fields=True, name="Agency")
class Agency:
    id: strawberry.ID


async def _agencies_by_code(session: AsyncSession, codes: Sequence[str]) -> list[AgencyPublic | None]:
    agencies = {a.code: a for a in await service.list_agencies(session)}
    return [agencies.get(code) for code in codes]


# Agencies by code, for the fields that name one.
AGENCIES = LoaderKey(lambda loaders: DataLoader(lambda codes: _agencies_by_code(loaders.session, codes)))


@spy.type(model=TheatrePublic, all_fields=True, name="Theatre")
class Theatre:
    id: strawberry.ID


@spy.type(model=MePublic, all_fields=True, name="Me")
class Me:
    id: strawberry.ID


@strawberry.type
class DirectoryQuery:
    @described_field("The signed-in user.")
    async def me(self, info: GraphQLInfo) -> Me:
        return Me.from_pydantic(service.me(info.context.require_actor().principal))

    @described_field("Every agency of the installation (directory data).")
    async def agencies(self, info: GraphQLInfo) -> list[Agency]:
        info.context.require_actor()
        return [Agency.from_pydantic(a) for a in await service.list_agencies(info.context.session)]

    @strawberry.field
    async def theatres(self, info: GraphQLInfo) -> list[Theatre]:
        info.context.require_actor()
        return [Theatre.from_pydantic(t) for t in await service.list_theatres(info.context.session)]

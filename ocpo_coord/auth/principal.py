"""The authenticated caller, with everything the visibility rule needs about them."""

import uuid
from dataclasses import dataclass, field

from sqlalchemy import literal, union_all
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.exceptions import Unauthenticated
from ocpo_coord.models import Agency, AgencyTheatre, SharingGroupMember, User
from ocpo_coord.models.enums import Classification, Role


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: uuid.UUID
    login: str
    display_name: str
    agency_id: uuid.UUID | None
    agency_code: str | None
    host_nation: bool
    clearance: Classification
    roles: frozenset[Role]
    theatre_ids: frozenset[uuid.UUID] = field(default_factory=frozenset)
    sharing_group_ids: frozenset[uuid.UUID] = field(default_factory=frozenset)

    def has_role(self, *roles: Role) -> bool:
        return any(role in self.roles for role in roles)

    @property
    def reads_agency_data(self) -> bool:
        """Installation administrators operate the server and read no agency's data."""
        return self.agency_id is not None and Role.INSTALLATION_ADMIN not in self.roles


async def load_principal(session: AsyncSession, login: str) -> Principal:
    # Two round trips on every request instead of four: the account with its agency,
    # then the agency's theatres and sharing groups together.
    found = (
        await session.exec(
            select(User, Agency)
            .outerjoin(Agency, col(Agency.id) == col(User.agency_id))
            .where(User.login == login)
        )
    ).one_or_none()
    user, agency = found if found is not None else (None, None)
    if user is None or not user.active:
        # Same message for unknown and inactive accounts: nothing to learn by probing.
        raise Unauthenticated("no active account for this token")
    theatre_ids: frozenset[uuid.UUID] = frozenset()
    group_ids: frozenset[uuid.UUID] = frozenset()
    if user.agency_id is not None:
        memberships = union_all(
            select(literal("theatre"), col(AgencyTheatre.theatre_id)).where(
                AgencyTheatre.agency_id == user.agency_id
            ),
            select(literal("group"), col(SharingGroupMember.sharing_group_id)).where(
                SharingGroupMember.agency_id == user.agency_id
            ),
        )
        both = memberships.subquery()
        rows = (await session.exec(select(both.c[0], both.c[1]))).all()
        theatre_ids = frozenset(member for kind, member in rows if kind == "theatre")
        group_ids = frozenset(member for kind, member in rows if kind == "group")
    roles = frozenset(Role(r) for r in user.roles if r in Role.__members__.values())
    return Principal(
        user_id=user.id,
        login=user.login,
        display_name=user.display_name,
        agency_id=user.agency_id,
        agency_code=agency.code if agency else None,
        host_nation=agency.host_nation if agency else False,
        clearance=Classification(user.clearance),
        roles=roles,
        theatre_ids=theatre_ids,
        sharing_group_ids=group_ids,
    )

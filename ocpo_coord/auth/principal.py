"""The authenticated caller, with everything the visibility rule needs about them."""

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.db.sql_json import json_rows, parsed_rows
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
    # The sharing agreements naming the agency that were in force at ``agreements_at``, as
    # (grantor agency, ceiling), when they came with the caller's own statement: the
    # reader's scopes at that instant then cost no statement. What the request knows of
    # the principal, not who the principal is, so equality leaves them out.
    agreements: tuple[tuple[uuid.UUID, int], ...] | None = field(default=None, compare=False)
    agreements_at: datetime | None = field(default=None, compare=False)

    def has_role(self, *roles: Role) -> bool:
        return any(role in self.roles for role in roles)

    @property
    def reads_agency_data(self) -> bool:
        """Installation administrators operate the server and read no agency's data."""
        return self.agency_id is not None and Role.INSTALLATION_ADMIN not in self.roles


def _ids_of(column: Any, owner: Any) -> Any:
    """The ids in ``column`` of the rows whose agency is the account's, as one
    ``json_rows`` column: one round trip for it all."""
    return select(json_rows(column)).where(owner == col(User.agency_id)).scalar_subquery()


def _parsed(ids: str | None) -> frozenset[uuid.UUID]:
    return frozenset(uuid.UUID(value) for (value,) in parsed_rows(ids))


def principal_query(login: str | ColumnElement[str], *extra: Any) -> Any:
    """The account, its agency, and the agency's theatres and sharing groups, as one
    statement; ``extra`` columns ride along (a request adds what it will need next)."""
    return (
        select(
            User,
            Agency,
            _ids_of(AgencyTheatre.theatre_id, col(AgencyTheatre.agency_id)),
            _ids_of(SharingGroupMember.sharing_group_id, col(SharingGroupMember.agency_id)),
            *extra,
        )
        .outerjoin(Agency, col(Agency.id) == col(User.agency_id))
        .where(User.login == login)
    )


def principal_from(found: Any) -> Principal:
    """The principal of a ``principal_query`` row (None: no such account)."""
    user, agency, theatres, groups = found[:4] if found is not None else (None, None, None, None)
    if user is None or not user.active:
        # Same message for unknown and inactive accounts: nothing to learn by probing.
        raise Unauthenticated("no active account for this token")
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
        theatre_ids=_parsed(theatres),
        sharing_group_ids=_parsed(groups),
    )


async def load_principal(session: AsyncSession, login: str) -> Principal:
    # Every request loads its caller, so all of it comes back in one round trip.
    return principal_from((await session.exec(principal_query(login))).one_or_none())

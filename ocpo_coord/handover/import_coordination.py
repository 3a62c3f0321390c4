"""The positions and responsibilities a package carries, brought into this installation.

Positions outlive the people who hold them, so an installation of the same theatre
usually knows a transferred position already (same title, same theatre), under the
outgoing agency: it changes hands here as it did at the source, and the tours of its
outgoing holders end at the cut-off. A position this installation does not know is
created. Responsibilities are matched on what they say (theatre, region, area, agency,
role, start): a known one takes the package's end date, an unknown one is added. Tasks
then find their assignee position by title among them.
"""

import uuid
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.audit.service import record_event
from ocpo_coord.context import Actor
from ocpo_coord.db.queries import among
from ocpo_coord.handover.package import InvalidPackage, read_json
from ocpo_coord.models import Position, Responsibility, Tour
from ocpo_coord.models.enums import ActivityArea, ResponsibilityRole

M = TypeVar("M", bound=BaseModel)


class _PositionEntry(BaseModel):
    model_config = ConfigDict(extra="ignore")

    title: str = Field(min_length=1, max_length=200)
    agency: str
    theatre: str | None = None
    theatre_id: str | None = None
    deconfliction_contact: bool = False


class _ResponsibilityEntry(BaseModel):
    model_config = ConfigDict(extra="ignore")

    theatre: str
    region: str = Field(default="", max_length=100)
    activity_area: ActivityArea
    agency: str
    role: ResponsibilityRole
    valid_from: date
    valid_until: date | None = None
    mandate_basis: str = Field(default="", max_length=300)


def _entries(root: Path, name: str, model: type[M]) -> list[tuple[str, M]]:
    path = root / name
    if not path.is_file():
        return []
    try:
        raw = read_json(path)
    except ValueError as exc:
        raise InvalidPackage(f"{name}: not JSON ({exc})", field="package") from exc
    if not isinstance(raw, list):
        raise InvalidPackage(f"{name}: not a list", field="package")
    found = []
    for number, item in enumerate(raw, start=1):
        where = f"{name} item {number}"
        try:
            found.append((where, model.model_validate(item)))
        except ValidationError as exc:
            problem = exc.errors()[0]
            place = ".".join(str(p) for p in problem["loc"])
            raise InvalidPackage(f"{where}: {place}: {problem['msg']}", field="package") from exc
    return found


def check_coordination(root: Path) -> None:
    """The positions and responsibilities files as the import reads them."""
    _entries(root, "positions.json", _PositionEntry)
    _entries(root, "responsibilities.json", _ResponsibilityEntry)


class CoordinationImport:
    """Brings positions and responsibilities in; then names positions for tasks."""

    def __init__(
        self,
        session: AsyncSession,
        actor: Actor,
        *,
        agencies: dict[str, uuid.UUID],
        theatres: dict[str, uuid.UUID],
        theatre_id: uuid.UUID,
        outgoing_id: uuid.UUID,
        incoming_id: uuid.UUID,
        cut_off: date,
        handover_id: uuid.UUID,
    ) -> None:
        self.session = session
        self.actor = actor
        self.agencies = agencies
        self.theatres = theatres
        self.theatre_id = theatre_id
        self.outgoing_id = outgoing_id
        self.incoming_id = incoming_id
        self.cut_off = cut_off
        self.handover_id = handover_id
        # Positions by (title, agency) once the package's are in.
        self.positions: dict[tuple[str, uuid.UUID], uuid.UUID] = {}
        self.moved: dict[str, uuid.UUID] = {}
        self.unique: dict[str, uuid.UUID] = {}

    def _agency(self, code: str, where: str) -> uuid.UUID:
        if code not in self.agencies:
            raise InvalidPackage(
                f"{where}: agency {code} does not exist in this installation", field="package"
            )
        return self.agencies[code]

    def _theatre(self, code: str | None, where: str) -> uuid.UUID:
        if code is None:
            return self.theatre_id
        if code.upper() not in self.theatres:
            raise InvalidPackage(
                f"{where}: theatre {code} does not exist in this installation", field="package"
            )
        return self.theatres[code.upper()]

    async def run(self, root: Path) -> dict[str, int]:
        positions = _entries(root, "positions.json", _PositionEntry)
        responsibilities = _entries(root, "responsibilities.json", _ResponsibilityEntry)
        counts = {"positions": 0, "positions_created": 0, "responsibilities": 0}
        for where, entry in positions:
            created = await self._position(where, entry)
            counts["positions"] += 1
            counts["positions_created"] += int(created)
        for where, duty in responsibilities:
            await self._responsibility(where, duty)
            counts["responsibilities"] += 1
        await self.session.flush()
        rows = (await self.session.exec(select(Position.id, Position.title, Position.agency_id))).all()
        self.positions = {(title, agency): pid for pid, title, agency in rows}
        titles = Counter(title for _, title, _ in rows)
        self.unique = {title: pid for pid, title, _ in rows if titles[title] == 1}
        if positions or responsibilities:
            await record_event(
                self.session,
                actor=self.actor,
                action="handover.import_coordination",
                record_kind="handover",
                record_id=self.handover_id,
                after=counts,
                detail="positions and responsibilities of an imported handover",
            )
        return counts

    async def _position(self, where: str, entry: _PositionEntry) -> bool:
        agency = self._agency(entry.agency, where)
        theatre = (
            self._theatre(entry.theatre, where) if entry.theatre or entry.theatre_id is not None else None
        )
        statement = select(Position).where(
            Position.title == entry.title,
            among(self.session, col(Position.agency_id), [self.outgoing_id, self.incoming_id, agency]),
            col(Position.theatre_id).is_(None) if theatre is None else col(Position.theatre_id) == theatre,
        )
        position = (await self.session.exec(statement.order_by(col(Position.created_at)))).first()
        created = position is None
        if position is None:
            position = Position(
                agency_id=agency,
                theatre_id=theatre,
                title=entry.title,
                deconfliction_contact=entry.deconfliction_contact,
                created_at=self.actor.now,
            )
            self.session.add(position)
        elif position.agency_id != agency:
            position.agency_id = agency
            tours = (
                await self.session.exec(
                    select(Tour).where(
                        Tour.position_id == position.id,
                        col(Tour.start_date) <= self.cut_off,
                        (col(Tour.end_date).is_(None)) | (col(Tour.end_date) > self.cut_off),
                    )
                )
            ).all()
            for tour in tours:
                tour.end_date = self.cut_off
        await self.session.flush()
        self.moved[entry.title] = position.id
        return created

    async def _responsibility(self, where: str, entry: _ResponsibilityEntry) -> None:
        agency = self._agency(entry.agency, where)
        theatre = self._theatre(entry.theatre, where)
        if entry.valid_until is not None and entry.valid_until < entry.valid_from:
            raise InvalidPackage(f"{where}: valid_until is before valid_from", field="package")
        statement = select(Responsibility).where(
            Responsibility.theatre_id == theatre,
            Responsibility.region == entry.region,
            Responsibility.activity_area == entry.activity_area,
            Responsibility.agency_id == agency,
            Responsibility.role == entry.role,
            Responsibility.valid_from == entry.valid_from,
        )
        known = (await self.session.exec(statement)).first()
        if known is not None:
            known.valid_until = entry.valid_until
            return
        self.session.add(
            Responsibility(
                theatre_id=theatre,
                region=entry.region,
                activity_area=entry.activity_area,
                agency_id=agency,
                role=entry.role,
                valid_from=entry.valid_from,
                valid_until=entry.valid_until,
                mandate_basis=entry.mandate_basis,
                created_at=self.actor.now,
            )
        )

    def assignee_position(self, title: Any, lead_agency: uuid.UUID) -> uuid.UUID | None:
        """A task's position: one that moved with the package, else the lead agency's, else
        the one position of that title here (a supporting agency's liaison officer)."""
        if not isinstance(title, str) or not title:
            return None
        return self.moved.get(title) or self.positions.get((title, lead_agency)) or self.unique.get(title)

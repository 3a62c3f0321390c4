"""Handling markings as the APIs accept and show them."""

import uuid
from datetime import datetime
from typing import Annotated, Any, ClassVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)

from ocpo_coord.models.enums import Classification, Tlp


def _parse_classification(value: Any) -> Classification:
    if isinstance(value, Classification):
        return value
    if isinstance(value, str) and value.upper() in Classification.__members__:
        return Classification[value.upper()]
    raise ValueError("must be one of " + ", ".join(Classification.__members__))


ClassificationName = Annotated[
    Classification,
    BeforeValidator(_parse_classification),
    PlainSerializer(lambda c: Classification(c).name, return_type=str),
    WithJsonSchema({"type": "string", "enum": list(Classification.__members__)}),
]

AgencyCode = Annotated[str, Field(min_length=2, max_length=32, pattern=r"^[A-Za-z0-9_.+-]+$")]
Login = Annotated[str, Field(min_length=1, max_length=100)]


class MarkingsInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    classification: ClassificationName = Classification.RESTRICTED
    tlp: Tlp = Tlp.AMBER
    releasable_to: list[AgencyCode] = Field(default_factory=list, max_length=100)
    sharing_group_ids: list[uuid.UUID] = Field(default_factory=list, max_length=50)
    named_readers: list[Login] = Field(
        default_factory=list, max_length=100, description="Named individuals (TLP:RED)."
    )
    orcon: bool = False
    nohost: bool = False


class MarkingsPublic(BaseModel):
    originator_agency: str
    custodian_agency: str
    owner_agency: str
    classification: ClassificationName
    tlp: Tlp
    releasable_to: list[str]
    sharing_group_ids: list[uuid.UUID]
    orcon: bool
    nohost: bool
    restricted: bool
    tear_line_of_id: uuid.UUID | None
    provenance: str


def _require_zone(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("must include a time zone, e.g. 2008-04-11T09:30:00Z")
    return value


ZonedDatetime = Annotated[datetime, AfterValidator(_require_zone)]


class UpdateModel(BaseModel):
    """A partial update: fields left out keep their value.

    ``null`` is accepted only for the fields named in ``clearable``; for any other field
    it would mean "erase a required value", which is refused by name.
    """

    model_config = ConfigDict(extra="forbid")

    clearable: ClassVar[frozenset[str]] = frozenset({"expected_version", "markings"})

    @field_validator("*", mode="after")
    @classmethod
    def _refuse_null(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.field_name not in cls.clearable:
            raise ValueError("may not be null; leave the field out to keep its value")
        return value

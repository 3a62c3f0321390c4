"""Handling markings as the APIs accept and show them."""

import re
import uuid
from datetime import date, datetime
from typing import Annotated, Any, ClassVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    PlainSerializer,
    StrictBool,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)
from pydantic.config import JsonDict
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

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

# The default as the description shows it: by name, as the string enum has it (the
# member itself would be written as its number).
NAMED_DEFAULT: JsonDict = {"default": Classification.RESTRICTED.name}

AgencyCode = Annotated[str, Field(min_length=2, max_length=32, pattern=r"^[A-Za-z0-9_.+-]+$")]
Login = Annotated[str, Field(min_length=1, max_length=100)]


class MarkingsInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    classification: ClassificationName = Field(
        default=Classification.RESTRICTED, json_schema_extra=NAMED_DEFAULT
    )
    tlp: Tlp = Tlp.AMBER
    releasable_to: list[AgencyCode] = Field(default_factory=list, max_length=100)
    sharing_group_ids: list[uuid.UUID] = Field(default_factory=list, max_length=50)
    named_readers: list[Login] = Field(
        default_factory=list, max_length=100, description="Named individuals (TLP:RED)."
    )
    orcon: StrictBool = False
    nohost: StrictBool = False


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


_NUMBER = re.compile(r"\s*[+-]?\d+(\.\d*)?\s*")


def _date_time_text(value: Any) -> Any:
    """A date-time is written as one (RFC 3339), as the description says: never a number,
    which pydantic would otherwise read as seconds since 1970."""
    if isinstance(value, int | float) or (isinstance(value, str) and _NUMBER.fullmatch(value)):
        raise ValueError("must be a date-time, e.g. 2008-04-11T09:30:00Z")
    return value


def _json_integer(value: Any) -> Any:
    """An integer as JSON Schema has it: a number without a fraction (``3.0`` too), never
    ``true`` or ``"3"``, which pydantic would otherwise take."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be an integer")
    return value


JsonInt = Annotated[int, BeforeValidator(_json_integer)]
# Bounds inside the type: on ``JsonInt | None`` a Field's bound would reach validation
# but not the description.
Version = Annotated[int, Field(ge=1), BeforeValidator(_json_integer)]
ByteCount = Annotated[int, Field(ge=0), BeforeValidator(_json_integer)]
DateTimeText = Annotated[datetime, BeforeValidator(_date_time_text)]
DateText = Annotated[date, BeforeValidator(_date_time_text)]
ZonedDatetime = Annotated[DateTimeText, AfterValidator(_require_zone)]


class UpdateModel(BaseModel):
    """A partial update: fields left out keep their value.

    ``null`` is accepted only for the fields named in ``clearable``; for any other field
    it would mean "erase a required value", which is refused by name.
    """

    model_config = ConfigDict(extra="forbid")

    clearable: ClassVar[frozenset[str]] = frozenset({"expected_version", "markings"})

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        """The description says what the model accepts: ``null`` only where it is clearable."""
        schema = handler.resolve_ref_schema(handler(core_schema))
        for name, prop in schema.get("properties", {}).items():
            if name in cls.clearable:
                continue
            variants = [v for v in prop.pop("anyOf", []) if v.get("type") != "null"]
            if len(variants) == 1:
                prop.update(variants[0])
            elif variants:
                prop["anyOf"] = variants
            if prop.get("default", ...) is None:
                del prop["default"]
        return schema

    @field_validator("*", mode="after")
    @classmethod
    def _refuse_null(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.field_name not in cls.clearable:
            raise ValueError("may not be null; leave the field out to keep its value")
        return value

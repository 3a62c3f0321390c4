"""Entity payloads."""

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from ocpo_coord.models.enums import EntityKind, SelectorKind
from ocpo_coord.records.schemas import MarkingsInput, MarkingsPublic, UpdateModel, Version


class SelectorInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: SelectorKind
    value: str = Field(min_length=1, max_length=300)


class EntityLinkInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    record_id: uuid.UUID
    role: str = Field(default="subject", min_length=1, max_length=64)


class EntityCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    entity_kind: EntityKind
    label: str = Field(min_length=1, max_length=300)
    attributes: dict[str, str] = Field(default_factory=dict, max_length=50)
    selectors: list[SelectorInput] = Field(default_factory=list, max_length=50)
    links: list[EntityLinkInput] = Field(default_factory=list, max_length=50)
    theatre: str | None = Field(default=None, max_length=32)
    markings: MarkingsInput = Field(default_factory=MarkingsInput)


class EntityUpdate(UpdateModel):
    expected_version: Version | None = None
    label: str | None = Field(default=None, min_length=1, max_length=300)
    attributes: dict[str, str] | None = Field(default=None, max_length=50)
    selectors: list[SelectorInput] | None = Field(default=None, max_length=50)
    links: list[EntityLinkInput] | None = Field(default=None, max_length=50)
    markings: MarkingsInput | None = None


class EntityFilter(BaseModel):
    model_config = ConfigDict(extra="forbid")

    entity_kind: EntityKind | None = None
    selector_kind: SelectorKind | None = None
    selector: str | None = Field(
        default=None, min_length=1, max_length=300, description="Matched after normalisation."
    )
    text: str | None = Field(default=None, min_length=1, max_length=200)


class SelectorPublic(BaseModel):
    kind: SelectorKind
    value: str
    normalized: str


class EntityLinkPublic(BaseModel):
    record_id: uuid.UUID
    record_kind: str
    role: str


class EntityPublic(BaseModel):
    id: uuid.UUID
    entity_kind: EntityKind
    label: str
    attributes: dict[str, str]
    selectors: list[SelectorPublic]
    links: list[EntityLinkPublic] = Field(description="Linked records the reader may read.")
    created_at: datetime
    updated_at: datetime
    version: int
    markings: MarkingsPublic


# A seized phone's contact list, a spreadsheet of plates: thousands, not the fifty an
# entity's own payload carries.
MAX_BULK_SELECTORS = 10_000


class SelectorBulkCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    selectors: list[SelectorInput] = Field(min_length=1, max_length=MAX_BULK_SELECTORS)


class SelectorBulkResult(BaseModel):
    entity_id: uuid.UUID
    received: int = Field(description="Selectors in the request.")
    added: int = Field(description="Selectors the entity did not hold yet (after normalisation).")
    already_present: int = Field(description="Selectors the entity held already, or repeated in the request.")
    hits_raised: int = Field(description="Deconfliction hit sides raised by the selectors added.")

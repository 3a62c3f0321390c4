"""STIX exchange payloads: what to export, and what an import did."""

import uuid

from pydantic import BaseModel, ConfigDict, Field

from ocpo_coord.intel.schemas import IntelItemFilter

MAX_EXPORT = 1000


class StixExportFilter(IntelItemFilter):
    """Which intelligence to export: one item, a case's, or a filtered list (newest first)."""

    model_config = ConfigDict(extra="forbid")

    intel_id: uuid.UUID | None = Field(default=None, description="Only this intelligence item.")
    limit: int = Field(default=200, ge=1, le=MAX_EXPORT, description="At most this many items.")


class ImportedItem(BaseModel):
    stix_id: str
    id: uuid.UUID
    title: str


class StixImportResult(BaseModel):
    source: str = Field(description="The system the bundle came from, as recorded in provenance.")
    created: list[ImportedItem]
    already_imported: list[ImportedItem] = Field(
        description="Objects your agency imported before at this version (or, from an export of "
        "this installation, records you read here already); nothing was created or changed for them."
    )
    updated: list[ImportedItem] = Field(
        default_factory=list,
        description="Objects imported before whose `modified` is later now: their items were updated "
        "(text, date and grading; markings are kept).",
    )

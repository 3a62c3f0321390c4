"""TAXII 2.1 resources (OASIS TAXII 2.1, section 4-5), as this server answers them."""

from typing import Any

from pydantic import BaseModel, Field

TAXII_MEDIA_TYPE = "application/taxii+json;version=2.1"
STIX_MEDIA_TYPE = "application/stix+json;version=2.1"
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


class Discovery(BaseModel):
    title: str
    description: str
    default: str
    api_roots: list[str]


class ApiRoot(BaseModel):
    title: str
    description: str
    versions: list[str]
    max_content_length: int


class Collection(BaseModel):
    id: str
    title: str
    description: str
    can_read: bool
    can_write: bool
    media_types: list[str]


class Collections(BaseModel):
    collections: list[Collection] = Field(default_factory=list)


class Envelope(BaseModel):
    more: bool
    next: str | None = None
    objects: list[dict[str, Any]] = Field(default_factory=list)


class ManifestRecord(BaseModel):
    id: str
    date_added: str
    version: str
    media_type: str


class Manifest(BaseModel):
    more: bool
    next: str | None = None
    objects: list[ManifestRecord] = Field(default_factory=list)


class Versions(BaseModel):
    more: bool
    versions: list[str] = Field(default_factory=list)


class StatusDetail(BaseModel):
    id: str
    version: str
    message: str | None = None


class Status(BaseModel):
    id: str
    status: str
    request_timestamp: str
    total_count: int
    success_count: int
    successes: list[StatusDetail]
    failure_count: int
    failures: list[StatusDetail]
    pending_count: int
    pendings: list[StatusDetail] = Field(default_factory=list)


class TaxiiError(BaseModel):
    title: str
    description: str | None = None
    http_status: str


class ObjectFilter(BaseModel):
    """The filters of a request for objects, a manifest or versions (section 3.5)."""

    added_after: str | None = None
    limit: int = DEFAULT_LIMIT
    next: str | None = None
    ids: list[str] = Field(default_factory=list)
    types: list[str] = Field(default_factory=list)
    versions: list[str] = Field(default_factory=list)
    spec_versions: list[str] = Field(default_factory=list)


class Page(BaseModel):
    """One page of objects (or their manifest) and what the response headers say of it."""

    more: bool
    next: str | None
    objects: list[dict[str, Any]]
    manifest: list[ManifestRecord]
    first_added: str | None
    last_added: str | None

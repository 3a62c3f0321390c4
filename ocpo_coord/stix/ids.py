"""Stable STIX identifiers and this product's own extension definition."""

import hashlib
import uuid

# Fixed once: the extension that carries grading, handling markings and provenance.
OCPO_EXTENSION = "extension-definition--2f0c7d1e-8b6a-4c3e-9d51-7a4e0b9c6f12"
# STIX allows the schema as text; there is no published URL to point at.
OCPO_EXTENSION_SCHEMA = (
    "Property extension. On every object: record_id, installation, classification "
    "(UNCLASSIFIED|RESTRICTED|CONFIDENTIAL|SECRET), tlp (TLP 2.0 level), orcon, nohost, restricted, "
    "releasable_to (agency codes), originator_agency, custodian_agency, owner_agency, theatre, "
    "provenance. On reports: grading (e.g. B2), source_reliability (A-F), information_credibility "
    "(1-6), source_description, information_date. On entities: entity_kind, attributes, selectors "
    "[{kind, value}]. On groupings: reference, crime_types, status, judicial_stage, priority, "
    "lead_agency. On agency identities: agency_code."
)


def stable_uuid(seed: str) -> uuid.UUID:
    """A UUID in version-4 form derived from ``seed``.

    STIX asks for UUIDv4 identifiers; deriving them from a seed keeps an agency's
    identity, a statement marking or an imported item at one id on every export and
    import, so consumers deduplicate and a re-import is recognised.
    """
    return uuid.UUID(bytes=hashlib.sha256(seed.encode()).digest()[:16], version=4)


def stable_id(stix_type: str, seed: str) -> str:
    return f"{stix_type}--{stable_uuid(f'{stix_type}:{seed}')}"


def record_stix_id(stix_type: str, record_id: uuid.UUID) -> str:
    """A record keeps its own (version 4) id inside STIX: the round trip can find it again."""
    return f"{stix_type}--{record_id}"


def agency_identity_id(code: str) -> str:
    # From the code, not the row id: the same agency has the same identity in every
    # installation, which is what lets an import recognise the originator.
    return stable_id("identity", f"agency:{code.upper()}")

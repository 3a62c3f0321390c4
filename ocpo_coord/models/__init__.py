"""All table models, imported here so that alembic sees the whole metadata."""

from ocpo_coord.models.access import AccessRequest
from ocpo_coord.models.agency import (
    Agency,
    AgencyTheatre,
    SharingAgreement,
    SharingGroup,
    SharingGroupMember,
    Theatre,
)
from ocpo_coord.models.audit import (
    AuditCheckpoint,
    AuditCosignature,
    AuditEvent,
    AuditLogEntry,
    AuditPending,
    AuditTreeNode,
    AuditWitness,
)
from ocpo_coord.models.case import Case, CaseAgency, CaseCrimeType, CaseMember
from ocpo_coord.models.coordination import PlannedOperation, Responsibility
from ocpo_coord.models.deconfliction import DeconflictionHit, Notification, ResponsibilityTransfer
from ocpo_coord.models.entity import Entity, RecordEntity, Selector
from ocpo_coord.models.evidence import CustodyEvent, Evidence
from ocpo_coord.models.handover import (
    ChecklistTemplateItem,
    Handover,
    HandoverLine,
    ImportedRecord,
    Installation,
)
from ocpo_coord.models.handover_trust import (
    HandoverImportCheckpoint,
    HandoverImportProof,
    TrustedInstallation,
)
from ocpo_coord.models.idempotency import IdempotencyRecord
from ocpo_coord.models.intel import IntelCase, IntelItem, StixImport
from ocpo_coord.models.note import Note
from ocpo_coord.models.reach import RecordReach
from ocpo_coord.models.record import Record, RecordGrant, RecordRelease
from ocpo_coord.models.task import Task, TaskDependency, TaskSupportingAgency
from ocpo_coord.models.taxii import TaxiiStatus
from ocpo_coord.models.user import Position, Tour, User

__all__ = [
    "AccessRequest",
    "Agency",
    "AgencyTheatre",
    "AuditCheckpoint",
    "AuditCosignature",
    "AuditEvent",
    "AuditLogEntry",
    "AuditPending",
    "AuditTreeNode",
    "AuditWitness",
    "Case",
    "CaseAgency",
    "CaseCrimeType",
    "CaseMember",
    "ChecklistTemplateItem",
    "CustodyEvent",
    "DeconflictionHit",
    "Entity",
    "Evidence",
    "Handover",
    "HandoverImportCheckpoint",
    "HandoverImportProof",
    "HandoverLine",
    "IdempotencyRecord",
    "ImportedRecord",
    "Installation",
    "IntelCase",
    "IntelItem",
    "Note",
    "Notification",
    "PlannedOperation",
    "Position",
    "Record",
    "RecordEntity",
    "RecordGrant",
    "RecordReach",
    "RecordRelease",
    "Responsibility",
    "ResponsibilityTransfer",
    "Selector",
    "SharingAgreement",
    "SharingGroup",
    "SharingGroupMember",
    "StixImport",
    "Task",
    "TaskDependency",
    "TaskSupportingAgency",
    "TaxiiStatus",
    "Theatre",
    "Tour",
    "TrustedInstallation",
    "User",
]

"""Vocabularies of the domain. Stored as text, except classification, which is ordered."""

from enum import IntEnum, StrEnum


class AgencyKind(StrEnum):
    MISSION = "mission"
    PARTNER = "partner"
    HOST_NATION = "host_nation"


class ParentOrganisation(StrEnum):
    UN = "UN"
    EU = "EU"
    NATO = "NATO"
    OSCE = "OSCE"
    AU = "AU"
    ECOWAS = "ECOWAS"
    NONE = "NONE"


class Role(StrEnum):
    ANALYST = "analyst"
    INVESTIGATOR = "investigator"
    COORDINATOR = "coordinator"
    HANDOVER_AUDITOR = "handover_auditor"
    AGENCY_ADMIN = "agency_admin"
    INSTALLATION_ADMIN = "installation_admin"


class Classification(IntEnum):
    """Ordered so that 'nothing above clearance' is one integer comparison in SQL."""

    UNCLASSIFIED = 0
    RESTRICTED = 1
    CONFIDENTIAL = 2
    SECRET = 3


class Tlp(StrEnum):
    """TLP 2.0."""

    CLEAR = "CLEAR"
    GREEN = "GREEN"
    AMBER = "AMBER"
    AMBER_STRICT = "AMBER+STRICT"
    RED = "RED"


class RecordKind(StrEnum):
    CASE = "case"
    INTEL_ITEM = "intel_item"
    EVIDENCE = "evidence"
    TASK = "task"
    NOTE = "note"
    ENTITY = "entity"
    PLANNED_OPERATION = "planned_operation"


class CrimeType(StrEnum):
    DRUG_TRAFFICKING = "drug_trafficking"
    ARMS_TRAFFICKING = "arms_trafficking"
    HUMAN_TRAFFICKING = "human_trafficking"
    MIGRANT_SMUGGLING = "migrant_smuggling"
    SMUGGLING = "smuggling"
    ILLICIT_NATURAL_RESOURCES = "illicit_natural_resources"
    CORRUPTION = "corruption"
    FINANCIAL_CRIME = "financial_crime"
    MONEY_LAUNDERING = "money_laundering"
    KIDNAPPING = "kidnapping"
    GANG_VIOLENCE = "gang_violence"
    CULTURAL_HERITAGE = "cultural_heritage"
    EXTORTION = "extortion"


class CaseStatus(StrEnum):
    OPEN = "open"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    CLOSED = "closed"


class JudicialStage(StrEnum):
    INVESTIGATION = "investigation"
    PROSECUTION = "prosecution"
    ADJUDICATION = "adjudication"
    ENFORCEMENT = "enforcement"


class Priority(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class CaseAgencyRole(StrEnum):
    PARTICIPANT = "participant"
    OBSERVER = "observer"


class EntityKind(StrEnum):
    PERSON = "person"
    ORGANISATION = "organisation"
    LOCATION = "location"
    VEHICLE = "vehicle"
    VESSEL = "vessel"
    PHONE = "phone"
    COMPANY = "company"
    ACCOUNT = "account"


class SelectorKind(StrEnum):
    NAME = "name"
    PHONE = "phone"
    VEHICLE_PLATE = "vehicle_plate"
    VESSEL_IMO = "vessel_imo"
    VESSEL_MMSI = "vessel_mmsi"
    COMPANY_NUMBER = "company_number"
    ACCOUNT_NUMBER = "account_number"
    EMAIL = "email"
    DOCUMENT_NUMBER = "document_number"


class SourceReliability(StrEnum):
    """Admiralty (NATO AJP-2.1) source reliability."""

    A = "A"  # completely reliable
    B = "B"  # usually reliable
    C = "C"  # fairly reliable
    D = "D"  # not usually reliable
    E = "E"  # unreliable
    F = "F"  # reliability cannot be judged


class InformationCredibility(StrEnum):
    """Admiralty (NATO AJP-2.1) information credibility."""

    CONFIRMED = "1"
    PROBABLY_TRUE = "2"
    POSSIBLY_TRUE = "3"
    DOUBTFUL = "4"
    IMPROBABLE = "5"
    CANNOT_BE_JUDGED = "6"


class EvidenceKind(StrEnum):
    FILE = "file"
    PHYSICAL = "physical"


class TaskStatus(StrEnum):
    PROPOSED = "proposed"
    ACCEPTED = "accepted"
    IN_PROGRESS = "in_progress"
    BLOCKED = "blocked"
    DONE = "done"
    CANCELLED = "cancelled"


class ActivityArea(StrEnum):
    """The activity taxonomy; axes in ``ACTIVITY_AXES``."""

    OPERATIONS_AGAINST_OC = "operations_against_oc"
    OPERATIONAL_SUPPORT_LOCAL_LE = "operational_support_local_le"
    INFORMATION_GATHERING = "information_gathering"
    POLICE_CAPACITY_BUILDING = "police_capacity_building"
    JUSTICE_SUPPORT = "justice_support"
    BORDER_CONTROL = "border_control"
    ADVICE_TO_GOVERNMENT = "advice_to_government"
    RESOURCE_GOVERNANCE = "resource_governance"
    SUPPLY_CHAIN_SANCTIONS = "supply_chain_sanctions"
    REGIONAL_COOPERATION = "regional_cooperation"
    AWARENESS_RESILIENCE = "awareness_resilience"
    DDR_EMPLOYMENT = "ddr_employment"
    DEMAND_REDUCTION = "demand_reduction"


class CrimeAxis(StrEnum):
    CONSEQUENCES = "consequences"
    DRIVERS = "drivers"


class ActionAxis(StrEnum):
    DIRECT = "direct"
    INDIRECT = "indirect"


ACTIVITY_AXES: dict[ActivityArea, tuple[CrimeAxis, ActionAxis]] = {
    ActivityArea.OPERATIONS_AGAINST_OC: (CrimeAxis.CONSEQUENCES, ActionAxis.DIRECT),
    ActivityArea.OPERATIONAL_SUPPORT_LOCAL_LE: (CrimeAxis.CONSEQUENCES, ActionAxis.INDIRECT),
    ActivityArea.INFORMATION_GATHERING: (CrimeAxis.CONSEQUENCES, ActionAxis.DIRECT),
    ActivityArea.POLICE_CAPACITY_BUILDING: (CrimeAxis.CONSEQUENCES, ActionAxis.INDIRECT),
    ActivityArea.JUSTICE_SUPPORT: (CrimeAxis.CONSEQUENCES, ActionAxis.INDIRECT),
    ActivityArea.BORDER_CONTROL: (CrimeAxis.CONSEQUENCES, ActionAxis.DIRECT),
    ActivityArea.ADVICE_TO_GOVERNMENT: (CrimeAxis.DRIVERS, ActionAxis.INDIRECT),
    ActivityArea.RESOURCE_GOVERNANCE: (CrimeAxis.DRIVERS, ActionAxis.INDIRECT),
    ActivityArea.SUPPLY_CHAIN_SANCTIONS: (CrimeAxis.DRIVERS, ActionAxis.DIRECT),
    ActivityArea.REGIONAL_COOPERATION: (CrimeAxis.CONSEQUENCES, ActionAxis.INDIRECT),
    ActivityArea.AWARENESS_RESILIENCE: (CrimeAxis.DRIVERS, ActionAxis.INDIRECT),
    ActivityArea.DDR_EMPLOYMENT: (CrimeAxis.DRIVERS, ActionAxis.DIRECT),
    ActivityArea.DEMAND_REDUCTION: (CrimeAxis.DRIVERS, ActionAxis.DIRECT),
}


class ResponsibilityRole(StrEnum):
    LEAD = "lead"
    SUPPORT = "support"
    CONSULTED = "consulted"
    INFORMED = "informed"


class OperationKind(StrEnum):
    RAID = "raid"
    ARREST = "arrest"
    SEARCH = "search"
    PATROL = "patrol"
    SURVEILLANCE = "surveillance"


class OperationStatus(StrEnum):
    PLANNED = "planned"
    ACTIVE = "active"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class AccessRequestStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"


class HandoverKind(StrEnum):
    MISSION = "mission"  # one mission to its successor
    ROTATION = "rotation"  # one position holder to the next, at the end of a tour


class HandoverStatus(StrEnum):
    DRAFT = "draft"
    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"
    REVIEWED = "reviewed"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class LineKind(StrEnum):
    CASE = "case"
    EVIDENCE = "evidence"
    NOTE = "note"
    INTEL_ITEM = "intel_item"
    TASK = "task"
    RESPONSIBILITY = "responsibility"
    POSITION = "position"
    CHECKLIST = "checklist"


class Disposition(StrEnum):
    OPEN = "open"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    CLOSED = "closed"  # closed before handover
    WITHHELD = "withheld"


class DeclineOutcome(StrEnum):
    """What happens to a declined line instead of moving."""

    RETAINED = "retained"
    ARCHIVED = "archived"
    RETURNED_TO_ORIGINATOR = "returned_to_originator"


class ConsentStatus(StrEnum):
    NOT_REQUIRED = "not_required"
    PENDING = "pending"
    GRANTED = "granted"
    REFUSED = "refused"


class HitKind(StrEnum):
    SELECTOR = "selector"
    OPERATION = "operation"


class HitStatus(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class HitOutcome(StrEnum):
    """What came of a hit, as the side that resolves it records it."""

    CONTACT_MADE = "contact_made"
    OPERATION_DECONFLICTED = "operation_deconflicted"
    JOINT_ACTION = "joint_action"
    NO_CONFLICT = "no_conflict"
    OPERATION_CANCELLED = "operation_cancelled"
    OTHER = "other"


class TransferStatus(StrEnum):
    OFFERED = "offered"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"


class NotificationKind(StrEnum):
    DECONFLICTION_HIT = "deconfliction_hit"
    TASK_ASSIGNED = "task_assigned"
    TASK_UNASSIGNED = "task_unassigned"
    ACCESS_REQUEST = "access_request"
    RESPONSIBILITY_TRANSFER = "responsibility_transfer"
    # Reserved for the handover work: rows of these kinds use the same table.
    HANDOVER_EVENT = "handover_event"
    CONSENT_REQUEST = "consent_request"

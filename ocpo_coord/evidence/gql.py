"""GraphQL: evidence and documents."""

from typing import Annotated

import strawberry
import strawberry.experimental.pydantic as spy

from ocpo_coord.evidence import service
from ocpo_coord.evidence.schemas import (
    CustodyEventPublic,
    CustodyTransfer,
    EvidenceCreate,
    EvidencePublic,
    EvidenceUpdate,
)
from ocpo_coord.gql.common import ErrorTypes, Node, partial_input
from ocpo_coord.gql.node import node_type
from ocpo_coord.gql.records import create_mutation, update_mutation
from ocpo_coord.models.enums import RecordKind
from ocpo_coord.records.gql import Markings


@spy.type(model=CustodyEventPublic, all_fields=True, name="CustodyEvent")
class CustodyEvent:
    pass


@node_type(RecordKind.EVIDENCE)
@spy.type(model=EvidencePublic, all_fields=True, name="Evidence")
class Evidence(Node):
    id: strawberry.ID
    markings: Markings


@spy.input(model=CustodyTransfer, all_fields=True, name="CustodyTransferInput")
class CustodyTransferInput:
    pass


@spy.input(model=EvidenceCreate, all_fields=True, name="CreateEvidenceInput")
class CreateEvidenceInput:
    pass


@partial_input
@spy.input(model=EvidenceUpdate, all_fields=True, name="UpdateEvidenceInput")
class UpdateEvidenceInput:
    id: strawberry.ID


@strawberry.type
class EvidencePayload:
    evidence: Evidence


EvidenceResult = Annotated[EvidencePayload | ErrorTypes, strawberry.union("EvidenceResult")]


def _payload(evidence: Evidence) -> EvidencePayload:
    return EvidencePayload(evidence=evidence)


@strawberry.type
class EvidenceMutation:
    create_evidence = create_mutation(
        _payload, EvidenceResult, Evidence, CreateEvidenceInput, EvidenceCreate, service.create_evidence
    )

    update_evidence = update_mutation(
        _payload,
        EvidenceResult,
        Evidence,
        UpdateEvidenceInput,
        EvidenceUpdate,
        "evidence",
        "evidence_id",
        service.update_evidence,
    )

"""Payloads of the audit log's checkpoints, proofs and witnesses."""

from datetime import datetime

from pydantic import BaseModel, Field


class CheckpointPublic(BaseModel):
    size: int
    root_hash: str = Field(description="Base64, as in the checkpoint.")
    note: str = Field(description="The C2SP signed note: the checkpoint, its signature, its cosignatures.")
    cosigned_by: list[str]


class CosignatureIn(BaseModel):
    note: str = Field(
        max_length=20_000,
        description="A checkpoint this log issued, as a signed note carrying the witness's cosignature.",
    )


class CosigningPublic(BaseModel):
    witness: str
    size: int
    at: datetime


class CosignaturesAccepted(BaseModel):
    size: int
    witnesses: list[str]

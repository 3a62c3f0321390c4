"""A witness, run by an agency's own auditor: checks that the log only grows, cosigns.

It keeps, in a state file of its own, the log's key and the last checkpoint it
cosigned. Each run fetches the latest checkpoint, checks the log's signature and a
consistency proof from the kept checkpoint to it, cosigns it (C2SP tlog-cosignature)
and posts the cosignature back. A log that is not an extension of what the witness
saw (rewritten, truncated, forked) is refused, naming both sizes: the witness keeps
its state and signs nothing.
"""

import base64
import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

from ocpo_coord.audit import merkle
from ocpo_coord.audit.note import Checkpoint, Note, NoteError, Signer, Verifier


class WitnessRefusal(Exception):
    """The log is not an extension of what this witness saw: nothing was signed."""


class WitnessError(Exception):
    """The witness could not do its work (network, bad state file, bad answer)."""


@dataclass
class WitnessState:
    origin: str
    log_key: str
    size: int
    root: str  # base64

    @classmethod
    def load(cls, path: Path) -> "WitnessState | None":
        if not path.exists():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            state = cls(str(data["origin"]), str(data["log_key"]), int(data["size"]), str(data["root"]))
            Verifier.parse(state.log_key)
            base64.b64decode(state.root, validate=True)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise WitnessError(f"state file {path} is unreadable: {exc}") from None
        return state

    def save(self, path: Path) -> None:
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, path)


async def _get_text(client: httpx.AsyncClient, path: str, **params: int) -> str:
    try:
        response = await client.get(path, params=params)
    except httpx.HTTPError as exc:
        raise WitnessError(f"cannot reach the log: {exc}") from None
    if response.status_code != 200:
        raise WitnessError(f"{path} answered {response.status_code}: {response.text[:200]}")
    return response.text


def _proof(text: str) -> list[bytes]:
    try:
        return [base64.b64decode(line, validate=True) for line in text.splitlines() if line]
    except ValueError:
        raise WitnessError("the consistency proof is not base64 hashes, one per line") from None


async def witness(
    client: httpx.AsyncClient, *, state_path: Path, signer: Signer, log_key: str | None = None
) -> str:
    """One round: what was cosigned, as a sentence; raises ``WitnessRefusal`` or
    ``WitnessError``."""
    state = WitnessState.load(state_path)
    if state is not None and log_key is not None and log_key.strip() != state.log_key:
        raise WitnessError("the log key given is not the one in the state file")
    key = (
        state.log_key if state is not None else (log_key or await _get_text(client, "/api/v1/audit/log-key"))
    )
    try:
        verifier = Verifier.parse(key)
        note = Note.parse(await _get_text(client, "/api/v1/audit/checkpoint"))
        checkpoint = Checkpoint.parse(note.text)
    except NoteError as exc:
        raise WitnessError(f"the log's checkpoint is malformed: {exc}") from None
    if checkpoint.origin != verifier.name:
        raise WitnessError(
            f"the checkpoint is of {checkpoint.origin!r}, this witness watches {verifier.name!r}"
        )
    try:
        note.signed_by(verifier)
    except NoteError as exc:
        raise WitnessRefusal(
            f"the checkpoint of size {checkpoint.size} is not signed by the log: {exc}"
        ) from None
    if state is not None:
        kept_root = base64.b64decode(state.root)
        if checkpoint.size < state.size:
            raise WitnessRefusal(
                f"the log shrank: its checkpoint has size {checkpoint.size}, this witness cosigned size {state.size}"
            )
        proof = (
            []
            if checkpoint.size == state.size
            else _proof(
                await _get_text(client, "/api/v1/audit/consistency", first=state.size, second=checkpoint.size)
            )
        )
        try:
            merkle.verify_consistency(state.size, checkpoint.size, proof, kept_root, checkpoint.root)
        except merkle.ProofError as exc:
            raise WitnessRefusal(
                f"the log of size {checkpoint.size} is not an extension of the log of size {state.size} "
                f"this witness cosigned: {exc}"
            ) from None
    line = signer.cosign_line(note.text, int(time.time()))
    try:
        response = await client.post("/api/v1/audit/cosignatures", json={"note": note.text + "\n" + line})
    except httpx.HTTPError as exc:
        raise WitnessError(f"cannot reach the log: {exc}") from None
    if response.status_code != 200:
        raise WitnessError(f"the log refused the cosignature ({response.status_code}): {response.text[:300]}")
    WitnessState(
        checkpoint.origin, verifier.text(), checkpoint.size, base64.b64encode(checkpoint.root).decode()
    ).save(state_path)
    previous = "" if state is None else f", consistent with size {state.size}"
    return f"cosigned {checkpoint.origin} at size {checkpoint.size}{previous}"
